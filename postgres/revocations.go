package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
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

// RunningRevocations lists the revocations not yet completed (resumed at start-up).
func (s *RequestStore) RunningRevocations(ctx context.Context) ([]string, error) {
	ids, err := db.New(s.pool).ListRunningRevocations(ctx)
	return uuidStrings(ids), err
}

// PrepareRevocation records the scope's active grants as the revocation's
// items (once: a resumed run adds none twice) and returns what is left to
// do, or jobs.ErrSettled for a completed revocation.
func (s *RequestStore) PrepareRevocation(ctx context.Context, id string) (jobs.RevocationPlan, error) {
	rid, err := uuid.Parse(id)
	if err != nil {
		return jobs.RevocationPlan{}, errNoScope
	}
	var p jobs.RevocationPlan
	err = InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		r, err := q.GetRevocation(ctx, rid)
		if err != nil {
			return err
		}
		if r.State == "completed" {
			return jobs.ErrSettled
		}
		sc := approvals.Scope{Kind: approvals.ScopeKind(r.ScopeKind), Value: r.ScopeValue}
		grants, err := scopeGrants(ctx, q, sc, uuidOr(r.TenantID))
		if err != nil {
			return err
		}
		if err := q.InsertRevocationItems(ctx, db.InsertRevocationItemsParams{RevocationID: rid, RequestIds: grants, Now: s.now()}); err != nil {
			return err
		}
		if err := q.SettleEndedRevocationItems(ctx, db.SettleEndedRevocationItemsParams{RevocationID: rid, Now: s.now()}); err != nil {
			return err
		}
		left, err := q.UnfinishedRevocationItems(ctx, rid)
		if err != nil {
			return err
		}
		rows, err := q.LockGrantTargets(ctx, left)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if approvals.State(row.State) == approvals.Active {
				p.Pending = append(p.Pending, targetOf(row))
			}
		}
		if sc.Kind == approvals.ScopeTenant {
			if p.Mounts, err = sweptMounts(ctx, q, uuidOr(r.TenantID), p.Pending); err != nil {
				return err
			}
		}
		var rotated []string
		_ = json.Unmarshal(r.Rotated, &rotated)
		if r.Rotate && len(rotated) == 0 {
			res, err := q.GetResourceForRotation(ctx, uuid.MustParse(r.ScopeValue))
			if err != nil {
				return err
			}
			p.Rotate = &jobs.GrantTarget{RequestID: id, TenantID: res.TenantID.String(), TenantSlug: res.Slug, Mount: res.Mount, Path: res.Path, BindingID: optUUID(res.BindingID)}
		}
		return nil
	})
	return p, err
}

// sweptMounts returns the frozen tenant's Vault mount when a pending grant
// is on it: the mount belongs to the tenant alone (a binding's location is
// unique), so every token on it is in the freeze's scope.
func sweptMounts(ctx context.Context, q *db.Queries, tenant uuid.UUID, pending []jobs.GrantTarget) ([]string, error) {
	mount, err := q.GetVaultBinding(ctx, tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(pending, func(t jobs.GrantTarget) bool { return t.BindingID == "" && t.Mount == mount }) {
		return nil, nil
	}
	return []string{mount}, nil
}

// RecordRevoked records grants of revocation id whose credentials were
// verified dead, in one transaction: each one still active is ended as
// revoked by actor, audited on both sides (as FinishEnding), and every
// one's item is marked verified. Holders are told once, when the
// revocation completes (FinishRevocation), not per grant.
func (s *RequestStore) RecordRevoked(ctx context.Context, id string, requestIDs []string, actor string) error {
	rid, err := uuid.Parse(id)
	if err != nil {
		return errNoScope
	}
	ids := make([]uuid.UUID, len(requestIDs))
	for i, r := range requestIDs {
		if ids[i], err = uuid.Parse(r); err != nil {
			return errNoRequest
		}
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.LockGrantTargets(ctx, ids)
		if err != nil {
			return err
		}
		now := s.now()
		ended := []uuid.UUID{} // not nil: an empty array, never NULL, for ANY()
		var evs []audit.Event
		for _, row := range rows {
			if approvals.State(row.State) != approvals.Active {
				continue // ended by another path, which verified it dead
			}
			if _, err := approvals.Active.Move(approvals.Revoked); err != nil {
				return err
			}
			ended = append(ended, row.ID)
			evs = append(evs, moveEvents(row, "", actor, "grant.revoked")...)
		}
		if err := q.EndGrants(ctx, db.EndGrantsParams{RequestIds: ended, EndedAt: timestamptz(now)}); err != nil {
			return err
		}
		if err := q.SetRequestsState(ctx, db.SetRequestsStateParams{Ids: ended, State: string(approvals.Revoked), UpdatedAt: now}); err != nil {
			return err
		}
		if err := q.SetRevocationItemsVerified(ctx, db.SetRevocationItemsVerifiedParams{RevocationID: rid, RequestIds: ids, Ended: ended, Now: now}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, evs...)
	})
}

