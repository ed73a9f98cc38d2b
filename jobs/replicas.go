package jobs

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/tenants"
)

// Scheduled rotation and replication of secrets to cloud stores.

// ReplicaStore keeps rotation schedules and replicas (postgres.BindingStore).
type ReplicaStore interface {
	ClaimDueRotations(ctx context.Context, now time.Time) ([]DueRotation, error)
	RotationSchedule(ctx context.Context, tenantID, resourceID string) (*tenants.RotationSchedule, error)
	RecordRotationRun(ctx context.Context, resourceID, version, runErr string) error
	AllSyncTargets(ctx context.Context) ([][2]string, error)
	SyncTarget(ctx context.Context, tenantID, id string) (tenants.SyncTarget, error)
	RecordSync(ctx context.Context, t tenants.SyncTarget, wrote bool) error
}

// DueRotation is a scheduled rotation whose time has come.
type DueRotation struct{ TenantID, ResourceID string }

// Rotator rotates a secret of a cloud binding (stores.Service).
type Rotator interface {
	Rotate(ctx context.Context, tenantID, bindingID string, r stores.Rotation, actor string, meta audit.Meta) (stores.Rotated, error)
}

// ResourceReader reads a catalog resource (the request store).
type ResourceReader interface {
	Resource(ctx context.Context, tenantID, id string) (approvals.Resource, error)
}

// RotateDueArgs is the periodic claim of due rotations.
type RotateDueArgs struct{}

// Kind names the job in River's tables.
func (RotateDueArgs) Kind() string { return "rotate_due" }

// RotateDueWorker claims due schedules and enqueues one rotation each.
type RotateDueWorker struct {
	river.WorkerDefaults[RotateDueArgs]
	Store ReplicaStore
	Now   func() time.Time
}

// Work claims and enqueues.
func (w *RotateDueWorker) Work(ctx context.Context, _ *river.Job[RotateDueArgs]) error {
	due, err := w.Store.ClaimDueRotations(ctx, w.Now())
	if err != nil {
		return err
	}
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	for _, d := range due {
		if _, err := c.Insert(ctx, RotateResourceArgs{TenantID: d.TenantID, ResourceID: d.ResourceID}, nil); err != nil {
			return err
		}
	}
	return nil
}

// RotateResourceArgs rotates one scheduled resource.
type RotateResourceArgs struct {
	TenantID   string `json:"tenant_id"`
	ResourceID string `json:"resource_id"`
}

// Kind names the job in River's tables.
func (RotateResourceArgs) Kind() string { return "rotate_resource" }

// RotateResourceWorker runs one scheduled rotation (generated value,
// verification, rollback: see stores.Service.Rotate) and records it. A
// refused verification is recorded, not retried: the next period tries
// again.
type RotateResourceWorker struct {
	river.WorkerDefaults[RotateResourceArgs]
	Store     ReplicaStore
	Resources ResourceReader
	Rotator   Rotator
}

// Work rotates.
func (w *RotateResourceWorker) Work(ctx context.Context, job *river.Job[RotateResourceArgs]) error {
	s, err := w.Store.RotationSchedule(ctx, job.Args.TenantID, job.Args.ResourceID)
	if err != nil || s == nil {
		return err // removed since: nothing to do
	}
	res, err := w.Resources.Resource(ctx, job.Args.TenantID, job.Args.ResourceID)
	if err != nil {
		return err
	}
	r, err := w.Rotator.Rotate(ctx, job.Args.TenantID, res.BindingID, stores.Rotation{Secret: res.Path,
		Generator: secretstores.Generator{Length: s.Length, Alphabet: secretstores.AlphabetNamed(s.Alphabet)}, VerifyURL: s.VerifyURL}, "system (schedule)", audit.Meta{})
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if rerr := w.Store.RecordRotationRun(ctx, job.Args.ResourceID, r.Current, msg); rerr != nil {
		return rerr
	}
	if err != nil && !errors.Is(err, stores.ErrVerification) && job.Attempt < 5 {
		return err // the store was unreachable: retry soon
	}
	return nil
}

// SyncAllArgs is the periodic sync of every replica.
type SyncAllArgs struct{}

// Kind names the job in River's tables.
func (SyncAllArgs) Kind() string { return "sync_all" }

// SyncAllWorker enqueues a sync of every live replica.
type SyncAllWorker struct {
	river.WorkerDefaults[SyncAllArgs]
	Store ReplicaStore
}

