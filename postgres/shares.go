package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

var errNoShare = apperr.New(apperr.NotFound, "There is no such share for your organization.")

var _ jobs.ShareStore = (*RequestStore)(nil)

// loadShare rebuilds the domain share from its row, resources and votes.
func loadShare(ctx context.Context, q *db.Queries, row db.Share) (approvals.Share, error) {
	s := approvals.Share{ID: row.ID.String(), Owner: row.OwnerTenantID.String(), Recipient: row.RecipientTenantID.String(),
		State: approvals.ShareState(row.State), Terms: approvals.ShareTerms{Level: approvals.Level(row.Level), TermEnd: row.TermEnd,
			Purpose: row.Purpose, Mode: approvals.ShareMode(row.Mode), MaxGrant: time.Duration(row.MaxGrantSeconds) * time.Second,
			RecipientApprovals: int(row.RecipientApprovals), OwnerApprovals: int(row.OwnerApprovals)}}
	if err := json.Unmarshal(row.Recipients, &s.Terms.Recipients); err != nil {
		return s, fmt.Errorf("share recipients: %w", err)
	}
	if err := json.Unmarshal(row.Policy, &s.Policy); err != nil {
		return s, fmt.Errorf("share policy: %w", err)
	}
	if err := json.Unmarshal(row.Proposer, &s.Proposer); err != nil {
		return s, fmt.Errorf("share proposer: %w", err)
	}
	res, err := q.ListShareResources(ctx, row.ID)
	if err != nil {
		return s, err
	}
	for _, r := range res {
		rr, err := resourceFrom(r)
		if err != nil {
			return s, err
		}
		s.Terms.Resources = append(s.Terms.Resources, rr)
	}
	votes, err := q.ListShareVotes(ctx, row.ID)
	if err != nil {
		return s, err
	}
	for _, v := range votes {
		var p approvals.Person
		if err := json.Unmarshal(v.Approver, &p); err != nil {
			return s, fmt.Errorf("share vote: %w", err)
		}
		s.Votes = append(s.Votes, approvals.ShareVote{Approver: p, Approve: v.Approve, Comment: v.Comment, At: v.DecidedAt})
	}
	return s, nil
}

// shareEvents are ev in the owner's chain and, once the share has been
// offered to the recipient, in the recipient's too: each side sees the
// share's events on its side of the audit trail.
func shareEvents(row db.Share, offered bool, ev audit.Event) []audit.Event {
	ev.TenantID = row.OwnerTenantID.String()
	evs := []audit.Event{ev}
	if offered {
		ev.TenantID = row.RecipientTenantID.String()
		evs = append(evs, ev)
	}
	return evs
}

// roleEmails returns the emails of the tenant's members holding role.
func roleEmails(ctx context.Context, q *db.Queries, tenantID uuid.UUID, role tenants.Role) ([]string, error) {
	return q.ListMembersWithRole(ctx, db.ListMembersWithRoleParams{TenantID: tenantID, Role: string(role)})
}

// ShareTargets lists the active organizations the tenant may share with.
func (s *RequestStore) ShareTargets(ctx context.Context, tenantID string) ([]approvals.Org, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoShare
	}
	rows, err := db.New(s.pool).ListShareTargets(ctx, tid)
	if err != nil {
		return nil, err
	}
	out := make([]approvals.Org, 0, len(rows))
	for _, r := range rows {
		out = append(out, approvals.Org{Slug: r.Slug, Name: r.DisplayName})
	}
	return out, nil
}

