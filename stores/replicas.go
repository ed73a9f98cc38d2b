package stores

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/tenants"
)

// Replicas keeps replicas and rotation schedules (postgres.BindingStore).
type Replicas interface {
	AddSyncTarget(ctx context.Context, t tenants.SyncTarget, actor string, meta audit.Meta) (string, error)
	SyncTargets(ctx context.Context, tenantID string) ([]tenants.SyncTarget, error)
	SyncTarget(ctx context.Context, tenantID, id string) (tenants.SyncTarget, error)
	RecordSync(ctx context.Context, t tenants.SyncTarget, wrote bool) error
	SetRotationSchedule(ctx context.Context, tenantID string, r tenants.RotationSchedule, actor string, meta audit.Meta) error
	StopRotation(ctx context.Context, tenantID, resourceID, actor string, meta audit.Meta) error
	RotationSchedule(ctx context.Context, tenantID, resourceID string) (*tenants.RotationSchedule, error)
}

// SyncQueue enqueues a replica's sync as a durable job (jobs.SyncQueue).
type SyncQueue interface {
	EnqueueSync(ctx context.Context, tenantID, targetID string, force bool) error
}

// AddReplica records a replica of a Vault secret of the catalog in one of
// the tenant's cloud bindings and enqueues its first sync. Invalid input is
// apperr.Invalid and records nothing.
func (s *Service) AddReplica(ctx context.Context, t tenants.SyncTarget, actor string, meta audit.Meta) (string, error) {
	t.TargetName = strings.TrimSpace(t.TargetName)
	id, err := s.Replicas.AddSyncTarget(ctx, t, actor, meta)
	if err != nil {
		return "", err
	}
	return id, s.SyncNow(ctx, t.TenantID, id, false)
}

// SyncNow enqueues a sync of the tenant's replica; force overwrites a
// replica changed outside Gatehouse. Another tenant's replica is
// apperr.NotFound.
func (s *Service) SyncNow(ctx context.Context, tenantID, id string, force bool) error {
	if _, err := s.Replicas.SyncTarget(ctx, tenantID, id); err != nil {
		return err
	}
	if err := s.Queue.EnqueueSync(ctx, tenantID, id, force); err != nil {
		return apperr.Wrap(apperr.Unavailable, "The sync could not be queued right now; the periodic sync will run it.", err)
	}
	return nil
}

// Purge deletes the replica from its cloud store (recoverably where the
// store allows) and marks it purged: the step after the source was
// revoked or deleted. Another tenant's replica is apperr.NotFound.
func (s *Service) Purge(ctx context.Context, tenantID, id string) error {
	t, err := s.Replicas.SyncTarget(ctx, tenantID, id)
	if err != nil {
		return err
	}
	err = s.WithCloudStore(ctx, tenantID, t.BindingID, func(st secretstores.Store) error {
		d, ok := st.(secretstores.Deleter)
		if !ok {
			return errors.New("this store cannot delete secrets")
		}
		return d.Delete(ctx, t.TargetName)
	})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The replica could not be deleted: "+err.Error(), err)
	}
	t.State, t.Detail = tenants.SyncPurged, "Deleted from the store."
	return s.Replicas.RecordSync(ctx, t, false)
}
