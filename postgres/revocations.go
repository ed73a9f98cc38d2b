package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

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

var errNoScope = apperr.New(apperr.NotFound, "There is no such scope for you to revoke.")

var _ jobs.RevocationStore = (*RequestStore)(nil)

// resolve checks the scope exists and the viewer may act on it, and
// returns the scope's tenant. A user scope is a person by email: a platform
// operator's covers them in every tenant (uuid.Nil), a tenant admin's only
// in the admin's own tenant, so no organization can cut a person off in
// another. Anything else is errNoScope, exactly as for a missing scope.
func resolve(ctx context.Context, q *db.Queries, sc approvals.Scope, v approvals.Viewer) (uuid.UUID, error) {
	viewer, _ := uuid.Parse(v.TenantID)
	may := func(ts ...uuid.UUID) bool {
		if v.Operator {
			return true
		}
		for _, t := range ts {
			if t == viewer && t != uuid.Nil {
				return true
			}
		}
		return false
	}
	notFound := func(err error) (uuid.UUID, error) {
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, errNoScope
		}
		return uuid.Nil, err
	}
	switch sc.Kind {
	case approvals.ScopeTenant, approvals.ScopeIdP:
		if sc.Value == tenants.PlatformSlug {
			return uuid.Nil, apperr.InvalidFields("Check the scope.", map[string]string{"scope": "The platform organization cannot be frozen from here."})
		}
		id, err := q.GetTenantIDBySlug(ctx, sc.Value)
		if err != nil {
			return notFound(err)
		}
		if !may(id) {
			return uuid.Nil, errNoScope
		}
		return id, nil
	case approvals.ScopeGrant:
		r, err := q.GetRequestScope(ctx, uuid.MustParse(sc.Value))
		if err != nil {
			return notFound(err)
		}
		if !may(r.TenantID, uuidOr(r.RequesterTenantID)) {
			return uuid.Nil, errNoScope
		}
		return r.TenantID, nil
	case approvals.ScopeResource:
		t, err := q.GetResourceTenant(ctx, uuid.MustParse(sc.Value))
		if err != nil {
			return notFound(err)
		}
		if !may(t) {
			return uuid.Nil, errNoScope
		}
		return t, nil
	case approvals.ScopeShare:
		sh, err := q.GetShareTenants(ctx, uuid.MustParse(sc.Value))
		if err != nil {
			return notFound(err)
		}
		if !may(sh.OwnerTenantID, sh.RecipientTenantID) {
			return uuid.Nil, errNoScope
		}
		return sh.OwnerTenantID, nil
	case approvals.ScopeUser:
		ts, err := q.MemberTenants(ctx, sc.Value)
		if err != nil {
			return uuid.Nil, err
		}
		if len(ts) == 0 || !may(ts...) {
			return uuid.Nil, errNoScope
		}
		if v.Operator {
			return uuid.Nil, nil
		}
		return viewer, nil
	}
	return uuid.Nil, errNoScope
}

func scopeGrants(ctx context.Context, q *db.Queries, sc approvals.Scope, tenant uuid.UUID) ([]uuid.UUID, error) {
	return q.ListScopeGrants(ctx, db.ListScopeGrantsParams{Kind: string(sc.Kind), Value: sc.Value, TenantID: tenant})
}

