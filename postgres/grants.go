package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

var _ jobs.GrantStore = (*RequestStore)(nil)

// grantStep locks the request, checks it is in one of from, and runs fn.
// A request already past those states is jobs.ErrSettled. A step that
// grants access (grants) takes the revocation lock shared before the
// request's row, as every access path does (see revocationLock).
func (s *RequestStore) grantStep(ctx context.Context, requestID string, from []approvals.State, grants bool,
	fn func(q *db.Queries, tx pgx.Tx, row db.LockGrantTargetsRow, t jobs.GrantTarget) error) (jobs.GrantTarget, error) {
	id, err := uuid.Parse(requestID)
	if err != nil {
		return jobs.GrantTarget{}, errNoRequest
	}
	var t jobs.GrantTarget
	step := func(q *db.Queries, tx pgx.Tx) error {
		row, err := lockGrantTarget(ctx, q, id)
		if err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || approvals.State(row.State) == f
		}
		if !ok {
			return jobs.ErrSettled
		}
		t = targetOf(row)
		return fn(q, tx, row, t)
	}
	if grants {
		err = accessTx(ctx, s.pool, step)
	} else { // a step that grants nothing (start, fail, end) takes no revocation lock
		err = InTx(ctx, s.pool, func(tx pgx.Tx) error { return step(db.New(tx), tx) })
	}
	return t, err
}

// lockGrantTarget locks request id and reads what its grant steps need.
func lockGrantTarget(ctx context.Context, q *db.Queries, id uuid.UUID) (db.LockGrantTargetsRow, error) {
	row, err := q.LockGrantTarget(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.LockGrantTargetsRow{}, errNoRequest
	}
	return db.LockGrantTargetsRow(row), err
}

// targetOf is the grant target of a request's row.
func targetOf(row db.LockGrantTargetsRow) jobs.GrantTarget {
	t := jobs.GrantTarget{RequestID: row.ID.String(), TenantID: row.TenantID.String(), TenantSlug: row.TenantSlug,
		Subject: row.RequesterSubject, Mount: row.Mount, Path: row.Path, BindingID: optUUID(row.BindingID), Write: row.Level == string(approvals.ReadWrite),
		Duration: time.Duration(row.DurationSeconds) * time.Second, Email: row.RequesterEmail, Resource: row.ResourceName,
		BreakGlass: row.Kind == string(approvals.BreakGlassKind), Drill: row.Drill, Rotated: row.RotatedVersion.Valid,
		Accessor: row.Accessor.String, Retired: row.RetiredAccessors, ExpiresAt: row.ExpiresAt.Time}
	t.Rotate = t.BreakGlass && row.BreakglassRotate
	return t
}

// move records the request's transition from its state to next, audited
// (stamped with meta when a person's request caused it).
func (s *RequestStore) move(ctx context.Context, q *db.Queries, row db.LockGrantTargetsRow, next approvals.State, reason, actor, action string, meta audit.Meta) error {
	if _, err := approvals.State(row.State).Move(next); err != nil {
		return err
	}
	now := s.now()
	if err := q.SetRequestState(ctx, db.SetRequestStateParams{ID: row.ID, State: string(next), FailureReason: reason, UpdatedAt: now}); err != nil {
		return err
	}
	evs := moveEvents(row, reason, actor, action)
	for i := range evs {
		evs[i] = meta.Stamp(evs[i])
	}
	return appendAudit(ctx, q, now, evs...)
}

// moveEvents audit a request's transition as action: in the owner's
// organization and, under a share, in the recipient's too.
func moveEvents(row db.LockGrantTargetsRow, reason, actor, action string) []audit.Event {
	ev := audit.Event{TenantID: row.TenantID.String(), Actor: actor, Action: action, Target: row.ID.String(), Outcome: audit.Success}
	if reason != "" {
		ev.Outcome, ev.Detail = audit.Failure, map[string]string{"reason": reason}
	}
	evs := []audit.Event{ev}
	if row.RequesterTenantID.Valid { // under a share: the recipient sees its access on its side too
		ev.TenantID = uuidString(row.RequesterTenantID.Bytes)
		evs = append(evs, ev)
	}
	return evs
}

// StartIssuing moves an approved (or failed, on retry) request to issuing.
func (s *RequestStore) StartIssuing(ctx context.Context, requestID string) (jobs.GrantTarget, error) {
	return s.grantStep(ctx, requestID, []approvals.State{approvals.Approved, approvals.Failed, approvals.Issuing}, false,
		func(q *db.Queries, _ pgx.Tx, row db.LockGrantTargetsRow, _ jobs.GrantTarget) error {
			if approvals.State(row.State) == approvals.Issuing {
				return nil // a retried job: already issuing
			}
			return s.move(ctx, q, row, approvals.Issuing, "", "system", "grant.issuing", audit.Meta{})
		})
}

