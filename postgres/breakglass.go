package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// BreakGlassBackstop is how long after breaking glass the issue job runs
// when the inline issuance did not finish (Vault unreachable): the job then
// retries with backoff until it does.
const BreakGlassBackstop = 30 * time.Second

// BreakGlass checks who's emergency on the resource against the break-glass
// rules, the tenant's limits (counted under a per-tenant lock) and fresh
// (a recent forced re-authentication), and in one transaction records the
// grant as issuing, its review due after the tenant's SLA, urgent notices
// to every approver and tenant admin and the tenant's webhook, a backstop
// issue job, and the audit event. It returns the grant's target for the
// caller to issue at once. A refusal changes nothing but is audited as
// breakglass.refused (failed attempts are security events).
func (s *RequestStore) BreakGlass(ctx context.Context, tenantID, resourceID string, who approvals.Person, e approvals.Emergency,
	fresh bool, meta audit.Meta) (jobs.GrantTarget, error) {
	return s.breakGlass(ctx, tenantID, "", resourceID, who, e, fresh, meta)
}

// BreakGlassShared is BreakGlass on a resource another organization shares
// with the responder's (tenantID) under shareID, under the share's read
// lock and its terms (approvals.CheckSharedBreakGlass). The grant lives in
// the owner's tenant, where the resource is; the limits, the review and
// the flags are the responder's organization's. The owner organization's
// approvers, tenant admins and webhook are told too, and both trails audit
// it. Ending the share ends the grant.
func (s *RequestStore) BreakGlassShared(ctx context.Context, tenantID, shareID, resourceID string, who approvals.Person,
	e approvals.Emergency, fresh bool, meta audit.Meta) (jobs.GrantTarget, error) {
	if _, err := uuid.Parse(shareID); err != nil {
		return jobs.GrantTarget{}, errNoShare
	}
	return s.breakGlass(ctx, tenantID, shareID, resourceID, who, e, fresh, meta)
}

