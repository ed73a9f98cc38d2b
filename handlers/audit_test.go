package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/testenv"
)

func tenantID(t *testing.T, f *fixture, slug string) string {
	t.Helper()
	var id string
	if err := f.pool.QueryRow(context.Background(), "SELECT id::text FROM tenants WHERE slug = $1", slug).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAuditorsPageFilterAndExportTheirTenantsTrail(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ids := postgres.NewIdentityStore(f.pool, time.Now)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	ctx := context.Background()
	for i := 0; i < 120; i++ {
		if err := ids.RecordEvent(ctx, audit.Event{TenantID: acme, Actor: fmt.Sprintf("bot-%d@acme.test (b)", i%3), Action: "probe.acme",
			Target: fmt.Sprintf("t-%d", i), Outcome: audit.Denied}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ids.RecordEvent(ctx, audit.Event{TenantID: globex, Actor: "x@globex.test", Action: "probe.globex", Outcome: audit.Denied}); err != nil {
		t.Fatal(err)
	}
	aud, _ := signedIn(t, console, "acme", "auditor@acme.test")
	page := aud.Get(console + "/audit?action=probe")
	if page.Status != http.StatusOK {
		t.Fatalf("audit page: %d", page.Status)
	}
	rows := page.Doc(t).Find(`[data-testid="audit"] tbody tr`)
	if rows.Length() != 50 || strings.Contains(page.Body, "probe.globex") {
		t.Fatalf("first page: %d rows (globex's shown: %v)", rows.Length(), strings.Contains(page.Body, "probe.globex"))
	}
	// Keyset paging walks all 120, newest first, without repeats.
	seen := map[string]bool{}
	for p := page; ; {
		p.Doc(t).Find(`[data-testid="audit"] tbody tr td:first-child`).Each(func(_ int, s *goquery.Selection) { seen[s.Text()] = true })
		older, ok := p.Doc(t).Find(`[data-testid="older"]`).Attr("href")
		if !ok {
			break
		}
		p = aud.Get(console + older)
	}
	if len(seen) != 120 {
		t.Fatalf("paging saw %d distinct events, want 120", len(seen))
	}
	// Filters combine.
	if n := aud.Get(console + "/audit?action=probe&actor=bot-1@").Doc(t).Find(`[data-testid="audit"] tbody tr`).Length(); n != 40 {
		t.Fatalf("actor filter: %d rows, want 40", n)
	}
	if p := aud.Get(console + "/audit?outcome=maybe"); p.Status != http.StatusBadRequest || fieldError(t, p, "outcome") == "" {
		t.Fatalf("bad outcome: %d", p.Status)
	}
	// The export holds exactly the filtered set.
	resp, err := aud.Client.Get(console + "/audit/export?" + url.Values{"action": {"probe"}, "format": {"jsonl"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev["action"] != "probe.acme" {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		n++
	}
	resp.Body.Close()
	if n != 120 {
		t.Fatalf("JSON lines export: %d lines, want 120", n)
	}
	csvPage := aud.Get(console + "/audit/export?format=csv&action=probe&target=t-7")
	if lines := strings.Split(strings.TrimSpace(csvPage.Body), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "id,tenant_id") {
		t.Fatalf("CSV export: %q", csvPage.Body)
	}
	// Verification: recorded and shown.
	v := aud.PostForm(console+"/audit/verify", url.Values{"_csrf": {testenv.CSRF(t, page)}})
	if text := v.Doc(t).Find(`[data-testid="verification"]`).Text(); !strings.Contains(text, "Verified intact") {
		t.Fatalf("verification: %q", text)
	}
	// A requester may not read the trail; globex's auditor sees only globex.
	req, _ := signedIn(t, console, "acme", "requester@acme.test")
	if p := req.Get(console + "/audit"); p.Status != http.StatusForbidden {
		t.Fatalf("a requester at the audit trail: %d", p.Status)
	}
	gaud, _ := signedIn(t, console, "globex", "auditor@globex.test")
	if p := gaud.Get(console + "/audit?action=probe"); strings.Contains(p.Body, "probe.acme") || !strings.Contains(p.Body, "probe.globex") {
		t.Fatal("globex's auditor sees the wrong trail")
	}
}
