package postgres

import (
	"context"
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
// ID), so its delivery can be shown on that object's page. The
// transaction's other jobs (with) are inserted beside the notice's, in one
// statement.
func (s *RequestStore) noticeAbout(ctx context.Context, tx pgx.Tx, tenantID, ref string, to []string, msg notify.Message,
	with ...river.InsertManyParams) error {
	params := with
	if len(to) > 0 {
		params = append(params, emailJob(tenantID, ref, to, msg))
	}
	params = append(params, river.InsertManyParams{Args: jobs.NotifyArgs{TenantID: tenantID, Ref: ref, Channel: "chat", Message: msg}})
	if _, err := s.jobs.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueueing jobs: %w", err)
	}
	return nil
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