// breakGlass is BreakGlass, under shareID when it is not "".
func (s *RequestStore) breakGlass(ctx context.Context, tenantID, shareID, resourceID string, who approvals.Person, e approvals.Emergency,
	fresh bool, meta audit.Meta) (jobs.GrantTarget, error) {
	tid, rid, err := parseIDs(tenantID, resourceID, errNoResource)
	if err != nil {
		return jobs.GrantTarget{}, err
	}
	var t jobs.GrantTarget
	var shared *db.Share // the share it was attempted under, once found: a refusal is audited on both sides
	err = accessTx(ctx, s.pool, func(q *db.Queries, tx pgx.Tx) error {
		owner, key := tid, blockKey{Tenant: tid, Email: who.Email, Resource: rid}
		var share *db.Share
		var terms approvals.Share
		if shareID != "" {
			row, err := q.LockShareForAccess(ctx, uuid.MustParse(shareID))
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && (row.RecipientTenantID != tid || !row.OfferedAt.Valid)) {
				return errNoShare
			}
			if err != nil {
				return err
			}
			if terms, err = loadShare(ctx, q, row); err != nil {
				return err
			}
			share, owner, shared = &row, row.OwnerTenantID, &row
			key = blockKey{Tenant: owner, RequesterTenant: tid, Email: who.Email, Resource: rid, Share: pgUUID(row.ID)}
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "breakglass/"+tenantID); err != nil {
			return err
		}
		if err := blocked(ctx, q, key); err != nil {
			return err
		}
		res, err := lockLiveResource(ctx, q, owner, rid) // against a concurrent retire
		if err != nil {
			return err
		}
		resource, err := resourceFrom(res)
		if err != nil {
			return err
		}
		limits, err := s.limits(ctx, q, tid)
		if err != nil {
			return err
		}
		n, err := q.CountActiveBreakGlass(ctx, db.CountActiveBreakGlassParams{TenantID: tid, Subject: who.Subject})
		if err != nil {
			return err
		}
		now := s.now()
		inForce := approvals.InForce{ByResponder: int(n.ByResponder), InTenant: int(n.InTenant), DrillsByResponder: int(n.DrillsByResponder)}
		var d time.Duration
		if share != nil {
			d, err = approvals.CheckSharedBreakGlass(who, terms, resource, e, fresh, inForce, limits, now)
		} else {
			d, err = approvals.CheckBreakGlass(who, resource, e, fresh, inForce, limits)
		}
		if err != nil {
			return err
		}
		person, _ := json.Marshal(who)
		ins := db.InsertBreakGlassRequestParams{TenantID: owner, ResourceID: rid,
			RequesterSubject: who.Subject, RequesterEmail: who.Email, Requester: person, DurationSeconds: int64(d / time.Second),
			Justification: e.Justification, Incident: e.Incident, Drill: resource.BreakGlass.Drill, Policy: res.Policy, SubmittedAt: now}
		if share != nil {
			ins.ShareID, ins.RequesterTenantID = pgUUID(share.ID), pgUUID(tid)
		}
		id, err := q.InsertBreakGlassRequest(ctx, ins)
		if err != nil {
			return err
		}
		if err := q.InsertBreakGlassReview(ctx, db.InsertBreakGlassReviewParams{RequestID: id, TenantID: tid, DueAt: now.Add(limits.ReviewSLA)}); err != nil {
			return err
		}
		t = jobs.GrantTarget{RequestID: id.String(), TenantID: owner.String(), Subject: who.Subject, Mount: res.Mount, Path: res.Path, BindingID: optUUID(res.BindingID),
			Duration: d, Email: who.Email, Resource: res.Name, BreakGlass: true, Drill: resource.BreakGlass.Drill,
			Rotate: resource.BreakGlass.RotateAfter}
		if t.TenantSlug, err = q.GetTenantSlug(ctx, owner); err != nil {
			return err
		}
		members, err := q.ListMembersOf(ctx, tid)
		if err != nil {
			return err
		}
		msg := notify.Message{Subject: drillMark(t.Drill) + "Break-glass: " + who.Email + " on " + res.Name, Urgent: true,
			Text: who.Email + " broke glass on " + res.Name + " for " + d.String() + " (incident " + e.Incident + "): " + e.Justification +
				"\nA review by an approver is due by " + now.Add(limits.ReviewSLA).UTC().Format(time.RFC1123) + ".",
			Link: "/breakglass/" + t.RequestID}
		backstop := river.InsertManyParams{Args: jobs.IssueGrantArgs{TenantID: t.TenantID, RequestID: t.RequestID},
			InsertOpts: &river.InsertOpts{ScheduledAt: now.Add(BreakGlassBackstop)}}
		if err := s.noticeAbout(ctx, tx, tenantID, t.RequestID, responsible(members, who.Subject), msg, backstop); err != nil {
			return err
		}
		ev := audit.Event{TenantID: tenantID, Actor: actor(who), Action: "breakglass.started", Target: res.Name, Outcome: audit.Success,
			Detail: map[string]string{"request": t.RequestID, "incident": e.Incident, "duration": d.String(), "drill": strconv.FormatBool(t.Drill)}}
		if share == nil {
			return appendAudit(ctx, q, now, meta.Stamp(ev))
		}
		// The owner organization is told at once too, and audits it.
		if members, err = q.ListMembersOf(ctx, owner); err != nil {
			return err
		}
		partner, err := q.GetTenantDisplayName(ctx, tid)
		if err != nil {
			return err
		}
		msg.Subject = drillMark(t.Drill) + "Break-glass on your shared resource: " + who.Email + " of " + partner + " on " + res.Name
		msg.Text = who.Email + " of " + partner + " broke glass on " + res.Name + ", which you share with them, for " + d.String() +
			" (incident " + e.Incident + "): " + e.Justification + "\n" + partner + "'s approvers review it; ending the share ends this access."
		if err := s.noticeAbout(ctx, tx, owner.String(), t.RequestID, responsible(members, ""), msg); err != nil {
			return err
		}
		ev.Detail["share"] = shareID
		return appendAudit(ctx, q, now, shareEvents(*share, true, meta.Stamp(ev))...)
	})
	if code := apperr.CodeOf(err); code == apperr.Forbidden || code == apperr.Invalid || code == apperr.Conflict || code == apperr.NotFound {
		detail := map[string]string{"reason": apperr.As(err).Message, "incident": e.Incident}
		if shareID != "" {
			detail["share"] = shareID
		}
		ev := meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor(who), Action: "breakglass.refused", Target: resourceID,
			Outcome: audit.Denied, Detail: detail})
		evs := []audit.Event{ev}
		if shared != nil { // the owner's trail records attempts on its resources too
			evs = shareEvents(*shared, true, ev)
		}
		if aerr := s.recordEvent(ctx, evs...); aerr != nil {
			// Never a refusal that left no trace: the caller sees (and logs) the audit failure.
			return t, apperr.Wrap(apperr.Unavailable, "Break-glass was refused ("+apperr.As(err).Message+"), and the refusal could not be recorded. Try again in a moment.", errors.Join(err, aerr))
		}
	}
	return t, err
}

