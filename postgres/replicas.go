package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// Rotation schedules and replicas (sync targets) of cloud secrets, kept by
// the binding store. Every read and write is scoped to the tenant.

var (
	errNoSyncTarget = apperr.New(apperr.NotFound, "There is no such replica in your organization.")
	errNotCloud     = apperr.InvalidFields("The rotation schedule needs correcting.", map[string]string{"resource": "Scheduled rotation is for secrets in a cloud store binding."})
)

// SetRotationSchedule creates or replaces the rotation schedule of one of
// the tenant's cloud resources (first run one period from now), audited.
// The resource is locked as a retire locks it, so a schedule and a retire
// in flight are ordered: a retired resource's schedule is refused
// (apperr.Conflict), and a schedule saved first keeps the retire refused.
// apperr.NotFound for no such resource in the tenant; apperr.Invalid for
// a bad schedule or a resource not in a cloud store.
func (s *BindingStore) SetRotationSchedule(ctx context.Context, tenantID string, r tenants.RotationSchedule, actor string, meta audit.Meta) error {
	if err := tenants.CheckRotationSchedule(r); err != nil {
		return err
	}
	return withResource(ctx, s.pool, tenantID, r.ResourceID, func(q *db.Queries, res approvals.Resource, tid, rid uuid.UUID) error {
		if !res.Cloud() {
			return errNotCloud
		}
		if res.Retired() {
			return apperr.New(apperr.Conflict, res.Name+" is retired: restore it to the catalog before scheduling its rotation.")
		}
		now := s.now()
		if err := q.UpsertRotationSchedule(ctx, db.UpsertRotationScheduleParams{ResourceID: rid, TenantID: tid, EverySeconds: int64(r.Every / time.Second),
			ValueLength: int32(r.Length), Alphabet: r.Alphabet, VerifyUrl: r.VerifyURL, NextAt: now.Add(r.Every), Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "rotation.scheduled",
			Target: res.Name, Outcome: audit.Success, Detail: map[string]string{"every": r.Every.String()}}))
	})
}

// StopRotation deletes the rotation schedule of one of the tenant's
// resources, retired or not, audited (rotation.stopped). A rotation the
// scheduler claimed already may still finish; none starts after. It
// returns apperr.NotFound for no such resource in the tenant, and
// apperr.Conflict when the resource has no schedule.
func (s *BindingStore) StopRotation(ctx context.Context, tenantID, resourceID, actor string, meta audit.Meta) error {
	return withResource(ctx, s.pool, tenantID, resourceID, func(q *db.Queries, res approvals.Resource, tid, rid uuid.UUID) error {
		stopped, err := q.DeleteRotationSchedule(ctx, db.DeleteRotationScheduleParams{ResourceID: rid, TenantID: tid})
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Conflict, res.Name+" has no rotation schedule to stop.")
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "rotation.stopped", Target: res.Name,
			Outcome: audit.Success, Detail: map[string]string{"every": (time.Duration(stopped.EverySeconds) * time.Second).String(), "last_version": stopped.LastVersion}}))
	})
}

// RotationSchedule returns the resource's schedule, or nil when it has none.
func (s *BindingStore) RotationSchedule(ctx context.Context, tenantID, resourceID string) (*tenants.RotationSchedule, error) {
	tid, rid, err := parseIDs(tenantID, resourceID, errNoResource)
	if err != nil {
		return nil, err
	}
	r, err := db.New(s.pool).GetRotationSchedule(ctx, db.GetRotationScheduleParams{ResourceID: rid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &tenants.RotationSchedule{ResourceID: resourceID, Every: time.Duration(r.EverySeconds) * time.Second, Length: int(r.ValueLength),
		Alphabet: r.Alphabet, VerifyURL: r.VerifyUrl, NextAt: r.NextAt, LastAt: r.LastAt.Time, LastVersion: r.LastVersion, LastError: r.LastError}, nil
}

// ClaimDueRotations returns up to 100 schedules due at now and moves each
// one's next run a period on, so every due rotation is claimed once.
func (s *BindingStore) ClaimDueRotations(ctx context.Context, now time.Time) ([]jobs.DueRotation, error) {
	rows, err := db.New(s.pool).ClaimDueRotations(ctx, now)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.DueRotation, 0, len(rows))
	for _, r := range rows {
		out = append(out, jobs.DueRotation{TenantID: r.TenantID.String(), ResourceID: r.ResourceID.String()})
	}
	return out, nil
}

// RecordRotationRun records a scheduled rotation's outcome.
func (s *BindingStore) RecordRotationRun(ctx context.Context, resourceID, version, runErr string) error {
	rid, err := uuid.Parse(resourceID)
	if err != nil {
		return errNoResource
	}
	return db.New(s.pool).RecordRotationRun(ctx, db.RecordRotationRunParams{ResourceID: rid, At: timestamptz(s.now()), Version: version, Error: runErr})
}

// AddSyncTarget records a replica of one of the tenant's Vault secrets in
// one of its cloud bindings, audited, and returns its ID. Anything not the
// tenant's, or a retired source, is apperr.Invalid naming the field; a
// taken target is a conflict. The source is locked as a retire locks it,
// so a replica added first keeps the retire refused.
func (s *BindingStore) AddSyncTarget(ctx context.Context, t tenants.SyncTarget, actor string, meta audit.Meta) (string, error) {
	tid, err := uuid.Parse(t.TenantID)
	if err != nil {
		return "", errNoSyncTarget
	}
	var id uuid.UUID
	err = InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		field := func(k, msg string) error {
			return apperr.InvalidFields("The replica needs correcting.", map[string]string{k: msg})
		}
		sid, err := uuid.Parse(t.SourceID)
		if err != nil {
			return field("source", "Pick one Vault secret of the catalog.")
		}
		src, err := lockResource(ctx, q, tid, sid) // as a retire does: the two are ordered
		if apperr.CodeOf(err) == apperr.NotFound || err == nil && (src.Cloud() || src.Retired()) {
			return field("source", "Pick one Vault secret of the catalog.")
		}
		if err != nil {
			return err
		}
		t.SourceMount, t.SourcePath = src.Mount, src.Path
		if _, err := cloudBinding(ctx, q, tid, t.BindingID); err != nil {
			return err
		}
		if err := tenants.CheckSyncTarget(t); err != nil {
			return err
		}
		id, err = q.InsertSyncTarget(ctx, db.InsertSyncTargetParams{TenantID: tid, SourceID: sid, BindingID: uuid.MustParse(t.BindingID), TargetName: t.TargetName, Actor: actor})
		if err != nil {
			return conflictOr(err, "sync_targets_binding_id_target_name_key", "target_name", "That secret is a replica already.")
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: t.TenantID, Actor: actor, Action: "replica.added",
			Target: src.Name + " → " + t.TargetName, Outcome: audit.Success, Detail: map[string]string{"binding": t.BindingID}}))
	})
	return id.String(), err
}