// tellHolders enqueues, in tx, one email per holder of the grants
// revocation rid ended, naming them (up to ten). Each organization hears
// of the revocation once (FinishRevocation), not once per grant. A freeze
// can end thousands of holders' grants, so the jobs go in with River's
// COPY insert (InsertManyFastTx: these jobs are not unique, and workers
// find them on their next fetch); an email about one grant is recorded for
// that grant's page (recordNotices, one statement for them all).
func (s *RequestStore) tellHolders(ctx context.Context, tx pgx.Tx, q *db.Queries, rid uuid.UUID) error {
	rows, err := q.EndedByRevocation(ctx, rid)
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].TenantID == rows[i].TenantID && rows[j].RequesterEmail == rows[i].RequesterEmail {
			j++
		}
		held := rows[i:j]
		msg := notify.Message{Subject: "Access ended: " + held[0].ResourceName, Link: "/requests/" + held[0].ID.String(),
			Text: "Your access has ended (revoked in an emergency revocation)."}
		ref := held[0].ID.String()
		if len(held) > 1 {
			var names []string
			for _, h := range held[:min(len(held), 10)] {
				names = append(names, h.ResourceName)
			}
			if len(held) > len(names) {
				names = append(names, strconv.Itoa(len(held)-len(names))+" more")
			}
			msg.Subject, msg.Link, ref = "Access ended: "+strconv.Itoa(len(held))+" grants", "/requests", ""
			msg.Text = "Your access to " + strings.Join(names, ", ") + " has ended (revoked in an emergency revocation)."
		}
		params = append(params, emailJob(held[0].TenantID.String(), ref, []string{held[0].RequesterEmail}, msg))
		i = j
	}
	if len(params) == 0 {
		return nil
	}
	if err := s.recordNotices(ctx, tx, params); err != nil {
		return err
	}
	if _, err := s.jobs.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueueing jobs: %w", err)
	}
	return nil
}

// RecordRevocationItem records one grant's outcome: verified dead, or the
// failure (retried).
func (s *RequestStore) RecordRevocationItem(ctx context.Context, id, requestID, failure string) error {
	state := "verified"
	if failure != "" {
		state = "failed"
	}
	return db.New(s.pool).SetRevocationItem(ctx, db.SetRevocationItemParams{RevocationID: uuid.MustParse(id),
		RequestID: uuid.MustParse(requestID), State: state, LastError: failure, Now: s.now()})
}

// FinishRevocation completes the revocation (once): the rotated secrets
// recorded, audited in every organization affected, whose tenant admins are
// told once each, and each holder of a grant it ended told once
// (tellHolders). The organizations affected are the scope's (both sides
// of a share scope), those of every grant it ended, and those on the other
// side of every share the scope blocks (sharePartners), with or without a
// grant under it: they are told their shares cannot be used, and the
// audit event records how many (shares_blocked).
func (s *RequestStore) FinishRevocation(ctx context.Context, id string, rotated []string) error {
	rid := uuid.MustParse(id)
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		r, err := q.GetRevocation(ctx, rid)
		if err != nil {
			return err
		}
		if len(rotated) > 0 {
			raw, _ := json.Marshal(rotated)
			if err := q.SetRevocationRotated(ctx, db.SetRevocationRotatedParams{ID: rid, Rotated: raw}); err != nil {
				return err
			}
		}
		n, err := q.CompleteRevocation(ctx, db.CompleteRevocationParams{ID: rid, Now: timestamptz(s.now())})
		if err != nil || n == 0 {
			return err // completed already by another run
		}
		counts, err := q.RevocationCounts(ctx, rid)
		if err != nil {
			return err
		}
		if err := s.tellHolders(ctx, tx, q, rid); err != nil {
			return err
		}
		items, err := q.RevocationItems(ctx, rid)
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(items))
		for _, it := range items {
			ids = append(ids, it.RequestID)
		}
		affected, err := q.AffectedTenants(ctx, ids)
		if err != nil {
			return err
		}
		sc := approvals.Scope{Kind: approvals.ScopeKind(r.ScopeKind), Value: r.ScopeValue}
		seen := map[uuid.UUID]bool{}
		tell, err := scopeTenants(ctx, q, sc, uuidOr(r.TenantID))
		if err != nil {
			return err
		}
		var evs []audit.Event
		for _, t := range affected {
			tell = append(tell, t.ID)
		}
		partners, err := sharePartners(ctx, q, sc, uuidOr(r.TenantID))
		if err != nil {
			return err
		}
		blockedShares := map[uuid.UUID]int{}
		for _, p := range partners {
			tell = append(tell, p.ID)
			blockedShares[p.ID] = int(p.Shares)
		}
		for _, t := range tell {
			if seen[t] {
				continue
			}
			seen[t] = true
			admins, err := roleEmails(ctx, q, t, tenants.RoleTenantAdmin)
			if err != nil {
				return err
			}
			text := "Every access in " + sc.String() + " was revoked and verified dead (" + strconv.FormatInt(counts.Verified, 10) + " grant(s))."
			detail := map[string]string{"revocation": id,
				"grants_verified_dead": strconv.FormatInt(counts.Verified, 10), "rotated": strconv.Itoa(len(rotated))}
			link := "/revocations/" + id
			if n := blockedShares[t]; n > 0 {
				text += " " + partnerNote(sc.Kind, n)
				detail["shares_blocked"] = strconv.Itoa(n)
				link = "/shares" // a partner cannot see the revocation itself
			}
			if err := s.noticeAbout(ctx, tx, t.String(), id, admins, notify.Message{Urgent: true, Subject: "Emergency revocation: " + sc.String(),
				Text: text + " Reason: " + r.Reason, Link: link}); err != nil {
				return err
			}
			evs = append(evs, audit.Event{TenantID: t.String(), Actor: r.Actor, Action: "revocation.completed",
				Target: sc.String(), Outcome: audit.Success, Detail: detail})
		}
		return appendAudit(ctx, q, s.now(), evs...)
	})
}

