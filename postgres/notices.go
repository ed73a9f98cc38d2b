package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// noticeAbout enqueues msg by email to the recipients (none: chat only)
// and to the tenant's chat webhook, inside tx: it is sent if and only if
// the event commits. Who is told, on which channel, is recorded in the same
// transaction (recordNotices), with ref naming the object it is about (a
// request, break-glass, share, revocation or review campaign ID, whose
// page shows it; "" for none), so every notice is on the Notifications
// page with how its delivery went. The transaction's other jobs (with)
// are inserted beside the notice's, in one statement.
func (s *RequestStore) noticeAbout(ctx context.Context, tx pgx.Tx, tenantID, ref string, to []string, msg notify.Message,
	with ...river.InsertManyParams) error {
	params := with
	if len(to) > 0 {
		params = append(params, emailJob(tenantID, ref, to, msg))
	}
	params = append(params, river.InsertManyParams{Args: jobs.NotifyArgs{TenantID: tenantID, Ref: ref, Channel: "chat", Message: msg}})
	if err := s.recordNotices(ctx, tx, params); err != nil {
		return err
	}
	if _, err := s.jobs.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueueing jobs: %w", err)
	}
	return nil
}

// recordNotices records, in tx, each notice among params (a NotifyArgs):
// its object (Ref), channel, recipients and subject, pending. It gives each
// its record's ID (NoticeID) for the job to record the outcome in, so
// params must be inserted after, in the same tx.
func (s *RequestStore) recordNotices(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	var p db.InsertNoticesParams
	for i := range params {
		a, ok := params[i].Args.(jobs.NotifyArgs)
		if !ok {
			continue
		}
		tid, err := uuid.Parse(a.TenantID)
		if err != nil {
			return fmt.Errorf("recording a notice: tenant %q: %w", a.TenantID, err)
		}
		id := uuid.New()
		a.NoticeID = id.String()
		params[i].Args = a
		to, _ := json.Marshal(append([]string{}, a.To...))
		p.Ids, p.TenantIds, p.Refs, p.Channels = append(p.Ids, id), append(p.TenantIds, tid), append(p.Refs, a.Ref), append(p.Channels, a.Channel)
		p.Recipients, p.Subjects, p.Urgents = append(p.Recipients, to), append(p.Subjects, a.Message.Subject), append(p.Urgents, a.Message.Urgent)
	}
	if len(p.Ids) == 0 {
		return nil
	}
	p.EnqueuedAt = s.now()
	if err := db.New(tx).InsertNotices(ctx, p); err != nil {
		return fmt.Errorf("recording notices: %w", err)
	}
	return nil
}

// Deliveries returns the latest notices about the tenant's object ref —
// who was told, on which channel, and how delivery went — however long ago
// they were sent: the newest jobs.MaxObjectNotices, oldest first, and how
// many there are in all (read in one snapshot, so the two agree). A
// malformed tenant ID reads nothing; a database failure is
// apperr.Unavailable.
func (s *RequestStore) Deliveries(ctx context.Context, tenantID, ref string) (jobs.ObjectNotices, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return jobs.ObjectNotices{}, nil
	}
	var rows []db.Notice
	var total int64
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := db.New(tx)
		latest, lerr := q.ListLatestNotices(ctx, db.ListLatestNoticesParams{TenantID: tid, Ref: ref, Max: jobs.MaxObjectNotices})
		if lerr != nil {
			return lerr
		}
		rows, total = latest, int64(len(latest))
		if len(latest) < jobs.MaxObjectNotices {
			return nil
		}
		var cerr error
		total, cerr = q.CountNotices(ctx, db.CountNoticesParams{TenantID: tid, Ref: ref}) // there may be more
		return cerr
	})
	if err != nil {
		return jobs.ObjectNotices{}, apperr.Wrap(apperr.Unavailable, "Who was told cannot be read right now.", err)
	}
	return jobs.ObjectNotices{Latest: deliveries(rows), Total: int(total)}, nil
}

// deliveries are notices' records as the pages show them.
func deliveries(rows []db.Notice) []jobs.Delivery {
	out := make([]jobs.Delivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, jobs.Delivery{Channel: r.Channel, To: r.Recipients, Subject: r.Subject, Urgent: r.Urgent, EnqueuedAt: r.EnqueuedAt,
			State: r.State, Attempts: int(r.Attempts), Reason: r.Reason, AttemptedAt: r.AttemptedAt.Time})
	}
	return out
}

// RecordDelivery records outcome o of an attempt at notice id, and runs
// complete (when not nil) in the same transaction. A delivered notice stays
// delivered; a notice without a record (its tenant deleted) is no error.
func (s *RequestStore) RecordDelivery(ctx context.Context, id string, o jobs.DeliveryOutcome, complete func(pgx.Tx) error) error {
	nid, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("recording a delivery: notice %q: %w", id, err)
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := db.New(tx).RecordNoticeAttempt(ctx, db.RecordNoticeAttemptParams{ID: nid, State: o.State, Attempt: int32(o.Attempt),
			Reason: o.Reason, At: timestamptz(s.now())}); err != nil {
			return fmt.Errorf("recording a delivery: %w", err)
		}
		if complete != nil {
			return complete(tx)
		}
		return nil
	})
}

// emailJob is the job sending msg by email to the recipients.
func emailJob(tenantID, ref string, to []string, msg notify.Message) river.InsertManyParams {
	return river.InsertManyParams{Args: jobs.NotifyArgs{TenantID: tenantID, Ref: ref, Channel: "email", To: to, Message: msg}}
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
