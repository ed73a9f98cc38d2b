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
	"github.com/gatehouse/gatehouse/paging"
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

// Shares returns one page of the tenant's shares as q asks, outgoing and
// incoming (those offered to it), newest first, and where the next page
// starts (zero when none follows). Only the tenant's are read, wherever q's
// cursor points. An invalid q is apperr.Invalid, a malformed tenant ID
// apperr.NotFound, a database failure apperr.Unavailable.
func (s *RequestStore) Shares(ctx context.Context, tenantID string, q paging.Query) (paging.Page[approvals.ShareSummary], error) {
	if err := q.Check(); err != nil {
		return paging.Page[approvals.ShareSummary]{}, err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return paging.Page[approvals.ShareSummary]{}, errNoShare
	}
	p := db.ListSharesPageParams{TenantID: tid, Max: q.Fetch()}
	p.BeforeAt, p.BeforeID = keyset(q.Before)
	rows, err := db.New(s.pool).ListSharesPage(ctx, p)
	if err != nil {
		return paging.Page[approvals.ShareSummary]{}, apperr.Wrap(apperr.Unavailable, "Shares cannot be read right now.", err)
	}
	page := paging.Cut(q, rows, func(r db.ListSharesPageRow) paging.Cursor { return paging.At(r.ProposedAt, r.ID) })
	return paging.Map(page, func(r db.ListSharesPageRow) approvals.ShareSummary {
		return approvals.ShareSummary{ID: r.ID.String(), State: approvals.ShareState(r.State), Mode: approvals.ShareMode(r.Mode),
			Level: approvals.Level(r.Level), TermEnd: r.TermEnd, Purpose: r.Purpose, ProposedAt: r.ProposedAt, Owner: r.OwnerName,
			Recipient: r.RecipientName, Outgoing: r.OwnerTenantID == tid, Resources: int(r.Resources)}
	}), nil
}

// ShareDetail returns one share the tenant may see (owner, or recipient
// once offered); otherwise NotFound.
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
	return d, nil
}

// ShareRequests returns one page of the requests made under a share the
// tenant may see (owner, or recipient once offered) as q asks — the
// owner's every one, the recipient's those of its own people — newest
// first, and where the next page starts (zero when none follows). A share
// the tenant may not see is apperr.NotFound, whatever q's cursor points at;
// an invalid q is apperr.Invalid, a database failure apperr.Unavailable.
func (s *RequestStore) ShareRequests(ctx context.Context, tenantID, id string, q paging.Query) (paging.Page[approvals.Summary], error) {
	if err := q.Check(); err != nil {
		return paging.Page[approvals.Summary]{}, err
	}
	tid, sid, err := parseIDs(tenantID, id, errNoShare)
	if err != nil {
		return paging.Page[approvals.Summary]{}, err
	}
	dq := db.New(s.pool)
	sh, err := dq.GetShareVisible(ctx, db.GetShareVisibleParams{ID: sid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return paging.Page[approvals.Summary]{}, errNoShare
	}
	unavailable := func(err error) error {
		return apperr.Wrap(apperr.Unavailable, "The access under this share cannot be read right now.", err)
	}
	if err != nil {
		return paging.Page[approvals.Summary]{}, unavailable(err)
	}
	p := db.ListShareRequestsPageParams{ShareID: pgUUID(sid), EverySide: sh.OwnerTenantID == tid, RequesterTenantID: tid, Max: q.Fetch()}
	p.BeforeAt, p.BeforeID = keyset(q.Before)
	rows, err := dq.ListShareRequestsPage(ctx, p)
	if err != nil {
		return paging.Page[approvals.Summary]{}, unavailable(err)
	}
	page := paging.Cut(q, rows, func(r db.ListShareRequestsPageRow) paging.Cursor { return paging.At(r.SubmittedAt, r.ID) })
	out := paging.Page[approvals.Summary]{Rows: make([]approvals.Summary, 0, len(page.Rows)), Older: page.Older}
	for _, x := range page.Rows {
		sum := approvals.Summary{ID: x.ID.String(), Resource: x.ResourceName, State: approvals.State(x.State),
			Duration: time.Duration(x.DurationSeconds) * time.Second, SubmittedAt: x.SubmittedAt, ExpiresAt: x.ExpiresAt.Time}
		if err := json.Unmarshal(x.Requester, &sum.Requester); err != nil {
			return paging.Page[approvals.Summary]{}, fmt.Errorf("share request requester: %w", err)
		}
		out.Rows = append(out.Rows, sum)
	}
	return out, nil
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