// RevocationImpact says what revoking the scope would hit, for the viewer
// to confirm: sessions active in w, active grants, open shares,
// organizations affected.
func (s *RequestStore) RevocationImpact(ctx context.Context, sc approvals.Scope, v approvals.Viewer, w tenants.SessionWindow) (approvals.Impact, error) {
	q := db.New(s.pool)
	tenant, err := resolve(ctx, q, sc, v)
	if err != nil {
		return approvals.Impact{}, err
	}
	var im approvals.Impact
	var n int64
	switch sc.Kind {
	case approvals.ScopeTenant, approvals.ScopeIdP:
		n, err = q.CountTenantSessions(ctx, db.CountTenantSessionsParams{TenantID: tenant, Now: w.Now, IdleSince: w.IdleSince})
	case approvals.ScopeUser:
		n, err = q.CountUserSessions(ctx, db.CountUserSessionsParams{Email: sc.Value, EveryTenant: tenant == uuid.Nil, TenantID: tenant,
			Now: w.Now, IdleSince: w.IdleSince})
	}
	if err != nil {
		return im, err
	}
	im.Sessions = int(n)
	grants, err := scopeGrants(ctx, q, sc, tenant)
	if err != nil {
		return im, err
	}
	im.Grants = len(grants)
	switch sc.Kind {
	case approvals.ScopeTenant:
		n, err := q.CountActiveShares(ctx, tenant)
		if err != nil {
			return im, err
		}
		im.Shares = int(n)
	case approvals.ScopeShare:
		im.Shares = 1
	}
	affected, err := q.AffectedTenants(ctx, grants)
	if err != nil {
		return im, err
	}
	for _, t := range affected {
		im.Tenants = append(im.Tenants, t.DisplayName)
	}
	partners, err := sharePartners(ctx, q, sc, tenant)
	if err != nil {
		return im, err
	}
	shared := 0
	for _, p := range partners {
		shared += int(p.Shares)
		if !slices.Contains(im.Tenants, p.DisplayName) {
			im.Tenants = append(im.Tenants, p.DisplayName)
		}
	}
	if sc.Kind == approvals.ScopeResource || sc.Kind == approvals.ScopeIdP {
		im.Shares = shared
	}
	return im, nil
}

// StartRevocation blocks new access in the scope and ends its sessions in
// one transaction (under the exclusive revocation lock, so no access slips
// in between): a tenant is suspended, an IdP disabled, a share ended; the
// durable job that revokes and verifies every credential is enqueued in
// the same transaction. Audited; the organizations are told. It returns
// the revocation's ID.
func (s *RequestStore) StartRevocation(ctx context.Context, sc approvals.Scope, v approvals.Viewer, reason, actor string, rotate bool, meta audit.Meta) (string, error) {
	if rotate && sc.Kind != approvals.ScopeResource {
		return "", apperr.InvalidFields("Check the options.", map[string]string{"rotate": "Rotation applies to a resource scope."})
	}
	var id uuid.UUID
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockBlocksExclusive(ctx, tx); err != nil {
			return err
		}
		q := db.New(tx)
		tenant, err := resolve(ctx, q, sc, v)
		if err != nil {
			return err
		}
		var ended int64
		var evs []audit.Event
		switch sc.Kind {
		case approvals.ScopeTenant:
			if ended, err = q.DeleteTenantSessions(ctx, tenant); err != nil {
				return err
			}
			err = q.UpdateTenantStatus(ctx, db.UpdateTenantStatusParams{ID: tenant, Status: string(tenants.StatusSuspended), Actor: actor})
		case approvals.ScopeIdP:
			if ended, err = q.DeleteTenantSessions(ctx, tenant); err != nil {
				return err
			}
			err = q.UpdateIdPStatus(ctx, db.UpdateIdPStatusParams{TenantID: tenant, Status: "disabled", Actor: actor})
		case approvals.ScopeUser:
			ended, err = q.DeleteUserSessions(ctx, db.DeleteUserSessionsParams{Email: sc.Value, EveryTenant: tenant == uuid.Nil, TenantID: tenant})
		case approvals.ScopeShare:
			row, lerr := q.LockShare(ctx, uuid.MustParse(sc.Value))
			if lerr != nil {
				return lerr
			}
			if approvals.ShareState(row.State).Open() {
				if evs, err = s.endShare(ctx, q, tx, row, actor, "", "Emergency revocation: "+reason, meta); err != nil {
					return err
				}
			}
		}
		if err != nil {
			return err
		}
		now := s.now()
		tp := pgUUIDOrNull(tenant)
		id, err = q.InsertRevocation(ctx, db.InsertRevocationParams{ScopeKind: string(sc.Kind), ScopeValue: sc.Value, TenantID: tp,
			Reason: reason, Actor: actor, Rotate: rotate, SessionsEnded: int32(ended), CreatedAt: now})
		if err != nil {
			return err
		}
		if _, err := s.jobs.InsertTx(ctx, tx, jobs.RevokeScopeArgs{RevocationID: id.String()}, nil); err != nil {
			return fmt.Errorf("enqueueing the revocation: %w", err)
		}
		ts, err := scopeTenants(ctx, q, sc, tenant)
		if err != nil {
			return err
		}
		for _, t := range ts {
			evs = append(evs, meta.Stamp(audit.Event{TenantID: t.String(), Actor: actor, Action: "revocation.started",
				Target: sc.String(), Outcome: audit.Success, Detail: map[string]string{"revocation": id.String(), "reason": reason,
					"sessions_ended": strconv.FormatInt(ended, 10)}}))
		}
		return appendAudit(ctx, q, now, evs...)
	})
	return id.String(), err
}