// FinishIssuing makes the grant active until expiresAt and schedules its
// expiry job in the same transaction.
//
// Under a share, the share's row is read-locked first: a share that is no
// longer active fails the request instead (jobs.ErrNotIssuable), and a share
// being ended waits for this grant, so the end's revocation sees it. A
// retired resource fails it the same way (the resource read-locked against
// a retire, which is refused while the request is issuing).
func (s *RequestStore) FinishIssuing(ctx context.Context, requestID string, expiresAt time.Time) error {
	notIssuable := false
	_, err := s.grantStep(ctx, requestID, []approvals.State{approvals.Issuing}, true,
		func(q *db.Queries, tx pgx.Tx, row db.LockGrantTargetsRow, _ jobs.GrantTarget) error {
			if err := blocked(ctx, q, blockKey{Tenant: row.TenantID, RequesterTenant: uuidOr(row.RequesterTenantID), Email: row.RequesterEmail,
				Resource: row.ResourceID, Share: row.ShareID, Request: row.ID}); err != nil {
				notIssuable = true // nothing is issued inside a revoked scope: the request fails, the policy goes
				return s.move(ctx, q, row, approvals.Failed, "Blocked by an emergency revocation.", "system", "grant.failed", audit.Meta{})
			}
			if row.ShareID.Valid {
				sh, err := q.LockShareForAccess(ctx, uuid.UUID(row.ShareID.Bytes))
				if err != nil {
					return err
				}
				if approvals.ShareState(sh.State) != approvals.ShareActive {
					notIssuable = true
					return s.move(ctx, q, row, approvals.Failed, "The share ended before the access was issued.", "system", "grant.failed", audit.Meta{})
				}
			}
			if _, err := lockLiveResource(ctx, q, row.TenantID, row.ResourceID); errors.Is(err, errNoResource) {
				notIssuable = true // retired while the request was failed and a job still retried it
				return s.move(ctx, q, row, approvals.Failed, "The resource was retired from the catalog before the access was issued.", "system", "grant.failed", audit.Meta{})
			} else if err != nil {
				return err
			}
			if err := q.InsertGrant(ctx, db.InsertGrantParams{RequestID: row.ID, TenantID: row.TenantID,
				IssuedAt: timestamptz(s.now()), ExpiresAt: timestamptz(expiresAt)}); err != nil {
				return err
			}
			remindAt := expiresAt.Add(-jobs.RemindBefore(time.Duration(row.DurationSeconds) * time.Second))
			if err := s.noticeAbout(ctx, tx, row.TenantID.String(), requestID, []string{row.RequesterEmail}, notify.Message{
				Subject: "Access granted: " + row.ResourceName, Text: "Your access is ready until " + expiresAt.UTC().Format(time.RFC1123) + ".",
				Link: "/grants"},
				river.InsertManyParams{Args: jobs.ExpireGrantArgs{TenantID: row.TenantID.String(), RequestID: requestID},
					InsertOpts: &river.InsertOpts{ScheduledAt: expiresAt.Add(jobs.ExpiryBackstop)}},
				river.InsertManyParams{Args: jobs.RemindArgs{TenantID: row.TenantID.String(), RequestID: requestID},
					InsertOpts: &river.InsertOpts{ScheduledAt: remindAt}}); err != nil {
				return err
			}
			return s.move(ctx, q, row, approvals.Active, "", "system", "grant.issued", audit.Meta{})
		})
	if err == nil && notIssuable {
		return jobs.ErrNotIssuable
	}
	return err
}

// FailIssuing moves the request to failed with reason (shown to the requester).
func (s *RequestStore) FailIssuing(ctx context.Context, requestID, reason string) error {
	_, err := s.grantStep(ctx, requestID, []approvals.State{approvals.Issuing}, false,
		func(q *db.Queries, tx pgx.Tx, row db.LockGrantTargetsRow, _ jobs.GrantTarget) error {
			if err := s.noticeAbout(ctx, tx, row.TenantID.String(), requestID, []string{row.RequesterEmail}, notify.Message{
				Subject: "Access could not be issued: " + row.ResourceName, Text: reason, Link: "/requests/" + requestID}); err != nil {
				return err
			}
			return s.move(ctx, q, row, approvals.Failed, reason, "system", "grant.failed", audit.Meta{})
		})
	return err
}

// requesterTenantOf is the tenant of row's requester: the recipient's under
// a share, else the request's own.
func requesterTenantOf(row db.LockGrantTargetsRow) uuid.UUID {
	if t := uuidOr(row.RequesterTenantID); t != uuid.Nil {
		return t
	}
	return row.TenantID
}

