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
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

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