func drillMark(drill bool) string {
	if drill {
		return "[DRILL] "
	}
	return ""
}

// responsible returns the email of every approver and tenant admin among
// members, but not the responder's own.
func responsible(members []db.ListMembersOfRow, responder string) []string {
	var to []string
	for _, m := range members {
		if m.Subject != responder && (slices.Contains(m.Roles, string(tenants.RoleApprover)) || slices.Contains(m.Roles, string(tenants.RoleTenantAdmin))) {
			to = append(to, m.Email)
		}
	}
	return to
}

// recordEvent records evs in one transaction of their own (a refusal,
// which changed nothing else).
func (s *RequestStore) recordEvent(ctx context.Context, evs ...audit.Event) error {
	ctx = context.WithoutCancel(ctx) // a refusal is audited even when the caller has gone
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		return appendAudit(ctx, db.New(tx), s.now(), evs...)
	})
}

func (s *RequestStore) limits(ctx context.Context, q *db.Queries, tid uuid.UUID) (approvals.Limits, error) {
	l, err := q.GetBreakGlassLimits(ctx, tid)
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.DefaultLimits(), nil
	}
	if err != nil {
		return approvals.Limits{}, err
	}
	return approvals.Limits{PerResponder: int(l.PerResponder), PerTenant: int(l.PerTenant), ReviewSLA: time.Duration(l.ReviewSlaSeconds) * time.Second}, nil
}

// BreakGlassLimits returns the tenant's limits (the defaults until set).
func (s *RequestStore) BreakGlassLimits(ctx context.Context, tenantID string) (approvals.Limits, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return approvals.Limits{}, errNoRequest
	}
	return s.limits(ctx, db.New(s.pool), tid)
}

// SetBreakGlassLimits validates and sets the tenant's limits, audited.
func (s *RequestStore) SetBreakGlassLimits(ctx context.Context, tenantID string, l approvals.Limits, actor string, meta audit.Meta) error {
	if err := approvals.CheckLimits(l); err != nil {
		return err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return errNoRequest
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.UpsertBreakGlassLimits(ctx, db.UpsertBreakGlassLimitsParams{TenantID: tid, PerResponder: int32(l.PerResponder),
			PerTenant: int32(l.PerTenant), ReviewSlaSeconds: int64(l.ReviewSLA / time.Second), Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor,
			Action: "breakglass.limits_changed", Outcome: audit.Success, Detail: map[string]string{"per_responder": strconv.Itoa(l.PerResponder),
				"per_tenant": strconv.Itoa(l.PerTenant), "review_sla": l.ReviewSLA.String()}}))
	})
}

// SetBreakGlass sets a resource's break-glass setting, audited.
func (s *RequestStore) SetBreakGlass(ctx context.Context, tenantID, resourceID string, b approvals.BreakGlass, actor string, meta audit.Meta) error {
	if err := approvals.CheckBreakGlassSetting(b); err != nil {
		return err
	}
	tid, rid, err := parseIDs(tenantID, resourceID, errNoResource)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		n, err := q.SetResourceBreakGlass(ctx, db.SetResourceBreakGlassParams{ID: rid, TenantID: tid, Enabled: b.Enabled,
			MaxSeconds: int64(b.MaxDuration / time.Second), Rotate: b.RotateAfter, Drill: b.Drill})
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoResource
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor,
			Action: "resource.breakglass_changed", Target: resourceID, Outcome: audit.Success,
			Detail: map[string]string{"enabled": strconv.FormatBool(b.Enabled), "max": b.MaxDuration.String(),
				"rotate": strconv.FormatBool(b.RotateAfter), "drill": strconv.FormatBool(b.Drill)}}))
	})
}