// ProposeShare records who's proposal to share resources of the owner
// tenant's catalog with the recipient organization, checked against the
// owner's share policy, notifies the owner's approvers, and returns its ID.
// An unknown recipient or a resource outside the owner's catalog (a shared
// one included: no re-sharing; a retired one, read-locked against a retire)
// is a field error; nothing is created then.
func (s *RequestStore) ProposeShare(ctx context.Context, ownerTenantID string, who approvals.Person, recipientSlug string,
	resourceIDs []string, t approvals.ShareTerms, meta audit.Meta) (string, error) {
	oid, err := uuid.Parse(ownerTenantID)
	if err != nil {
		return "", errNoShare
	}
	var id uuid.UUID
	err = InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		var rid uuid.UUID
		active := false
		if recipientSlug != "" {
			r, err := q.GetTenantForShare(ctx, recipientSlug)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && recipientSlug == tenants.PlatformSlug) {
				return apperr.InvalidFields("The share needs correcting.", map[string]string{"recipient": "There is no such organization."})
			}
			if err != nil {
				return err
			}
			rid, active = r.ID, r.Status == string(tenants.StatusActive)
		}
		for _, raw := range resourceIDs {
			resID, err := uuid.Parse(raw)
			if err != nil {
				return apperr.InvalidFields("The share needs correcting.", map[string]string{"resources": "Pick resources of your own catalog."})
			}
			r, err := lockLiveResource(ctx, q, oid, resID) // not retired, and not while a retire runs
			if errors.Is(err, errNoResource) {
				return apperr.InvalidFields("The share needs correcting.", map[string]string{"resources": "Pick resources of your own catalog."})
			}
			if err != nil {
				return err
			}
			res, err := resourceFrom(r)
			if err != nil {
				return err
			}
			t.Resources = append(t.Resources, res)
		}
		pol, err := sharePolicy(ctx, q, oid)
		if err != nil {
			return err
		}
		now := s.now()
		recipientID := ""
		if rid != uuid.Nil {
			recipientID = rid.String()
		}
		if err := approvals.CheckProposal(who, ownerTenantID, recipientID, active, t, pol, now); err != nil {
			return err
		}
		recipients, _ := json.Marshal(t.Recipients)
		policy, _ := json.Marshal(pol)
		proposer, _ := json.Marshal(who)
		id, err = q.InsertShare(ctx, db.InsertShareParams{OwnerTenantID: oid, RecipientTenantID: rid, Recipients: recipients,
			Level: string(t.Level), TermEnd: t.TermEnd, Purpose: t.Purpose, Mode: string(t.Mode), MaxGrantSeconds: int64(t.MaxGrant / time.Second),
			RecipientApprovals: int32(t.RecipientApprovals), OwnerApprovals: int32(t.OwnerApprovals), Policy: policy, Proposer: proposer, Now: now})
		if err != nil {
			return err
		}
		for _, r := range t.Resources {
			if err := q.InsertShareResource(ctx, db.InsertShareResourceParams{ShareID: id, ResourceID: uuid.MustParse(r.ID)}); err != nil {
				return err
			}
		}
		approvers, err := roleEmails(ctx, q, oid, tenants.RoleApprover)
		if err != nil {
			return err
		}
		if err := s.noticeAbout(ctx, tx, ownerTenantID, id.String(), without(approvers, who.Email), notify.Message{
			Subject: "Share proposed: " + strconv.Itoa(len(t.Resources)) + " resource(s)",
			Text:    who.Email + " proposes a share: " + t.Purpose, Link: "/shares/" + id.String()}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{TenantID: ownerTenantID, Actor: actor(who), Action: "share.proposed",
			Target: id.String(), Outcome: audit.Success, Detail: map[string]string{"recipient": recipientSlug, "mode": string(t.Mode),
				"level": string(t.Level), "term_end": t.TermEnd.UTC().Format(time.RFC3339)}}))
	})
	return id.String(), err
}

func sharePolicy(ctx context.Context, q *db.Queries, tid uuid.UUID) (approvals.SharePolicy, error) {
	raw, err := q.GetSharePolicy(ctx, tid)
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.DefaultSharePolicy(), nil
	}
	if err != nil {
		return approvals.SharePolicy{}, err
	}
	var p approvals.SharePolicy
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("share policy: %w", err)
	}
	return p, nil
}

// SharePolicy returns the tenant's share policy (the default until set).
func (s *RequestStore) SharePolicy(ctx context.Context, tenantID string) (approvals.SharePolicy, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return approvals.SharePolicy{}, errNoShare
	}
	return sharePolicy(ctx, db.New(s.pool), tid)
}

