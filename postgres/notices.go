package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// notice enqueues msg by email to the recipients and to the tenant's chat
// webhook, inside tx: it is sent if and only if the event commits.
func (s *RequestStore) notice(ctx context.Context, tx pgx.Tx, tenantID string, to []string, msg notify.Message,
	with ...river.InsertManyParams) error {
	return s.noticeAbout(ctx, tx, tenantID, "", to, msg, with...)
}

// noticeAbout is notice with ref naming the object it is about (a request
// ID): who is told, on which channel, is recorded in the same transaction
// (recordNotices), and that object's page shows it. The transaction's
// other jobs (with) are inserted beside the notice's, in one statement.
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

// recordNotices records, in tx, each notice among params that is about an
// object (a NotifyArgs with a Ref): its channel, recipients and subject,
// pending. It gives each its record's ID (NoticeID) for the job to record
// the outcome in, so params must be inserted after, in the same tx.
func (s *RequestStore) recordNotices(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	var p db.InsertNoticesParams
	for i := range params {
		a, ok := params[i].Args.(jobs.NotifyArgs)
		if !ok || a.Ref == "" {
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

// Deliveries returns the notices about the tenant's object ref — who was
// told, on which channel, and how delivery went — oldest first, however
// long ago they were sent.
func (s *RequestStore) Deliveries(ctx context.Context, tenantID, ref string) ([]jobs.Delivery, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, nil
	}
	rows, err := db.New(s.pool).ListNotices(ctx, db.ListNoticesParams{TenantID: tid, Ref: ref})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "Who was told cannot be read right now.", err)
	}
	out := make([]jobs.Delivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, jobs.Delivery{Channel: r.Channel, To: r.Recipients, Subject: r.Subject, Urgent: r.Urgent, EnqueuedAt: r.EnqueuedAt,
			State: r.State, Attempts: int(r.Attempts), Reason: r.Reason, AttemptedAt: r.AttemptedAt.Time})
	}
	return out, nil
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

// Webhook returns the tenant's chat webhook URL, or "" when none is set.
func (s *RequestStore) Webhook(ctx context.Context, tenantID string) (string, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return "", nil
	}
	u, err := db.New(s.pool).GetWebhook(ctx, tid)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return u, err
}

// SetWebhook sets the tenant's chat webhook URL ("" to remove it), audited
// without the URL (it often embeds a credential). It must be https (or
// http on loopback, for development).
func (s *RequestStore) SetWebhook(ctx context.Context, tenantID, raw, actor string, meta audit.Meta) error {
	raw = strings.TrimSpace(raw)
	if raw != "" {
		u, err := url.Parse(raw)
		loopback := u != nil && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost")
		if err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && loopback)) {
			return apperr.InvalidFields("Check the webhook URL.", map[string]string{"webhook_url": "Give an https:// URL."})
		}
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return errNoRequest
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.SetWebhook(ctx, db.SetWebhookParams{TenantID: tid, WebhookUrl: raw, Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor,
			Action: "channels.webhook_set", Outcome: audit.Success, Detail: map[string]string{"set": boolString(raw != "")}}))
	})
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