// RetryIssuing moves the failed request id back to issuing and enqueues
// its grant job again, audited (grant.retried, on both sides of a share).
// Only its requester (in the requester's organization) or a tenant admin of
// the resource's organization may: anyone else gets apperr.NotFound, as
// for a request they cannot see. A blocked scope refuses, and so does a
// retired resource (apperr.Conflict).
func (s *RequestStore) RetryIssuing(ctx context.Context, tenantID, id string, who approvals.Person, meta audit.Meta) error {
	tid, rid, err := parseIDs(tenantID, id, errNoRequest)
	if err != nil {
		return err
	}
	return accessTx(ctx, s.pool, func(q *db.Queries, tx pgx.Tx) error {
		row, err := lockGrantTarget(ctx, q, rid)
		if err != nil {
			return err
		}
		requesterTenant := requesterTenantOf(row)
		mine := row.RequesterSubject == who.Subject && requesterTenant == tid
		if !mine && !(row.TenantID == tid && slices.Contains(who.Roles, tenants.RoleTenantAdmin)) {
			return errNoRequest
		}
		if approvals.State(row.State) != approvals.Failed {
			return apperr.New(apperr.Conflict, "Only a request whose access could not be issued can be retried; this one is "+row.State+".")
		}
		if err := blocked(ctx, q, blockKey{Tenant: row.TenantID, RequesterTenant: requesterTenant, Email: row.RequesterEmail,
			Resource: row.ResourceID, Share: row.ShareID, Request: row.ID}); err != nil {
			return err
		}
		if _, err := lockLiveResource(ctx, q, row.TenantID, row.ResourceID); errors.Is(err, errNoResource) {
			return apperr.New(apperr.Conflict, "The resource was retired from the catalog, so this access can no longer be issued.")
		} else if err != nil {
			return err
		}
		res, err := s.jobs.InsertTx(ctx, tx, jobs.IssueGrantArgs{TenantID: row.TenantID.String(), RequestID: id, Retry: s.now().UnixNano()}, nil)
		if err != nil {
			return fmt.Errorf("enqueueing the grant job: %w", err)
		}
		if res.UniqueSkippedAsDuplicate { // never leave the request issuing with no job to issue it
			return fmt.Errorf("enqueueing the grant job: taken for a duplicate of job %d", res.Job.ID)
		}
		return s.move(ctx, q, row, approvals.Issuing, "", actor(who), "grant.retried", meta)
	})
}

// Ending returns an active grant's target, or jobs.ErrSettled.
func (s *RequestStore) Ending(ctx context.Context, requestID string) (jobs.GrantTarget, error) {
	return s.grantStep(ctx, requestID, []approvals.State{approvals.Active}, false,
		func(*db.Queries, pgx.Tx, db.LockGrantTargetsRow, jobs.GrantTarget) error { return nil })
}

// FinishEnding records the active grant ended: expired, or revoked by actor.
func (s *RequestStore) FinishEnding(ctx context.Context, requestID string, revoked bool, actor string) error {
	_, err := s.grantStep(ctx, requestID, []approvals.State{approvals.Active}, false,
		func(q *db.Queries, tx pgx.Tx, row db.LockGrantTargetsRow, _ jobs.GrantTarget) error {
			if err := q.EndGrant(ctx, db.EndGrantParams{RequestID: row.ID, EndedAt: timestamptz(s.now())}); err != nil {
				return err
			}
			next, action := approvals.Expired, "grant.expired"
			if revoked {
				next, action = approvals.Revoked, "grant.revoked"
			}
			if err := s.noticeAbout(ctx, tx, row.TenantID.String(), requestID, []string{row.RequesterEmail}, notify.Message{
				Subject: "Access ended: " + row.ResourceName, Text: "Your access has ended (" + string(next) + ").", Link: "/requests/" + requestID}); err != nil {
				return err
			}
			return s.move(ctx, q, row, next, "", actor, action, audit.Meta{})
		})
	return err
}