func pgUUIDOrNull(u uuid.UUID) pgtype.UUID {
	if u == uuid.Nil {
		return pgtype.UUID{}
	}
	return pgUUID(u)
}

// scopeTenants are the tenants whose audit trail records the revocation:
// the scope's (both sides of a share), or, for a person in every tenant,
// each tenant they are a member of.
func scopeTenants(ctx context.Context, q *db.Queries, sc approvals.Scope, tenant uuid.UUID) ([]uuid.UUID, error) {
	if tenant == uuid.Nil {
		return q.MemberTenants(ctx, sc.Value)
	}
	if sc.Kind != approvals.ScopeShare {
		return []uuid.UUID{tenant}, nil
	}
	sh, err := q.GetShareTenants(ctx, uuid.MustParse(sc.Value))
	if err != nil {
		return nil, err
	}
	return []uuid.UUID{tenant, sh.RecipientTenantID}, nil
}

// LiftRevocation ends the revocation's block — a separate, audited action;
// a frozen tenant is reactivated, a disabled IdP enabled again.
func (s *RequestStore) LiftRevocation(ctx context.Context, id string, v approvals.Viewer, actor string, meta audit.Meta) error {
	rid, err := uuid.Parse(id)
	if err != nil {
		return errNoScope
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		r, err := q.GetRevocation(ctx, rid)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(v, r)) {
			return errNoScope
		}
		if err != nil {
			return err
		}
		if r.State != "completed" {
			return apperr.New(apperr.Conflict, "The revocation is still running: lift its block once every credential is verified dead.")
		}
		n, err := q.LiftRevocation(ctx, db.LiftRevocationParams{ID: rid, Now: timestamptz(s.now()), Actor: actor})
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.Conflict, "This revocation's block was lifted already.")
		}
		sc := approvals.Scope{Kind: approvals.ScopeKind(r.ScopeKind), Value: r.ScopeValue}
		tenant := uuidOr(r.TenantID)
		switch sc.Kind {
		case approvals.ScopeTenant:
			err = q.UpdateTenantStatus(ctx, db.UpdateTenantStatusParams{ID: tenant, Status: string(tenants.StatusActive), Actor: actor})
		case approvals.ScopeIdP:
			err = q.UpdateIdPStatus(ctx, db.UpdateIdPStatusParams{TenantID: tenant, Status: "enabled", Actor: actor})
		}
		if err != nil {
			return err
		}
		ts, err := scopeTenants(ctx, q, sc, tenant)
		if err != nil {
			return err
		}
		evs := make([]audit.Event, 0, len(ts))
		for _, t := range ts {
			evs = append(evs, meta.Stamp(audit.Event{TenantID: t.String(), Actor: actor, Action: "revocation.lifted",
				Target: sc.String(), Outcome: audit.Success, Detail: map[string]string{"revocation": id}}))
		}
		return appendAudit(ctx, q, s.now(), evs...)
	})
}