// ReviewBreakGlass records reviewer's verdict on a break-glass of the
// tenant under its row lock, audited: once only, never by the responder.
// "Not justified" notifies the tenant admins and flags the responder —
// except on a drill, where the verdict is recorded and the notice and the
// audit event say the responder is not flagged (approvals.FlagsResponder).
func (s *RequestStore) ReviewBreakGlass(ctx context.Context, tenantID, requestID string, reviewer approvals.Person,
	v approvals.Verdict, notes string, meta audit.Meta) error {
	tid, rid, err := parseIDs(tenantID, requestID, errNoRequest)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.LockBreakGlassReview(ctx, db.LockBreakGlassReviewParams{RequestID: rid, TenantID: tid})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoRequest
		}
		if err != nil {
			return err
		}
		var responder approvals.Person
		if err := json.Unmarshal(row.Requester, &responder); err != nil {
			return fmt.Errorf("break-glass responder: %w", err)
		}
		if err := approvals.CheckReview(responder, reviewer, v, notes); err != nil {
			return err
		}
		if row.Verdict.Valid {
			return apperr.New(apperr.Conflict, "This break-glass has been reviewed already.")
		}
		now := s.now()
		who, _ := json.Marshal(reviewer)
		if err := q.SetBreakGlassVerdict(ctx, db.SetBreakGlassVerdictParams{RequestID: rid, Verdict: textOf(string(v)),
			Notes: notes, Reviewer: who, ReviewedAt: timestamptz(now)}); err != nil {
			return err
		}
		flag := approvals.FlagsResponder(v, row.Drill)
		if flag {
			if err := q.InsertResponderFlag(ctx, db.InsertResponderFlagParams{RequestID: rid, TenantID: tid, Subject: responder.Subject,
				Email: responder.Email, FlaggedAt: now}); err != nil {
				return err
			}
		}
		if v == approvals.NotJustified {
			admins, err := roleEmails(ctx, q, tid, tenants.RoleTenantAdmin)
			if err != nil {
				return err
			}
			text := reviewer.Email + " reviewed the break-glass as not justified: " + notes
			if !flag {
				text += "\nThis was a drill: the verdict is recorded, and the responder is not flagged."
			}
			if err := s.noticeAbout(ctx, tx, tenantID, requestID, admins, notify.Message{Urgent: true,
				Subject: drillMark(row.Drill) + "Break-glass not justified: " + responder.Email + " on " + row.ResourceName,
				Text:    text, Link: "/breakglass/" + requestID}); err != nil {
				return err
			}
		}
		detail := map[string]string{"verdict": string(v), "responder": actor(responder), "drill": strconv.FormatBool(row.Drill),
			"responder_flagged": strconv.FormatBool(flag)}
		if v == approvals.NotJustified && !flag {
			detail["note"] = "a drill: the responder is not flagged"
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor(reviewer),
			Action: "breakglass.reviewed", Target: requestID, Outcome: audit.Success, Detail: detail}))
	})
}

// EscalateOverdue notifies the approvers and tenant admins of every
// break-glass whose review is overdue — when it becomes overdue, then again
// every SLA while it stays so (approvals.EscalationDue) — audited, and
// returns how many it escalated. It takes up to 500 per call, those due an
// escalation longest first, so reviews escalated a moment ago never crowd
// out one newly overdue. Rows another replica is handling are skipped.
func (s *RequestStore) EscalateOverdue(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.LockReviewsToEscalate(ctx, now)
		if err != nil {
			return err
		}
		var evs []audit.Event
		for _, r := range rows {
			// The query applies the same rule; this is the rule's own word on it.
			if !approvals.EscalationDue(r.DueAt, r.LastEscalatedAt.Time, now, time.Duration(r.ReviewSlaSeconds)*time.Second) {
				continue
			}
			members, err := q.ListMembersOf(ctx, r.TenantID)
			if err != nil {
				return err
			}
			id := r.RequestID.String()
			if err := s.noticeAbout(ctx, tx, r.TenantID.String(), id, responsible(members, ""), notify.Message{Urgent: true,
				Subject: drillMark(r.Drill) + "Break-glass review overdue: " + r.RequesterEmail + " on " + r.ResourceName,
				Text:    "The review of this break-glass was due " + r.DueAt.UTC().Format(time.RFC1123) + ". An approver who is not the responder must review it.",
				Link:    "/breakglass/" + id}); err != nil {
				return err
			}
			if err := q.MarkEscalated(ctx, db.MarkEscalatedParams{RequestID: r.RequestID, At: timestamptz(now)}); err != nil {
				return err
			}
			evs = append(evs, audit.Event{TenantID: r.TenantID.String(), Actor: "system",
				Action: "breakglass.review_escalated", Target: id, Outcome: audit.Success,
				Detail: map[string]string{"escalation": strconv.Itoa(int(r.Escalations) + 1)}})
			n++
		}
		return appendAudit(ctx, q, now, evs...)
	})
	return n, err
}