// SetSharePolicy validates and sets the tenant's share policy, audited.
// Shares already proposed keep the policy they were proposed under.
func (s *RequestStore) SetSharePolicy(ctx context.Context, tenantID string, p approvals.SharePolicy, actor string, meta audit.Meta) error {
	if err := p.Validate(); err != nil {
		return err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return errNoShare
	}
	raw, _ := json.Marshal(p)
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.UpsertSharePolicy(ctx, db.UpsertSharePolicyParams{TenantID: tid, Policy: raw, Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "share.policy_changed",
			Outcome: audit.Success, Detail: map[string]string{"required": strconv.Itoa(p.Required), "max_term": p.MaxTerm.String()}}))
	})
}

func without(emails []string, me string) []string {
	out := emails[:0:0]
	for _, e := range emails {
		if e != me {
			out = append(out, e)
		}
	}
	return out
}

// Shares lists the tenant's outgoing shares and the incoming ones offered to it.
func (s *RequestStore) Shares(ctx context.Context, tenantID string) ([]approvals.ShareSummary, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoShare
	}
	rows, err := db.New(s.pool).ListSharesOf(ctx, tid)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "Shares cannot be read right now.", err)
	}
	out := make([]approvals.ShareSummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, approvals.ShareSummary{ID: r.ID.String(), State: approvals.ShareState(r.State), Mode: approvals.ShareMode(r.Mode),
			Level: approvals.Level(r.Level), TermEnd: r.TermEnd, Purpose: r.Purpose, ProposedAt: r.ProposedAt, Owner: r.OwnerName,
			Recipient: r.RecipientName, Outgoing: r.OwnerTenantID == tid, Resources: int(r.Resources)})
	}
	return out, nil
}

// ShareDetail returns one share the tenant may see (owner, or recipient
// once offered), with the access requested under it; otherwise NotFound.
func (s *RequestStore) ShareDetail(ctx context.Context, tenantID, id string) (approvals.ShareDetail, error) {
	tid, sid, err := parseIDs(tenantID, id, errNoShare)
	if err != nil {
		return approvals.ShareDetail{}, err
	}
	q := db.New(s.pool)
	r, err := q.GetShareVisible(ctx, db.GetShareVisibleParams{ID: sid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.ShareDetail{}, errNoShare
	}
	if err != nil {
		return approvals.ShareDetail{}, err
	}
	row := db.Share{ID: r.ID, OwnerTenantID: r.OwnerTenantID, RecipientTenantID: r.RecipientTenantID, Recipients: r.Recipients,
		Level: r.Level, TermEnd: r.TermEnd, Purpose: r.Purpose, Mode: r.Mode, MaxGrantSeconds: r.MaxGrantSeconds,
		RecipientApprovals: r.RecipientApprovals, OwnerApprovals: r.OwnerApprovals, Policy: r.Policy, Proposer: r.Proposer, State: r.State}
	sh, err := loadShare(ctx, q, row)
	if err != nil {
		return approvals.ShareDetail{}, err
	}
	d := approvals.ShareDetail{Share: sh, OwnerName: r.OwnerName, RecipientName: r.RecipientName, ProposedAt: r.ProposedAt,
		OfferedAt: r.OfferedAt.Time, DecidedAt: r.DecidedAt.Time, DecidedBy: r.DecidedBy, DecisionComment: r.DecisionComment,
		EndedAt: r.EndedAt.Time, EndedBy: r.EndedBy, EndReason: r.EndReason}
	reqs, err := q.ListShareRequests(ctx, pgUUID(sid))
	if err != nil {
		return d, err
	}
	for _, x := range reqs {
		sum := approvals.Summary{ID: x.ID.String(), Resource: x.ResourceName, State: approvals.State(x.State),
			Duration: time.Duration(x.DurationSeconds) * time.Second, SubmittedAt: x.SubmittedAt, ExpiresAt: x.ExpiresAt.Time}
		if err := json.Unmarshal(x.Requester, &sum.Requester); err != nil {
			return d, fmt.Errorf("share request requester: %w", err)
		}
		d.Requests = append(d.Requests, sum)
	}
	return d, nil
}

// lockShare locks a share the tenant is a side of and rebuilds it.
func (s *RequestStore) lockShare(ctx context.Context, q *db.Queries, tenantID, id string) (db.Share, approvals.Share, error) {
	tid, sid, err := parseIDs(tenantID, id, errNoShare)
	if err != nil {
		return db.Share{}, approvals.Share{}, err
	}
	row, err := q.LockShare(ctx, sid)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, approvals.Share{}, errNoShare
	}
	if err != nil {
		return row, approvals.Share{}, err
	}
	if row.OwnerTenantID != tid && (row.RecipientTenantID != tid || !row.OfferedAt.Valid) {
		return row, approvals.Share{}, errNoShare
	}
	sh, err := loadShare(ctx, q, row)
	return row, sh, err
}