// Work enqueues.
func (w *SyncAllWorker) Work(ctx context.Context, _ *river.Job[SyncAllArgs]) error {
	all, err := w.Store.AllSyncTargets(ctx)
	if err != nil {
		return err
	}
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	for _, t := range all {
		if _, err := c.Insert(ctx, SyncSecretArgs{TenantID: t[0], TargetID: t[1]}, nil); err != nil {
			return err
		}
	}
	return nil
}

// SyncSecretArgs syncs one replica; Force overwrites a drifted one.
type SyncSecretArgs struct {
	TenantID string `json:"tenant_id"`
	TargetID string `json:"target_id"`
	Force    bool   `json:"force,omitempty"`
}

// Kind names the job in River's tables.
func (SyncSecretArgs) Kind() string { return "sync_secret" }

// InsertOpts makes syncs of one replica waiting or running at once one job
// (a finished one does not count: the next period syncs again).
func (SyncSecretArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: nonFinalStates()}}
}

// nonFinalStates are the states in which a job still waits or runs: a job
// unique by them may run again once the last one finished.
func nonFinalStates() []rivertype.JobState {
	return []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}
}

// SyncSecretWorker copies a Vault secret to its replica when the source
// changed or the replica is missing, reports a replica changed outside
// Gatehouse as drifted (values are compared, never kept or shown), and
// records the outcome. Store errors are recorded and retried with backoff.
type SyncSecretWorker struct {
	river.WorkerDefaults[SyncSecretArgs]
	Store   ReplicaStore
	Sources func(mount, tenantID string) secretstores.Store // the tenant's Vault mount
	Clouds  CloudStores
}

// Work syncs.
func (w *SyncSecretWorker) Work(ctx context.Context, job *river.Job[SyncSecretArgs]) error {
	t, err := w.Store.SyncTarget(ctx, job.Args.TenantID, job.Args.TargetID)
	if err != nil || t.State == tenants.SyncPurged {
		return err
	}
	wrote, err := w.sync(ctx, &t, job.Args.Force)
	if err != nil {
		t.State, t.Detail = tenants.SyncFailed, err.Error()
	}
	if rerr := w.Store.RecordSync(ctx, t, wrote); rerr != nil {
		return rerr
	}
	return err
}

func (w *SyncSecretWorker) sync(ctx context.Context, t *tenants.SyncTarget, force bool) (bool, error) {
	src := w.Sources(t.SourceMount, t.TenantID)
	m, err := src.Describe(ctx, t.SourcePath)
	if err != nil {
		return false, fmt.Errorf("reading the source: %w", err)
	}
	value, err := src.ReadVersion(ctx, t.SourcePath, m.CurrentVersion)
	if err != nil {
		return false, fmt.Errorf("reading the source: %w", err)
	}
	wrote := false
	err = w.Clouds.WithCloudStore(ctx, t.TenantID, t.BindingID, func(st secretstores.Store) error {
		var r tenants.Replica
		rm, err := st.Describe(ctx, t.TargetName)
		switch {
		case errors.Is(err, secretstores.ErrNotFound):
		case err != nil:
			return fmt.Errorf("reading the replica: %w", err)
		default:
			cur, err := st.Read(ctx, t.TargetName)
			if err != nil {
				return fmt.Errorf("reading the replica: %w", err)
			}
			r = tenants.Replica{Exists: true, Version: rm.CurrentVersion, ValueEquals: subtle.ConstantTimeCompare([]byte(cur), []byte(value)) == 1}
		}
		plan := tenants.PlanSync(*t, m.CurrentVersion, r, force)
		t.State, t.Detail = plan.State, plan.Detail
		if plan.State == tenants.SyncDrifted {
			return nil
		}
		t.SourceVersion, t.TargetVersion = m.CurrentVersion, r.Version
		if plan.Write {
			v, err := st.Write(ctx, t.TargetName, value)
			if err != nil {
				return fmt.Errorf("writing the replica: %w", err)
			}
			t.TargetVersion, wrote = v, true
		}
		return nil
	})
	return wrote, err
}

// SyncQueue enqueues replica syncs with an inserter (stores.SyncQueue).
type SyncQueue struct{ Jobs Inserter }

// EnqueueSync inserts a sync job of the replica.
func (q SyncQueue) EnqueueSync(ctx context.Context, tenantID, targetID string, force bool) error {
	_, err := q.Jobs.Insert(ctx, SyncSecretArgs{TenantID: tenantID, TargetID: targetID, Force: force}, nil)
	return err
}