// RecordRotation records that the secret of a break-glass grant was
// rotated to version when its window ended (a KV version number or a cloud
// store's version ID; "0": the rotation failed for good and is not
// retried), audited.
func (s *RequestStore) RecordRotation(ctx context.Context, requestID string, version string) error {
	rid, err := uuid.Parse(requestID)
	if err != nil {
		return errNoRequest
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := lockGrantTarget(ctx, q, rid)
		if err != nil {
			return err
		}
		now := s.now()
		if err := q.RecordRotation(ctx, db.RecordRotationParams{RequestID: rid, Version: pgtype.Text{String: version, Valid: true}, At: timestamptz(now)}); err != nil {
			return err
		}
		ev := audit.Event{TenantID: row.TenantID.String(), Actor: "system", Action: "secret.rotated",
			Target: row.Mount + "/" + row.Path, Outcome: audit.Success,
			Detail: map[string]string{"request": requestID, "version": version, "reason": "break-glass window ended"}}
		if version == "0" {
			ev.Action, ev.Outcome = "secret.rotation_failed", audit.Failure
		}
		return appendAudit(ctx, q, now, ev)
	})
}

// BreakGlassList returns one page of the tenant's break-glasses as q asks
// (its own, and those its members opened under a share), newest first, and
// where the next page starts (zero when none follows). Only the tenant's
// break-glasses are read, wherever q's cursor points. An invalid q is
// apperr.Invalid, a malformed tenant ID apperr.NotFound, a database
// failure apperr.Unavailable.
func (s *RequestStore) BreakGlassList(ctx context.Context, tenantID string, q paging.Query) (paging.Page[approvals.BreakGlassRow], error) {
	if err := q.Check(); err != nil {
		return paging.Page[approvals.BreakGlassRow]{}, err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return paging.Page[approvals.BreakGlassRow]{}, errNoRequest
	}
	p := db.ListBreakGlassPageParams{TenantID: tid, Max: q.Fetch()}
	p.BeforeAt, p.BeforeID = keyset(q.Before)
	rows, err := db.New(s.pool).ListBreakGlassPage(ctx, p)
	if err != nil {
		return paging.Page[approvals.BreakGlassRow]{}, apperr.Wrap(apperr.Unavailable, "Break-glass events cannot be read right now.", err)
	}
	page := paging.Cut(q, rows, func(r db.ListBreakGlassPageRow) paging.Cursor { return paging.At(r.SubmittedAt, r.ID) })
	out := paging.Page[approvals.BreakGlassRow]{Rows: make([]approvals.BreakGlassRow, 0, len(page.Rows)), Older: page.Older}
	for _, r := range page.Rows {
		row := approvals.BreakGlassRow{Summary: approvals.Summary{ID: r.ID.String(), Resource: r.ResourceName, State: approvals.State(r.State),
			Duration: time.Duration(r.DurationSeconds) * time.Second, SubmittedAt: r.SubmittedAt, ExpiresAt: r.ExpiresAt.Time,
			FailureReason: r.FailureReason, Kind: approvals.BreakGlassKind, Drill: r.Drill},
			Incident: r.Incident, Review: approvals.Review{DueAt: r.DueAt, ReviewedAt: r.ReviewedAt.Time}}
		if r.Verdict.Valid {
			row.Review.Verdict = approvals.Verdict(r.Verdict.String)
		}
		if err := json.Unmarshal(r.Requester, &row.Requester); err != nil {
			return paging.Page[approvals.BreakGlassRow]{}, fmt.Errorf("break-glass responder: %w", err)
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// ActiveBreakGlass returns the tenant's active break-glass grants, soonest
// ending first (for the banner on every page of the tenant).
func (s *RequestStore) ActiveBreakGlass(ctx context.Context, tenantID string) ([]approvals.Summary, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, nil
	}
	rows, err := db.New(s.pool).ActiveBreakGlassIn(ctx, tid)
	if err != nil {
		return nil, err
	}
	out := make([]approvals.Summary, 0, len(rows))
	for _, r := range rows {
		out = append(out, approvals.Summary{ID: r.ID.String(), Resource: r.ResourceName, Requester: approvals.Person{Email: r.RequesterEmail},
			State: approvals.Active, ExpiresAt: r.ExpiresAt.Time, Kind: approvals.BreakGlassKind, Drill: r.Drill})
	}
	return out, nil
}

// ResponderFlags returns the tenant's responders flagged by a "not
// justified" review.
func (s *RequestStore) ResponderFlags(ctx context.Context, tenantID string) ([]approvals.Flag, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoRequest
	}
	rows, err := db.New(s.pool).ListResponderFlags(ctx, tid)
	if err != nil {
		return nil, err
	}
	out := make([]approvals.Flag, 0, len(rows))
	for _, r := range rows {
		out = append(out, approvals.Flag{Subject: r.Subject, Email: r.Email, Count: int(r.Flags), Last: r.LastFlaggedAt})
	}
	return out, nil
}