// DecideShare records an owner approver's decision under the share's row
// lock, audited; when the quorum is reached the share is offered to the
// recipient, whose tenant admins are told. It returns the new state.
func (s *RequestStore) DecideShare(ctx context.Context, tenantID, id string, who approvals.Person, approve bool, comment string, meta audit.Meta) (approvals.ShareState, error) {
	var state approvals.ShareState
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, sh, err := s.lockShare(ctx, q, tenantID, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := sh.DecideOwner(who, approve, comment, now); err != nil {
			return err
		}
		v := sh.Votes[len(sh.Votes)-1]
		person, _ := json.Marshal(who)
		if err := q.InsertShareVote(ctx, db.InsertShareVoteParams{ShareID: row.ID, ApproverSubject: who.Subject, Approver: person,
			Approve: approve, Comment: v.Comment, DecidedAt: now}); err != nil {
			return err
		}
		if err := q.SetShareState(ctx, db.SetShareStateParams{ID: row.ID, State: string(sh.State), Now: now}); err != nil {
			return err
		}
		action := "share.vote"
		switch sh.State {
		case approvals.ShareRejected:
			action = "share.rejected"
			if err := s.noticeAbout(ctx, tx, tenantID, id, []string{sh.Proposer.Email}, notify.Message{Subject: "Share rejected",
				Text: who.Email + " rejected the share: " + v.Comment, Link: "/shares/" + id}); err != nil {
				return err
			}
		case approvals.ShareAccepting:
			action = "share.offered"
			admins, err := roleEmails(ctx, q, row.RecipientTenantID, tenants.RoleTenantAdmin)
			if err != nil {
				return err
			}
			if err := s.noticeAbout(ctx, tx, row.RecipientTenantID.String(), id, admins, notify.Message{Subject: "A share is offered to your organization",
				Text: "Another organization offers to share " + strconv.Itoa(len(sh.Terms.Resources)) + " resource(s): " + sh.Terms.Purpose +
					". Accept or decline it in Gatehouse.", Link: "/shares/" + id}); err != nil {
				return err
			}
		}
		state = sh.State
		return appendAudit(ctx, q, now, shareEvents(row, sh.State == approvals.ShareAccepting, meta.Stamp(audit.Event{Actor: actor(who), Action: action,
			Target: id, Outcome: audit.Success, Detail: map[string]string{"approve": strconv.FormatBool(approve)}}))...)
	})
	return state, err
}

// AcceptShare records the recipient admin's acceptance (the share becomes
// active, its end scheduled at its term) or refusal, audited on both
// sides, with both sides told.
func (s *RequestStore) AcceptShare(ctx context.Context, tenantID, id string, who approvals.Person, accept bool, comment string, meta audit.Meta) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, sh, err := s.lockShare(ctx, q, tenantID, id)
		if err != nil {
			return err
		}
		if err := sh.Accept(who, accept, comment); err != nil {
			return err
		}
		now := s.now()
		if err := q.SetShareDecision(ctx, db.SetShareDecisionParams{ID: row.ID, State: string(sh.State), Now: now,
			DecidedBy: actor(who), Comment: comment}); err != nil {
			return err
		}
		verb, action := "declined", "share.declined"
		if accept {
			verb, action = "accepted", "share.accepted"
			if _, err := s.jobs.InsertTx(ctx, tx, jobs.EndShareArgs{ShareID: id, AtTerm: true},
				&river.InsertOpts{ScheduledAt: row.TermEnd}); err != nil {
				return fmt.Errorf("scheduling the share's end: %w", err)
			}
		}
		if err := s.tellBothSides(ctx, q, tx, row, who.Email, notify.Message{Subject: "Share " + verb,
			Text: who.Email + " " + verb + " the share. " + comment, Link: "/shares/" + id}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, shareEvents(row, true, meta.Stamp(audit.Event{Actor: actor(who), Action: action, Target: id, Outcome: audit.Success}))...)
	})
}

