package jobs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify/notifytest"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
)

// An organization's own relay carries its email: the relay is logged in to
// with a password kept in Vault (never in PostgreSQL or the audit trail), a
// wrong password shows as a plain-words failure that a corrected setting
// cures on the next retry, email turned off is recorded as not sent and
// why, and going back to Gatehouse's relay deletes the password.
func TestAnOrganizationsOwnRelayCarriesItsEmail(t *testing.T) {
	const password = "relay-pass-S3CRET"
	w, res, svc := breakGlassWorld(t, "tenant-ch1", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	if err := w.vault.EnsureKV2Mount(ctx, "gatehouse", "Gatehouse's own secrets"); err != nil {
		t.Fatal(err)
	}
	own, err := notifytest.StartTestSMTPServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Close() })
	own.RequireLogin("acme-mailer", password)
	w.chans.TLS = own.ClientTLS
	if w.chans.Secrets, err = vault.New(stack.Vault.Addr, stack.GatehouseToken(t)); err != nil { // least privilege, as in production
		t.Fatal(err)
	}
	relay := tenants.MailRelay{Addr: own.Addr, From: "security@acme.test", Username: "acme-mailer"}
	if err := w.chans.SetEmail(ctx, w.tenant, tenants.EmailChannel{Enabled: true, Relay: relay}, "a-wrong-password", "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	startWorkers(t, w, w.vault, time.Now)

	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil || !em.Issued {
		t.Fatalf("break-glass: %+v %v", em, err)
	}
	emailOf := func(ds []jobs.Delivery) jobs.Delivery {
		for _, d := range ds {
			if d.Channel == "email" {
				return d
			}
		}
		return jobs.Delivery{}
	}
	failing := waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool { return emailOf(ds).State == jobs.NoticeRetrying })
	if r := emailOf(failing).Reason; !strings.Contains(r, "SMTP 535") {
		t.Fatalf("a refused login's reason: %q", r)
	}
	// The corrected password reaches the retry.
	if err := w.chans.SetEmail(ctx, w.tenant, tenants.EmailChannel{Enabled: true, Relay: relay}, password, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, own, "Break-glass: responder@acme.test on Orders DB")
	slices.Sort(m.To)
	if m.From != "security@acme.test" || m.User != "acme-mailer" ||
		!slices.Equal(m.To, []string{"admin@acme.test", "approver1@acme.test", "approver2@acme.test"}) {
		t.Fatalf("through the organization's relay: from %q as %q to %v", m.From, m.User, m.To)
	}
	waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool { return emailOf(ds).State == jobs.NoticeDelivered })
	for _, g := range w.smtp.Messages() {
		if strings.Contains(g.Data, "Break-glass") {
			t.Fatal("the break-glass email also went through Gatehouse's relay")
		}
	}
	var leaks int
	if err := w.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenant_channels c WHERE row_to_json(c)::text LIKE '%S3CRET%')
		+ (SELECT count(*) FROM audit_events WHERE detail::text LIKE '%S3CRET%' OR detail::text LIKE '%wrong-password%')
		+ (SELECT count(*) FROM notices WHERE reason LIKE '%S3CRET%')
		+ (SELECT count(*) FROM river_job WHERE args::text LIKE '%S3CRET%')`).Scan(&leaks); err != nil || leaks != 0 {
		t.Fatalf("%d rows hold the relay's password (%v)", leaks, err)
	}
	set := auditActions(t, w, "channels.email_set")
	if len(set) != 2 || set[1]["relay"] != own.Addr || set[1]["login"] != "yes" || set[1]["from"] != "security@acme.test" {
		t.Fatalf("channels.email_set events: %v", set)
	}

	// A new relay or username needs the password again: the kept one is
	// never sent anywhere it was not given for. Refused, nothing changes.
	before, err := w.chans.Email(ctx, w.tenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []tenants.MailRelay{{Addr: "smtp.evil.example:587", From: relay.From, Username: relay.Username},
		{Addr: relay.Addr, From: relay.From, Username: "someone-else"}} {
		err := w.chans.SetEmail(ctx, w.tenant, tenants.EmailChannel{Enabled: true, Relay: r}, "", "admin", audit.Meta{})
		if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || e.Fields["smtp_password"] == "" {
			t.Fatalf("relay %+v without its password: %v", r, err)
		}
	}
	if after, _ := w.chans.Email(ctx, w.tenant); after != before {
		t.Fatalf("a refused change changed the channel: %+v → %+v", before, after)
	}

	// Turned off (the same relay keeps its password): not sent, and why.
	if err := w.chans.SetEmail(ctx, w.tenant, tenants.EmailChannel{Enabled: false, Relay: relay}, "", "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, em.RequestID, approver1, approvals.NotJustified, "no incident matched this access", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	sent := len(own.Messages())
	// After the break-glass's notice and the responder's "access granted" (email and chat each), the verdict's.
	ds := waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool { return len(ds) == 6 && ds[4].State == jobs.NoticeNotSent })
	if ds[4].Channel != "email" || ds[4].Reason != "The organization turned email notifications off." {
		t.Fatalf("email turned off: %+v", ds[4])
	}
	if len(own.Messages()) != sent {
		t.Fatal("email turned off still went out")
	}

	// Back to Gatehouse's relay: the password leaves Vault, all versions.
	if err := w.chans.SetEmail(ctx, w.tenant, tenants.EmailChannel{Enabled: true}, "", "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	mount, folder, _ := strings.Cut(tenants.MailRelayRef(w.tenant, ""), "/")
	if left, err := w.vault.ListKV2(ctx, mount, folder); err != nil || len(left) != 0 {
		t.Fatalf("relay passwords left in Vault: %v %v", left, err)
	}
	if ch, _ := w.chans.Email(ctx, w.tenant); ch != tenants.DefaultEmailChannel() {
		t.Fatalf("back to Gatehouse's relay: %+v", ch)
	}
}
