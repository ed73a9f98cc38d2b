package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/testenv"
)

func TestTheSecurityDashboardShowsAndAcknowledgesAlerts(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	inserter, err := jobs.NewInserter(f.pool)
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	if _, err := store.ScanAudit(ctx, 10000); err != nil { // the seed's events
		t.Fatal(err)
	}
	ids := postgres.NewIdentityStore(f.pool, time.Now)
	acme := tenantID(t, f, "acme")
	for i := 0; i < 5; i++ {
		if err := ids.RecordEvent(ctx, audit.Event{TenantID: acme, Actor: "mallory@acme.test", Action: "login.refused", Outcome: audit.Denied}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := store.ScanAudit(ctx, 10000); err != nil || n != 1 {
		t.Fatalf("scan raised %d (%v)", n, err)
	}
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	page := admin.Get(console + "/security")
	if text := page.Doc(t).Find(`[data-testid="alerts"]`).Text(); !strings.Contains(text, "repeated-denials") || !strings.Contains(text, "mallory") {
		t.Fatalf("alerts: %q", text)
	}
	csrf := testenv.CSRF(t, page)
	ack, _ := page.Doc(t).Find(`[data-testid="ack"]`).Parent().Attr("action")
	if p := admin.PostForm(console+ack, url.Values{"_csrf": {csrf}}); !strings.Contains(p.Body, "acknowledged by admin@acme.test") {
		t.Fatalf("after acknowledging: %d", p.Status)
	}
	if p := admin.PostForm(console+"/security/settings", url.Values{"_csrf": {csrf}, "time_zone": {"Mars/Olympus"}, "business_start": {"8"},
		"business_end": {"19"}, "burst_threshold": {"10"}, "burst_window": {"10m"}, "denied_threshold": {"5"}, "denied_window": {"10m"},
		"breakglass_threshold": {"3"}, "breakglass_window": {"24h"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "time_zone") == "" {
		t.Fatalf("a bad time zone: %d", p.Status)
	}
	if p := admin.PostForm(console+"/security/settings", url.Values{"_csrf": {csrf}, "time_zone": {"Europe/Paris"}, "business_start": {"8"},
		"business_end": {"19"}, "burst_threshold": {"10"}, "burst_window": {"10m"}, "denied_threshold": {"5"}, "denied_window": {"10m"},
		"breakglass_threshold": {"3"}, "breakglass_window": {"24h"}, "rule": {"burst", "repeated-denials"}}); p.Status != http.StatusOK {
		t.Fatalf("settings: %d", p.Status)
	}
	if auditCount(t, f, "alert.acknowledged", "success") != 1 || auditCount(t, f, "monitor.settings_changed", "success") != 1 {
		t.Fatal("not audited")
	}
	req, _ := signedIn(t, console, "acme", "requester@acme.test")
	if p := req.Get(console + "/security"); p.Status != http.StatusForbidden {
		t.Fatalf("a requester at the security dashboard: %d", p.Status)
	}
}