// tellBothSides notifies the tenant admins of both organizations (and the
// proposer), except the person acting.
func (s *RequestStore) tellBothSides(ctx context.Context, q *db.Queries, tx pgx.Tx, row db.Share, me string, msg notify.Message) error {
	for _, t := range []uuid.UUID{row.OwnerTenantID, row.RecipientTenantID} {
		to, err := roleEmails(ctx, q, t, tenants.RoleTenantAdmin)
		if err != nil {
			return err
		}
		if err := s.noticeAbout(ctx, tx, t.String(), row.ID.String(), without(to, me), msg); err != nil {
			return err
		}
	}
	return nil
}

// EndShare ends the share at the wish of a tenant admin of either side:
// the share is ended and its pending requests cancelled in one
// transaction, audited on both sides, both sides told, and the job that
// revokes every grant under it enqueued (it verifies each dead).
func (s *RequestStore) EndShare(ctx context.Context, tenantID, id string, who approvals.Person, reason string, meta audit.Meta) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, sh, err := s.lockShare(ctx, q, tenantID, id)
		if err != nil {
			return err
		}
		if err := sh.End(who, false); err != nil {
			return err
		}
		evs, err := s.endShare(ctx, q, tx, row, actor(who), who.Email, reason, meta)
		if err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), evs...)
	})
}

// endShare ends the share, cancels its pending requests, enqueues the job
// that revokes its grants and tells both sides, in tx; it returns the
// audit events, for the caller to append with the rest of its own.
func (s *RequestStore) endShare(ctx context.Context, q *db.Queries, tx pgx.Tx, row db.Share, by, byEmail, reason string, meta audit.Meta) ([]audit.Event, error) {
	now := s.now()
	if err := q.SetShareEnded(ctx, db.SetShareEndedParams{ID: row.ID, Now: now, EndedBy: by, Reason: reason}); err != nil {
		return nil, err
	}
	cancelled, err := q.CancelShareRequests(ctx, db.CancelShareRequestsParams{ShareID: pgUUID(row.ID), Now: now})
	if err != nil {
		return nil, err
	}
	if _, err := s.jobs.InsertTx(ctx, tx, jobs.EndShareArgs{ShareID: row.ID.String()}, nil); err != nil {
		return nil, fmt.Errorf("enqueueing the revocation of the share's grants: %w", err)
	}
	if err := s.tellBothSides(ctx, q, tx, row, byEmail, notify.Message{Subject: "Share ended", Urgent: true,
		Text: "The share was ended by " + by + ". " + reason + " Every access under it is being revoked.", Link: "/shares/" + row.ID.String()}); err != nil {
		return nil, err
	}
	return shareEvents(row, row.OfferedAt.Valid, meta.Stamp(audit.Event{Actor: by, Action: "share.ended", Target: row.ID.String(),
		Outcome: audit.Success, Detail: map[string]string{"reason": reason, "pending_cancelled": strconv.Itoa(len(cancelled))}})), nil
}

// EndShareAtTerm ends an active share whose term has ended (the scheduled
// job), or returns jobs.ErrSettled.
func (s *RequestStore) EndShareAtTerm(ctx context.Context, shareID string) error {
	sid, err := uuid.Parse(shareID)
	if err != nil {
		return errNoShare
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.LockShare(ctx, sid)
		if errors.Is(err, pgx.ErrNoRows) {
			return jobs.ErrSettled
		}
		if err != nil {
			return err
		}
		if approvals.ShareState(row.State) != approvals.ShareActive || s.now().Before(row.TermEnd) {
			return jobs.ErrSettled
		}
		evs, err := s.endShare(ctx, q, tx, row, "system", "", "Its term ended.", audit.Meta{})
		if err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), evs...)
	})
}