// SyncTargets returns the tenant's replicas.
func (s *BindingStore) SyncTargets(ctx context.Context, tenantID string) ([]tenants.SyncTarget, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, nil
	}
	rows, err := db.New(s.pool).ListSyncTargets(ctx, tid)
	if err != nil {
		return nil, err
	}
	out := make([]tenants.SyncTarget, 0, len(rows))
	for _, r := range rows {
		out = append(out, syncTargetFrom(db.GetSyncTargetRow(r)))
	}
	return out, nil
}

// SyncTarget returns one of the tenant's replicas, or apperr.NotFound.
func (s *BindingStore) SyncTarget(ctx context.Context, tenantID, id string) (tenants.SyncTarget, error) {
	tid, sid, err := parseIDs(tenantID, id, errNoSyncTarget)
	if err != nil {
		return tenants.SyncTarget{}, err
	}
	r, err := db.New(s.pool).GetSyncTarget(ctx, db.GetSyncTargetParams{ID: sid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.SyncTarget{}, errNoSyncTarget
	}
	if err != nil {
		return tenants.SyncTarget{}, err
	}
	return syncTargetFrom(r), nil
}

// AllSyncTargets returns every tenant's live replicas, least recently
// checked first (the periodic sync), as (tenant, id) pairs.
func (s *BindingStore) AllSyncTargets(ctx context.Context) ([][2]string, error) {
	rows, err := db.New(s.pool).ListSyncTargetIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([][2]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, [2]string{r.TenantID.String(), r.ID.String()})
	}
	return out, nil
}

// RecordSync records a sync's outcome; a write, a new drift, a failure
// or a purge is audited (a quiet check is not).
func (s *BindingStore) RecordSync(ctx context.Context, t tenants.SyncTarget, wrote bool) error {
	tid, sid, err := parseIDs(t.TenantID, t.ID, errNoSyncTarget)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		prev, err := q.GetSyncTarget(ctx, db.GetSyncTargetParams{ID: sid, TenantID: tid})
		if err != nil {
			return err
		}
		now := s.now()
		if err := q.RecordSync(ctx, db.RecordSyncParams{ID: sid, State: string(t.State), SourceVersion: t.SourceVersion, TargetVersion: t.TargetVersion,
			Detail: t.Detail, CheckedAt: pgtype.Timestamptz{Time: now, Valid: true}}); err != nil {
			return err
		}
		if !wrote && prev.State == string(t.State) {
			return nil
		}
		ev := audit.Event{TenantID: t.TenantID, Actor: "system", Action: "replica." + string(t.State), Target: prev.SourceName + " → " + prev.TargetName,
			Outcome: audit.Success, Detail: map[string]string{"source_version": t.SourceVersion, "replica_version": t.TargetVersion}}
		if wrote {
			ev.Action = "replica.written"
		}
		if t.State == tenants.SyncFailed || t.State == tenants.SyncDrifted {
			ev.Outcome, ev.Detail["detail"] = audit.Failure, t.Detail
		}
		return appendAudit(ctx, q, now, ev)
	})
}

func syncTargetFrom(r db.GetSyncTargetRow) tenants.SyncTarget {
	return tenants.SyncTarget{ID: r.ID.String(), TenantID: r.TenantID.String(), SourceID: r.SourceID.String(), SourceName: r.SourceName,
		SourceMount: r.SourceMount, SourcePath: r.SourcePath, BindingID: r.BindingID.String(), BindingName: r.BindingName, TargetName: r.TargetName,
		State: tenants.SyncState(r.State), SourceVersion: r.SourceVersion, TargetVersion: r.TargetVersion, Detail: r.Detail, CheckedAt: r.CheckedAt.Time}
}
