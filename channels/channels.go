// Package channels keeps each tenant's notification channels and opens them
// for sending: the chat webhook, and the email channel — off, through
// Gatehouse's own relay, or through the organization's own relay, whose
// password is kept in Vault (PostgreSQL holds only a reference). The
// destinations a tenant admin types are dialed through notify.PublicDialer
// unless the server allows local ones (development and tests).
package channels

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/tenants"
)

// Store keeps the channels' settings and the notices' records
// (postgres.RequestStore).
type Store interface {
	Webhook(ctx context.Context, tenantID string) (string, error)
	SetWebhook(ctx context.Context, tenantID, url, actor string, meta audit.Meta) error
	EmailChannel(ctx context.Context, tenantID string) (tenants.EmailChannel, error)
	SetEmailChannel(ctx context.Context, tenantID string, ch tenants.EmailChannel, actor string, meta audit.Meta) error
	Notices(ctx context.Context, tenantID string, q jobs.NoticeQuery) (jobs.NoticePage, error)
}

// Secrets keeps relay passwords in Gatehouse's own Vault mount.
type Secrets interface {
	PutKV2(ctx context.Context, mount, path string, data map[string]any) error
	GetKV2(ctx context.Context, mount, path string) (map[string]any, error)
	ListKV2(ctx context.Context, mount, prefix string) ([]string, error)
	DeleteKV2(ctx context.Context, mount, path string) error
}

// Service keeps and opens tenants' channels.
type Service struct {
	Store   Store
	Secrets Secrets
	Audit   audit.Recorder // test sends are audited here
	// Relay is Gatehouse's own relay (server configuration; Addr "" when
	// there is none). Its PublicURL and clock serve every relay.
	Relay *notify.Mailer
	// Chat posts to tenants' chat webhooks (through a client that dials
	// public addresses only, unless Local: see notify.PublicClient).
	Chat *notify.Webhook
	// TLS holds the roots organizations' relays' certificates are checked
	// against (nil: the system's).
	TLS *tls.Config
	// Local lets organizations' relays be on loopback or private addresses
	// and on any port: local development and tests only.
	Local bool
	// Networks are the private networks organizations' relays may be in
	// besides public addresses (server configuration; mail ports still
	// apply). Chat takes its own copy, through its client.
	Networks []netip.Prefix
}

// dialTimeout bounds connecting to an organization's relay.
const dialTimeout = 30 * time.Second

// Webhook returns the tenant's chat webhook URL ("" when none is set).
func (s *Service) Webhook(ctx context.Context, tenantID string) (string, error) {
	return s.Store.Webhook(ctx, tenantID)
}

// SetWebhook sets the tenant's chat webhook URL ("" removes it), audited.
func (s *Service) SetWebhook(ctx context.Context, tenantID, url, actor string, meta audit.Meta) error {
	return s.Store.SetWebhook(ctx, tenantID, url, actor, meta)
}

// Email returns the tenant's email channel.
func (s *Service) Email(ctx context.Context, tenantID string) (tenants.EmailChannel, error) {
	return s.Store.EmailChannel(ctx, tenantID)
}

// RelayEnabled reports whether Gatehouse itself has a mail relay set up.
func (s *Service) RelayEnabled() bool { return s.Relay.Enabled() }

// Notices returns one page of the tenant's notices as q asks, newest first,
// and where the next older page starts (zero when none). It never reads
// another tenant's notices, whatever q's cursor says. An invalid q is
// apperr.Invalid and reads nothing; a database failure is
// apperr.Unavailable.
func (s *Service) Notices(ctx context.Context, tenantID string, q jobs.NoticeQuery) (jobs.NoticePage, error) {
	if err := q.Check(); err != nil {
		return jobs.NoticePage{}, err
	}
	return s.Store.Notices(ctx, tenantID, q)
}