func revocationFrom(r db.Revocation) approvals.Revocation {
	out := approvals.Revocation{ID: r.ID.String(), Scope: approvals.Scope{Kind: approvals.ScopeKind(r.ScopeKind), Value: r.ScopeValue},
		Reason: r.Reason, Actor: r.Actor, Rotate: r.Rotate, Completed: r.State == "completed", SessionsEnded: int(r.SessionsEnded),
		CreatedAt: r.CreatedAt, CompletedAt: r.CompletedAt.Time, LiftedAt: r.LiftedAt.Time, LiftedBy: r.LiftedBy}
	if r.TenantID.Valid {
		out.TenantID = uuidString(r.TenantID.Bytes)
	}
	_ = json.Unmarshal(r.Rotated, &out.Rotated)
	return out
}

// visible reports whether the viewer may see (and lift) the revocation:
// operators every one, a tenant admin those of their tenant. A person
// revoked in every tenant is an operator's to lift.
func visible(v approvals.Viewer, r db.Revocation) bool {
	return v.Operator || (r.TenantID.Valid && uuidString(r.TenantID.Bytes) == v.TenantID)
}

// Revocation returns one revocation with its progress, items and every
// notice it sent (another organization's recipients and reasons left out
// for a viewer outside it who is not an operator), or NotFound when the
// viewer may not see it.
func (s *RequestStore) Revocation(ctx context.Context, id string, v approvals.Viewer) (approvals.Revocation, error) {
	rid, err := uuid.Parse(id)
	if err != nil {
		return approvals.Revocation{}, errNoScope
	}
	q := db.New(s.pool)
	r, err := q.GetRevocation(ctx, rid)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(v, r)) {
		return approvals.Revocation{}, errNoScope
	}
	if err != nil {
		return approvals.Revocation{}, err
	}
	out := revocationFrom(r)
	items, err := q.RevocationItems(ctx, rid)
	if err != nil {
		return out, err
	}
	for _, it := range items {
		out.Items = append(out.Items, approvals.RevocationItem{RequestID: it.RequestID.String(), Resource: it.ResourceName,
			Holder: it.RequesterEmail, State: it.State, Attempts: int(it.Attempts), LastError: it.LastError})
		out.Progress.Total++
		switch it.State {
		case "verified":
			out.Progress.Verified++
		case "failed":
			out.Progress.Failed++
		default:
			out.Progress.Pending++
		}
	}
	told, err := q.RevocationNotices(ctx, rid.String())
	if err != nil {
		return out, err
	}
	for _, n := range told {
		t := approvals.Told{Org: n.Slug, Channel: n.Channel, State: n.State, Attempts: int(n.Attempts), SentAt: n.EnqueuedAt}
		if v.Operator || n.TenantID.String() == v.TenantID { // another organization's people and settings are its own
			t.To, t.Reason = n.Recipients, n.Reason
		}
		out.Told = append(out.Told, t)
	}
	return out, nil
}

// Revocations lists the revocations the viewer may see, newest first.
func (s *RequestStore) Revocations(ctx context.Context, v approvals.Viewer) ([]approvals.Revocation, error) {
	tid, _ := uuid.Parse(v.TenantID)
	rows, err := db.New(s.pool).ListRevocations(ctx, db.ListRevocationsParams{EveryTenant: v.Operator, TenantID: tid})
	if err != nil {
		return nil, err
	}
	out := make([]approvals.Revocation, 0, len(rows))
	for _, r := range rows {
		out = append(out, revocationFrom(r))
	}
	return out, nil
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
