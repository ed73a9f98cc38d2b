package postgres

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// A tenant's notification channels: its chat webhook and its email channel
// (on or off, through Gatehouse's relay or its own). Every change is
// audited without the webhook URL (it often embeds a credential) and
// without any password (which is in Vault, never here).

var errNoTenant = apperr.New(apperr.NotFound, "There is no such organization.")

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
		loopback := false // plain http is for a local receiver only
		if err == nil {
			ip, _ := netip.ParseAddr(u.Hostname())
			loopback = ip.IsLoopback() || u.Hostname() == "localhost"
		}
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

// EmailChannel returns the tenant's email channel: the default (on, through
// Gatehouse's relay) when it never chose one.
func (s *RequestStore) EmailChannel(ctx context.Context, tenantID string) (tenants.EmailChannel, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return tenants.EmailChannel{}, errNoTenant
	}
	r, err := db.New(s.pool).GetEmailChannel(ctx, tid)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.DefaultEmailChannel(), nil
	}
	if err != nil {
		return tenants.EmailChannel{}, err
	}
	return tenants.EmailChannel{Enabled: r.EmailEnabled,
		Relay: tenants.MailRelay{Addr: r.SmtpAddr, From: r.SmtpFrom, Username: r.SmtpUsername, PasswordRef: r.SmtpSecretRef}}, nil
}

// SetEmailChannel records the tenant's email channel (validated by the
// caller, its password already in Vault), audited with what changed in
// plain terms: on or off, which relay, whether it logs in.
func (s *RequestStore) SetEmailChannel(ctx context.Context, tenantID string, ch tenants.EmailChannel, actor string, meta audit.Meta) error {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return errNoTenant
	}
	relay := "gatehouse"
	if ch.Relay.Own() {
		relay = ch.Relay.Addr
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.SetEmailChannel(ctx, db.SetEmailChannelParams{TenantID: tid, EmailEnabled: ch.Enabled, SmtpAddr: ch.Relay.Addr,
			SmtpFrom: ch.Relay.From, SmtpUsername: ch.Relay.Username, SmtpSecretRef: ch.Relay.PasswordRef, Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor,
			Action: "channels.email_set", Outcome: audit.Success, Detail: map[string]string{"enabled": boolString(ch.Enabled),
				"relay": relay, "from": ch.Relay.From, "login": boolString(ch.Relay.Username != "")}}))
	})
}

// Notices returns one page of the tenant's notices as q asks — what was
// sent, to whom, and how delivery went — newest first, narrowed to one
// object's when q has a Ref, and where the next older page starts (zero
// when none). Only the tenant's own notices are read, wherever q's cursor
// points and whatever object q names. An invalid q is apperr.Invalid (nothing
// is read), a malformed tenant ID apperr.NotFound, a database failure
// apperr.Unavailable.
func (s *RequestStore) Notices(ctx context.Context, tenantID string, q jobs.NoticeQuery) (jobs.NoticePage, error) {
	if err := q.Check(); err != nil {
		return jobs.NoticePage{}, err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return jobs.NoticePage{}, errNoTenant
	}
	p := db.ListNoticesPageParams{TenantID: tid, State: q.State, Max: paging.Query{Limit: q.Limit}.Fetch()}
	p.BeforeAt, p.BeforeID = keyset(q.Before)
	read := func(dq *db.Queries) ([]db.Notice, error) { return dq.ListNoticesPage(ctx, p) }
	if q.Ref != "" { // one object's notices, read from notices_ref_page (migration 0036)
		read = func(dq *db.Queries) ([]db.Notice, error) {
			return dq.ListRefNoticesPage(ctx, db.ListRefNoticesPageParams{TenantID: tid, Ref: q.Ref, BeforeAt: p.BeforeAt, BeforeID: p.BeforeID,
				State: p.State, Max: p.Max})
		}
	}
	var rows []db.Notice
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// Left to itself the planner may walk notices_enqueued (every
		// tenant's notices by time, kept for the retention sweep) and sort
		// each instant's by ID, betting the tenant's are among the newest:
		// a scan of every tenant's notices for a tenant gone quiet, or for
		// a state few notices are in. Without that incremental sort the
		// page is read from notices_page alone (migration 0030 says more).
		if _, err := tx.Exec(ctx, "SET LOCAL enable_incremental_sort = off"); err != nil {
			return err
		}
		rows, err = read(db.New(tx))
		return err
	})
	if err != nil {
		return jobs.NoticePage{}, apperr.Wrap(apperr.Unavailable, "The notifications cannot be read right now.", err)
	}
	page := paging.Cut(paging.Query{Limit: q.Limit}, rows, func(n db.Notice) paging.Cursor { return paging.At(n.EnqueuedAt, n.ID) })
	return jobs.NoticePage{Notices: deliveries(page.Rows), Older: page.Older}, nil
}