// SetEmail validates and records the tenant's email channel, audited.
// password is the relay's password as typed: "" keeps the one kept for the
// same relay and username (a password is never sent to a relay or user it
// was not given for). A new password goes to a fresh place in Vault before
// PostgreSQL points at it, so a failure anywhere leaves the channel as it
// was; passwords no longer referenced are deleted from Vault afterwards.
// Invalid input is apperr.Invalid with field errors and changes nothing.
func (s *Service) SetEmail(ctx context.Context, tenantID string, ch tenants.EmailChannel, password, actor string, meta audit.Meta) error {
	cur, err := s.Store.EmailChannel(ctx, tenantID)
	if err != nil {
		return err
	}
	ch.Relay = tenants.MailRelay{Addr: strings.TrimSpace(ch.Relay.Addr), From: strings.TrimSpace(ch.Relay.From),
		Username: strings.TrimSpace(ch.Relay.Username)}
	same := cur.Relay.PasswordRef != "" && cur.Relay.Addr == ch.Relay.Addr && cur.Relay.Username == ch.Relay.Username
	if err := tenants.CheckEmailChannel(ch, password, same, s.Local); err != nil {
		return err
	}
	switch {
	case ch.Relay.Username == "":
	case password == "":
		ch.Relay.PasswordRef = cur.Relay.PasswordRef
	default:
		ch.Relay.PasswordRef = tenants.MailRelayRef(tenantID, uuid.NewString())
		mount, path, _ := strings.Cut(ch.Relay.PasswordRef, "/")
		if err := s.Secrets.PutKV2(ctx, mount, path, map[string]any{"password": password}); err != nil {
			return apperr.Wrap(apperr.Unavailable, "Vault could not keep the relay's password right now; nothing was saved.", err)
		}
	}
	if err := s.Store.SetEmailChannel(ctx, tenantID, ch, actor, meta); err != nil {
		s.forget(ctx, tenantID, cur.Relay.PasswordRef) // the new password, if any, is referenced by nothing
		return err
	}
	return s.forget(ctx, tenantID, ch.Relay.PasswordRef)
}

// forget deletes the tenant's relay passwords in Vault other than keep.
func (s *Service) forget(ctx context.Context, tenantID, keep string) error {
	mount, folder, _ := strings.Cut(tenants.MailRelayRef(tenantID, ""), "/")
	names, err := s.Secrets.ListKV2(ctx, mount, folder)
	for _, n := range names {
		if err == nil && folder+n != strings.TrimPrefix(keep, mount+"/") {
			err = s.Secrets.DeleteKV2(ctx, mount, folder+n)
		}
	}
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The settings were saved, but Vault could not delete the relay password they no longer use; save again to retry.", err)
	}
	return nil
}

// MailerFor returns the mailer the tenant's email goes out through, or, when
// the tenant's email goes nowhere, why in plain words (notSent). Errors are
// notify.DeliveryErrors (a job retries them).
func (s *Service) MailerFor(ctx context.Context, tenantID string) (m *notify.Mailer, notSent string, err error) {
	ch, err := s.Store.EmailChannel(ctx, tenantID)
	if err != nil {
		return nil, "", &notify.DeliveryError{Reason: "Gatehouse could not read the organization's email settings.", Err: err}
	}
	switch {
	case !ch.Enabled:
		return nil, "The organization turned email notifications off.", nil
	case !ch.Relay.Own() && !s.Relay.Enabled():
		return nil, "Email is not set up on this Gatehouse (no mail relay).", nil
	case !ch.Relay.Own():
		return s.Relay, "", nil
	}
	m = &notify.Mailer{Addr: ch.Relay.Addr, From: ch.Relay.From, Username: ch.Relay.Username,
		PublicURL: s.Relay.PublicURL, Now: s.Relay.Now}
	if s.TLS != nil {
		m.TLS = s.TLS.Clone()
		m.TLS.ServerName = "" // the relay's own host
	}
	if !s.Local {
		m.Dial = notify.PublicDialer(dialTimeout, s.Networks...).DialContext
	}
	if m.Username != "" {
		mount, path, _ := strings.Cut(ch.Relay.PasswordRef, "/")
		data, err := s.Secrets.GetKV2(ctx, mount, path)
		pw, _ := data["password"].(string)
		if err == nil && pw == "" {
			err = errors.New("the password is missing from its place in Vault")
		}
		if err != nil {
			return nil, "", &notify.DeliveryError{Reason: "Gatehouse could not read the relay's password from Vault.",
				Err: fmt.Errorf("the relay password of tenant %s: %w", tenantID, err)}
		}
		m.Password = pw
	}
	return m, "", nil
}