// ShareGrantsToEnd lists the active grants under the share.
func (s *RequestStore) ShareGrantsToEnd(ctx context.Context, shareID string) ([]string, error) {
	sid, err := uuid.Parse(shareID)
	if err != nil {
		return nil, errNoShare
	}
	ids, err := db.New(s.pool).ListShareGrantsToEnd(ctx, pgUUID(sid))
	return uuidStrings(ids), err
}

// ShareAccessEnded records on both sides that every grant under the ended
// share is revoked and verified dead.
func (s *RequestStore) ShareAccessEnded(ctx context.Context, shareID string, revoked int) error {
	sid, err := uuid.Parse(shareID)
	if err != nil {
		return errNoShare
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.LockShare(ctx, sid)
		if err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), shareEvents(row, row.OfferedAt.Valid, audit.Event{Actor: "system", Action: "share.access_ended",
			Target: shareID, Outcome: audit.Success, Detail: map[string]string{"grants_revoked": strconv.Itoa(revoked)}})...)
	})
}

// GrantsHeldBy lists the active grants held by the tenant's members.
func (s *RequestStore) GrantsHeldBy(ctx context.Context, tenantID string) ([]string, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoRequest
	}
	ids, err := db.New(s.pool).ListActiveGrantsHeldBy(ctx, tid)
	return uuidStrings(ids), err
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// SharedCatalog lists the resources shared with the tenant by active shares.
func (s *RequestStore) SharedCatalog(ctx context.Context, tenantID string) ([]approvals.SharedItem, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoShare
	}
	rows, err := db.New(s.pool).ListSharedCatalog(ctx, tid)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The shared catalog cannot be read right now.", err)
	}
	out := make([]approvals.SharedItem, 0, len(rows))
	for _, r := range rows {
		it := approvals.SharedItem{ShareID: r.ShareID.String(), OwnerName: r.OwnerName, Level: approvals.Level(r.Level),
			MaxGrant: time.Duration(r.MaxGrantSeconds) * time.Second, Mode: approvals.ShareMode(r.Mode), TermEnd: r.TermEnd,
			Resource: approvals.Resource{ID: r.ResourceID.String(), Name: r.Name, Description: r.Description,
				Classification: approvals.Classification(r.Classification), Mount: r.Mount, Path: r.Path,
				StoreKind: r.StoreKind, BindingID: optUUID(r.BindingID),
				BreakGlass: approvals.BreakGlass{Enabled: r.Breakglass, MaxDuration: time.Duration(r.BreakglassMaxSeconds) * time.Second, Drill: r.BreakglassDrill}}}
		if err := json.Unmarshal(r.Recipients, &it.Recipients); err != nil {
			return nil, fmt.Errorf("share recipients: %w", err)
		}
		out = append(out, it)
	}
	return out, nil
}

