package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// Requestable returns one of the tenant's resources in the catalog (not
// retired), or apperr.NotFound, exactly as for a missing one.
func (s *RequestStore) Requestable(ctx context.Context, tenantID, id string) (approvals.Resource, error) {
	r, err := s.Resource(ctx, tenantID, id)
	if err == nil && r.Retired() {
		return approvals.Resource{}, errNoResource
	}
	return r, err
}

// RetiredResources returns the tenant's retired resources, most recently
// retired first.
func (s *RequestStore) RetiredResources(ctx context.Context, tenantID string) ([]approvals.Resource, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoResource
	}
	return resourceList(db.New(s.pool).ListRetiredResources(ctx, tid))
}

// ResourceInUse counts what keeps the tenant's resource id in use (see
// approvals.InUse), or returns apperr.NotFound.
func (s *RequestStore) ResourceInUse(ctx context.Context, tenantID, id string) (approvals.InUse, error) {
	tid, rid, err := parseIDs(tenantID, id, errNoResource)
	if err != nil {
		return approvals.InUse{}, err
	}
	return inUse(ctx, db.New(s.pool), tid, rid)
}

func inUse(ctx context.Context, q *db.Queries, tid, rid uuid.UUID) (approvals.InUse, error) {
	var states, shares []string
	for _, st := range approvals.RequestStatesInUse() {
		states = append(states, string(st))
	}
	for _, st := range approvals.ShareStatesInUse() {
		shares = append(shares, string(st))
	}
	n, err := q.CountResourceInUse(ctx, db.CountResourceInUseParams{TenantID: tid, ID: rid, RequestStates: states, ShareStates: shares})
	if err != nil {
		return approvals.InUse{}, err
	}
	return approvals.InUse{Requests: int(n.Requests), Grants: int(n.Grants), Shares: int(n.Shares), Rotation: n.Rotation, Replicas: int(n.Replicas)}, nil
}

// lockResource locks the tenant's resource rid FOR UPDATE and returns it,
// or apperr.NotFound.
func lockResource(ctx context.Context, q *db.Queries, tid, rid uuid.UUID) (approvals.Resource, error) {
	row, err := q.LockResource(ctx, db.LockResourceParams{ID: rid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.Resource{}, errNoResource
	}
	if err != nil {
		return approvals.Resource{}, err
	}
	return resourceFrom(row)
}

// withResource runs fn in a transaction on pool with the tenant's resource
// id locked FOR UPDATE (lockResource, as a retire locks it), passing the
// resource and its parsed IDs. A malformed ID or no such resource in the
// tenant is apperr.NotFound; otherwise it returns fn's error.
func withResource(ctx context.Context, pool *pgxpool.Pool, tenantID, id string,
	fn func(q *db.Queries, r approvals.Resource, tid, rid uuid.UUID) error) error {
	tid, rid, err := parseIDs(tenantID, id, errNoResource)
	if err != nil {
		return err
	}
	return InTx(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		r, err := lockResource(ctx, q, tid, rid)
		if err != nil {
			return err
		}
		return fn(q, r, tid, rid)
	})
}