// HandOverToken records accessor as the current token of the holder's
// active grant, audited. The token it replaces joins the grant's retired
// tokens, which stay recorded (and are revoked when the grant ends) until
// ForgetRevokedTokens; it returns every retired token's accessor, for the
// caller to revoke. It returns apperr.NotFound unless the request is the
// holder's own, in the tenant, and active, and approvals.ErrBlocked when a
// revocation covers it (nothing recorded either way).
func (s *RequestStore) HandOverToken(ctx context.Context, tenantID, requestID, holder, accessor string, meta audit.Meta) ([]string, time.Time, error) {
	tid, rid, err := parseIDs(tenantID, requestID, errNoRequest)
	if err != nil {
		return nil, time.Time{}, err
	}
	var retired []string
	var expires time.Time
	err = accessTx(ctx, s.pool, func(q *db.Queries, _ pgx.Tx) error {
		g, err := q.LockActiveGrantOf(ctx, db.LockActiveGrantOfParams{RequestID: rid, TenantID: tid, Holder: holder})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoActiveGrant
		}
		if err != nil {
			return err
		}
		if err := blocked(ctx, q, blockKey{Tenant: g.TenantID, RequesterTenant: uuidOr(g.RequesterTenantID), Email: g.RequesterEmail,
			Resource: g.ResourceID, Share: g.ShareID, Request: rid}); err != nil {
			return err
		}
		expires = g.ExpiresAt.Time
		if retired, err = q.HandOverAccessor(ctx, db.HandOverAccessorParams{RequestID: rid, Accessor: accessor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{
			TenantID: tenantID, Actor: holder, Action: "grant.token_handed_over", Target: requestID, Outcome: audit.Success,
		}))
	})
	return retired, expires, err
}

// ForgetRevokedTokens drops the retired tokens dead (accessors verified
// dead by the caller) from the holder's grant, audited
// (grant.previous_tokens_revoked, with their number, never the accessors).
// Accessors the grant does not hold retired change nothing; a request that
// is not the holder's own, in the tenant, is apperr.NotFound.
func (s *RequestStore) ForgetRevokedTokens(ctx context.Context, tenantID, requestID, holder string, dead []string, meta audit.Meta) error {
	tid, rid, err := parseIDs(tenantID, requestID, errNoRequest)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := lockGrantTarget(ctx, q, rid)
		if err != nil {
			return err
		}
		if requesterTenantOf(row) != tid || row.RequesterSubject != holder {
			return errNoRequest
		}
		n, err := q.ForgetRetiredAccessors(ctx, db.ForgetRetiredAccessorsParams{RequestID: rid, Dead: dead})
		if errors.Is(err, pgx.ErrNoRows) { // no grant row: nothing was handed out
			return nil
		}
		if err != nil || n == 0 {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: holder, Action: "grant.previous_tokens_revoked",
			Target: requestID, Outcome: audit.Success, Detail: map[string]string{"tokens": strconv.Itoa(int(n))}}))
	})
}

// ActiveGrantExpiry returns when the holder's active grant ends, or
// apperr.NotFound.
func (s *RequestStore) ActiveGrantExpiry(ctx context.Context, tenantID, requestID, holder string) (time.Time, error) {
	tid, rid, err := parseIDs(tenantID, requestID, errNoRequest)
	if err != nil {
		return time.Time{}, err
	}
	g, err := db.New(s.pool).LockActiveGrantOf(ctx, db.LockActiveGrantOfParams{RequestID: rid, TenantID: tid, Holder: holder})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, errNoActiveGrant
	}
	return g.ExpiresAt.Time, err
}

var errNoActiveGrant = apperr.New(apperr.NotFound, "There is no active grant of yours with that ID.")

// TimeOutPending closes every pending request undecided past the pending
// timeout of the policy it was submitted under, audited, and returns how
// many it closed. Rows another replica is handling are skipped.
func (s *RequestStore) TimeOutPending(ctx context.Context) (int, error) {
	now := s.now()
	closed := 0
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.LockOverduePending(ctx, now)
		if err != nil {
			return err
		}
		var evs []audit.Event
		for _, row := range rows {
			r, err := loadRequest(ctx, q, row)
			if err != nil {
				return err
			}
			if !r.TimeOut(now) {
				continue
			}
			if err := q.SetRequestState(ctx, db.SetRequestStateParams{ID: row.ID, State: string(r.State), UpdatedAt: now}); err != nil {
				return err
			}
			evs = append(evs, audit.Event{TenantID: row.TenantID.String(), Actor: "system",
				Action: "request.timed_out", Target: row.ID.String(), Outcome: audit.Success})
			if err := s.noticeAbout(ctx, tx, row.TenantID.String(), row.ID.String(), []string{row.RequesterEmail}, notify.Message{
				Subject: "Request timed out", Text: "Nobody decided your request in time; it is closed. You can ask again.",
				Link: "/requests/" + row.ID.String()}); err != nil {
				return err
			}
			closed++
		}
		return appendAudit(ctx, q, now, evs...)
	})
	return closed, err
}

// DueGrants returns up to max active grants whose time is up by the
// database's clock (the one River schedules by, shared by every replica),
// earliest first: the expiry sweep's work (ending one twice is safe).
func (s *RequestStore) DueGrants(ctx context.Context, max int) ([]string, error) {
	ids, err := db.New(s.pool).DueGrants(ctx, int32(max))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out, nil
}
