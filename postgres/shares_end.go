package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres/db"
)

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