// EditResource changes the details of the tenant's resource (retired or
// not) by approvals.EditDetails, with one resource.updated audit event in
// the same transaction naming each field changed, old and new. A follower
// of its classification's policy that changes classification takes the
// new classification's policy (locked FOR SHARE first, the order every
// path takes: classification policy, then resource). Nothing is written
// when nothing changed. It returns apperr.NotFound for no such resource in
// the tenant, and the domain's apperr.Invalid for bad details (nothing
// changes then).
func (s *RequestStore) EditResource(ctx context.Context, tenantID, id string, d approvals.ResourceDetails, actor string, meta audit.Meta) error {
	tid, rid, err := parseIDs(tenantID, id, errNoResource)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		var classPolicy *approvals.Policy
		if d.Classification.Valid() {
			raw, err := q.LockClassPolicy(ctx, db.LockClassPolicyParams{TenantID: tid, Classification: string(d.Classification)})
			switch {
			case err == nil:
				classPolicy = &approvals.Policy{}
				if err := json.Unmarshal(raw, classPolicy); err != nil {
					return err
				}
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		old, err := lockResource(ctx, q, tid, rid)
		if err != nil {
			return err
		}
		next, changes, err := approvals.EditDetails(old, d, classPolicy)
		if err != nil || len(changes) == 0 {
			return err
		}
		policy, err := json.Marshal(next.Policy)
		if err != nil {
			return err
		}
		if err := q.UpdateResourceDetails(ctx, db.UpdateResourceDetailsParams{ID: rid, TenantID: tid, Name: next.Name, Description: next.Description,
			OwnerTeam: next.OwnerTeam, Classification: string(next.Classification), Policy: policy}); err != nil {
			return err
		}
		detail := map[string]string{"name": next.Name, "secret": next.Mount + "/" + next.Path}
		fields := make([]string, 0, len(changes))
		for _, c := range changes {
			fields = append(fields, c.Field)
			detail[c.Field+".old"], detail[c.Field+".new"] = c.Old, c.New
		}
		detail["changed"] = strings.Join(fields, ",")
		if next.PolicyFromClass && next.Classification != old.Classification {
			detail["policy_source"], detail["policy"] = "classification "+string(next.Classification), string(policy)
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "resource.updated",
			Target: id, Outcome: audit.Success, Detail: detail}))
	})
}

// RetireResource takes the tenant's resource out of the catalog, audited
// (resource.retired, with the reason) in the same transaction, when
// approvals.CheckRetire allows: confirm must be its name and reason given
// (apperr.Invalid), and nothing may be in use (apperr.Conflict naming
// what). The row is locked FOR UPDATE before counting, so a request,
// break-glass or share racing the retire either commits first and is
// counted, or waits and finds the resource retired (LockLiveResource).
// apperr.NotFound for no such resource in the tenant.
func (s *RequestStore) RetireResource(ctx context.Context, tenantID, id, confirm, reason, actor string, meta audit.Meta) error {
	reason = strings.TrimSpace(reason)
	return withResource(ctx, s.pool, tenantID, id, func(q *db.Queries, r approvals.Resource, tid, rid uuid.UUID) error {
		u, err := inUse(ctx, q, tid, rid)
		if err != nil {
			return err
		}
		if err := approvals.CheckRetire(r, confirm, reason, u); err != nil {
			return err
		}
		now := s.now()
		if err := q.SetResourceRetired(ctx, db.SetResourceRetiredParams{ID: rid, TenantID: tid, At: timestamptz(now), By: actor, Reason: reason}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "resource.retired", Target: id,
			Outcome: audit.Success, Detail: map[string]string{"name": r.Name, "secret": r.Mount + "/" + r.Path, "reason": reason}}))
	})
}

// RestoreResource puts the tenant's retired resource back in the catalog,
// with its details and policy as they are, audited (resource.restored,
// with reason). apperr.Invalid for a missing or overlong reason;
// apperr.Conflict when it is not retired; apperr.NotFound for no such
// resource in the tenant.
func (s *RequestStore) RestoreResource(ctx context.Context, tenantID, id, reason, actor string, meta audit.Meta) error {
	reason = strings.TrimSpace(reason)
	return withResource(ctx, s.pool, tenantID, id, func(q *db.Queries, r approvals.Resource, tid, rid uuid.UUID) error {
		if err := approvals.CheckRestore(r, reason); err != nil {
			return err
		}
		if err := q.SetResourceRetired(ctx, db.SetResourceRetiredParams{ID: rid, TenantID: tid, At: pgtype.Timestamptz{}}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "resource.restored", Target: id,
			Outcome: audit.Success, Detail: map[string]string{"name": r.Name, "secret": r.Mount + "/" + r.Path, "retired_at": r.RetiredAt.UTC().Format(time.RFC3339), "reason": reason}}))
	})
}

// lockLiveResource is LockLiveResource: the tenant's resource in the
// catalog, locked (FOR KEY SHARE) against a retire, or errNoResource
// (missing, another tenant's, or retired).
func lockLiveResource(ctx context.Context, q *db.Queries, tid, rid uuid.UUID) (db.Resource, error) {
	row, err := q.LockLiveResource(ctx, db.LockLiveResourceParams{ID: rid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return row, errNoResource
	}
	return row, err
}