// RequestShared records who's request (a member of the recipient tenant)
// for a resource under an active share, under the share's read lock: under
// a pre-approved share the request is recorded issuing and its target
// returned for the caller to issue at once (a backstop job retries);
// under a per-access share it is pending for the share's approvers, who
// are told. The request lives in the owner's tenant, where the resource
// and its grant are; both sides audit it. It returns the request's ID.
func (s *RequestStore) RequestShared(ctx context.Context, tenantID, shareID, resourceID string, who approvals.Person,
	sub approvals.Submission, meta audit.Meta) (string, *jobs.GrantTarget, error) {
	tid, sid, err := parseIDs(tenantID, shareID, errNoShare)
	if err != nil {
		return "", nil, err
	}
	var id uuid.UUID
	var target *jobs.GrantTarget
	err = accessTx(ctx, s.pool, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.LockShareForAccess(ctx, sid)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && (row.RecipientTenantID != tid || !row.OfferedAt.Valid)) {
			return errNoShare
		}
		if err != nil {
			return err
		}
		sh, err := loadShare(ctx, q, row)
		if err != nil {
			return err
		}
		now := s.now()
		d, err := sh.CheckAccess(who, resourceID, sub.Level, sub.Duration, now)
		if err != nil {
			return err
		}
		rid := uuid.MustParse(resourceID)
		if err := blocked(ctx, q, blockKey{Tenant: row.OwnerTenantID, RequesterTenant: tid, Email: who.Email, Resource: rid, Share: pgUUID(sid)}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", shareID+"/"+resourceID+"/"+tenantID+"/"+who.Subject); err != nil {
			return err
		}
		open, err := q.CountOpenSharedRequestsOf(ctx, db.CountOpenSharedRequestsOfParams{ShareID: pgUUID(sid), ResourceID: rid,
			TenantID: pgUUID(tid), Subject: who.Subject})
		if err != nil {
			return err
		}
		if open > 0 {
			return apperr.New(apperr.Conflict, "You already have an open request or grant for this resource under this share.")
		}
		policy := sh.AccessPolicy()
		state := approvals.Issuing
		if sh.Terms.Mode == approvals.PerAccess {
			r, err := approvals.NewRequest(who, policy, approvals.Submission{Level: sub.Level, Duration: d, Justification: sub.Justification}, now)
			if err != nil {
				return err
			}
			state, d = r.State, r.Duration
		}
		snapshot, _ := json.Marshal(policy)
		person, _ := json.Marshal(who)
		id, err = q.InsertSharedRequest(ctx, db.InsertSharedRequestParams{TenantID: row.OwnerTenantID, ResourceID: rid,
			RequesterSubject: who.Subject, RequesterEmail: who.Email, Requester: person, Level: string(sub.Level),
			DurationSeconds: int64(d / time.Second), Justification: sub.Justification, State: string(state), Policy: snapshot,
			SubmittedAt: now, ShareID: pgUUID(sid), RequesterTenantID: pgUUID(tid)})
		if err != nil {
			return err
		}
		var res approvals.Resource
		for _, r := range sh.Terms.Resources {
			if r.ID == resourceID {
				res = r
			}
		}
		if state == approvals.Issuing {
			slug, err := q.GetTenantSlug(ctx, row.OwnerTenantID)
			if err != nil {
				return err
			}
			target = &jobs.GrantTarget{RequestID: id.String(), TenantID: row.OwnerTenantID.String(), TenantSlug: slug, Subject: who.Subject,
				Mount: res.Mount, Path: res.Path, BindingID: res.BindingID, Write: sub.Level == approvals.ReadWrite, Duration: d, Email: who.Email, Resource: res.Name}
			if _, err := s.jobs.InsertTx(ctx, tx, jobs.IssueGrantArgs{TenantID: target.TenantID, RequestID: target.RequestID},
				&river.InsertOpts{ScheduledAt: now.Add(BreakGlassBackstop)}); err != nil {
				return fmt.Errorf("enqueueing the backstop issue job: %w", err)
			}
		} else {
			approvers, err := roleEmails(ctx, q, tid, tenants.RoleApprover)
			if err != nil {
				return err
			}
			if policy.Steps[0].Name == "owner" {
				if approvers, err = roleEmails(ctx, q, row.OwnerTenantID, tenants.RoleApprover); err != nil {
					return err
				}
			}
			if err := s.notice(ctx, tx, tenantID, without(approvers, who.Email), notify.Message{Subject: "Access request under a share: " + res.Name,
				Text: who.Email + " asks for access to a shared resource: " + sub.Justification, Link: "/requests/" + id.String()}); err != nil {
				return err
			}
		}
		return appendAudit(ctx, q, now, shareEvents(row, true, meta.Stamp(audit.Event{Actor: actor(who), Action: "share.access_requested",
			Target: res.Name, Outcome: audit.Success, Detail: map[string]string{"share": shareID, "request": id.String(),
				"duration": d.String(), "state": string(state)}}))...)
	})
	return id.String(), target, err
}
