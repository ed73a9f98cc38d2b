package handlers_test

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/paging"
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

// The security dashboard lists every alert of the tenant, 200 a page, open
// ones first and then newest first: an open alert beyond the first 200 is
// one "More alerts" away, each alert shows exactly once and in order, and
// acknowledging one keeps the page. Another tenant's alerts never show,
// whatever the cursor says; a bad cursor is a 400 with a plain message.
func TestTheSecurityDashboardPagesThroughEveryAlertOpenOnesFirst(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	// 600 alerts, IDs interleaved: 100 of globex's; of acme's 500, 300 open
	// and 200 acknowledged, so the first page ends among the open ones.
	if _, err := f.pool.Exec(ctx, `INSERT INTO alerts (tenant_id, rule, score, summary, event_id, actor, occurred_at, created_at, acked_at, acked_by)
		SELECT CASE WHEN g % 6 = 0 THEN $2::uuid ELSE $1::uuid END, 'burst', 50, 'alert ' || g, g, 'mallory@acme.test', now(), now(),
		       CASE WHEN g % 6 IN (3, 5) THEN now() END, CASE WHEN g % 6 IN (3, 5) THEN 'admin@acme.test' ELSE '' END
		FROM generate_series(1, 600) g ORDER BY g`, acme, globex); err != nil {
		t.Fatal(err)
	}
	want := alertOrder(t, f, acme, nil)
	if len(want) != 500 {
		t.Fatalf("seeded %d alerts", len(want))
	}

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	rowID := func(r *goquery.Selection) string { id, _ := r.Attr("id"); return id }
	got, sizes := walkList(t, admin, console, "/security", `[data-testid="alerts"] tbody tr`, "alerts", rowID)
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{200, 200, 100}) {
		t.Fatalf("walked %d alerts in pages %v, want the %d in order", len(got), sizes, len(want))
	}

	// The 201st open alert is on the second page, and can be acknowledged
	// from there, back to that page.
	first := admin.Get(console + "/security")
	if first.Doc(t).Find(`#`+want[200]).Length() != 0 {
		t.Fatal("the 201st alert is on the first page")
	}
	next, _ := first.Doc(t).Find(`[data-testid="alerts-older"]`).Attr("href")
	second := admin.Get(console + next)
	form := second.Doc(t).Find(`#` + want[200] + ` form`)
	action, _ := form.Attr("action")
	if form.Length() != 1 || action == "" {
		t.Fatalf("the 201st alert (open) cannot be acknowledged from the second page: %q", action)
	}
	acked := admin.PostForm(console+action, second.Form(t, `#`+want[200]+` form`))
	if acked.Status != http.StatusOK || acked.URL.RequestURI() != strings.SplitN(next, "#", 2)[0] ||
		!strings.Contains(acked.Doc(t).Find(`#`+want[201]).Text(), "Acknowledge") {
		t.Fatalf("after acknowledging from the second page: %d at %s", acked.Status, acked.URL)
	}

	// A cursor at globex's alert reads on in acme's own alerts.
	var theirs int64
	if err := f.pool.QueryRow(ctx, `SELECT id FROM alerts WHERE tenant_id = $1 ORDER BY id LIMIT 1 OFFSET 50`, globex).Scan(&theirs); err != nil {
		t.Fatal(err)
	}
	p := admin.Get(console + "/security?before=" + paging.Ranked(1, theirs).String())
	ids := rowKeys(t, p, `[data-testid="alerts"] tbody tr`, rowID)
	after := alertOrder(t, f, acme, func(open bool, id int64) bool { return !open || id < theirs })
	if p.Status != http.StatusOK || !slices.Equal(ids, after[:200]) {
		t.Fatalf("a cursor at globex's alert %d: %d, listed %q", theirs, p.Status, ids)
	}

	// Bad cursors: malformed, or one made for a list ordered by time.
	valid := paging.Ranked(1, 42).String()
	rejectsBadCursors(t, admin, console, "/security", valid, "alerts")
	for _, bad := range []string{paging.At(time.Now(), uuid.New()).String(), paging.Ranked(2, 42).String()} {
		if p := admin.Get(console + "/security?before=" + bad); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "list of alerts") {
			t.Errorf("?before=%s: %d", bad, p.Status)
		}
	}
	csrf := testenv.CSRF(t, first)
	if p := admin.PostForm(console+action, url.Values{"_csrf": {csrf}, "before": {"nope"}}); p.Status != http.StatusBadRequest {
		t.Errorf("acknowledging with a bad cursor: %d", p.Status)
	}
}

// alertOrder lists the tenant's alerts ("alert-" and the ID, as the page
// names their rows) in the dashboard's order, open ones first, then by ID
// descending: those keep says to keep (nil: every one).
func alertOrder(t *testing.T, f *fixture, tenant string, keep func(open bool, id int64) bool) []string {
	t.Helper()
	type alert struct {
		id   int64
		open bool
	}
	rows, err := f.pool.Query(context.Background(), `SELECT id, acked_at IS NULL FROM alerts WHERE tenant_id = $1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	var all []alert
	for rows.Next() {
		var a alert
		if err := rows.Scan(&a.id, &a.open); err != nil {
			t.Fatal(err)
		}
		all = append(all, a)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	slices.SortFunc(all, func(a, b alert) int {
		if a.open != b.open {
			if a.open {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.id, a.id)
	})
	var out []string
	for _, a := range all {
		if keep == nil || keep(a.open, a.id) {
			out = append(out, "alert-"+strconv.FormatInt(a.id, 10))
		}
	}
	return out
}
