package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/testenv"
)

func countRevocations(t *testing.T, f *fixture) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM revocations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTenantAdminsRevokeTheirOwnScopesOnly(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	req, _ := signedIn(t, console, "acme", "requester@acme.test") // a known member, with a session to end
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	if p := admin.Get(console + "/revocations/preview?scope=tenant:globex"); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Globex") {
		t.Fatalf("acme's admin previewing globex: %d", p.Status)
	}
	if p := admin.Get(console + "/revocations/preview?scope=planet:earth"); p.Status != http.StatusBadRequest || fieldError(t, p, "scope") == "" {
		t.Fatalf("an unknown scope kind: %d", p.Status)
	}
	preview := admin.Get(console + "/revocations/preview?scope=user:requester@acme.test")
	if preview.Status != http.StatusOK {
		t.Fatalf("preview: %d", preview.Status)
	}
	csrf := testenv.CSRF(t, preview)
	post := func(scope, confirm, reason string) testenv.Page {
		return admin.PostForm(console+"/revocations", url.Values{"_csrf": {csrf}, "scope": {scope}, "confirm": {confirm}, "reason": {reason}})
	}
	if p := post("user:requester@acme.test", "user:requester@acme", "leaked laptop"); p.Status != http.StatusBadRequest || fieldError(t, p, "confirm") == "" {
		t.Fatalf("a mistyped confirmation: %d", p.Status)
	}
	if p := post("user:requester@acme.test", "user:requester@acme.test", ""); p.Status != http.StatusBadRequest || fieldError(t, p, "reason") == "" {
		t.Fatalf("no reason: %d", p.Status)
	}
	if p := post("tenant:globex", "tenant:globex", "not ours to freeze"); p.Status != http.StatusNotFound {
		t.Fatalf("freezing another tenant: %d", p.Status)
	}
	if countRevocations(t, f) != 0 || auditCount(t, f, "access.cross_tenant", "denied") != 2 {
		t.Fatal("refused revocations changed something, or the probes were not audited")
	}
	done := post("user:requester@acme.test", "user:requester@acme.test", "leaked laptop")
	if !strings.HasPrefix(done.URL.Path, "/revocations/") || done.Doc(t).Find(`[data-testid="progress"]`).Length() != 1 {
		t.Fatalf("revocation ended at %s (%d)", done.URL, done.Status)
	}
	resp, err := admin.Client.Get(console + done.URL.Path + "/report.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep approvals.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil || rep.Scope != "user:requester@acme.test" || rep.Reason != "leaked laptop" {
		t.Fatalf("report: %+v %v", rep, err)
	}
	// globex's admin does not see acme's revocation.
	gadmin, _ := signedIn(t, console, "globex", "admin@globex.test")
	if p := gadmin.Get(console + done.URL.Path); p.Status != http.StatusNotFound {
		t.Fatalf("another tenant's revocation: %d", p.Status)
	}
	if auditCount(t, f, "revocation.started", "success") != 1 {
		t.Fatal("the revocation is not audited")
	}
	// The person's session ended at once, and signing in again is refused,
	// audited, with no new session.
	if p := req.Get(console + "/"); p.URL.Path != "/login" {
		t.Fatalf("the revoked person's session still works: %s", p.URL)
	}
	again := testenv.NewBrowser(t).SignIn(console, "acme", "requester@acme.test", devstack.DemoPassword)
	if again.Status != http.StatusForbidden || !strings.Contains(again.Body, "emergency revocation") {
		t.Fatalf("the revoked person signing in again: %d at %s", again.Status, again.URL)
	}
	var sessions int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM sessions WHERE email = 'requester@acme.test'").Scan(&sessions); err != nil || sessions != 0 {
		t.Fatalf("%d sessions for the revoked person (%v)", sessions, err)
	}
	if auditCount(t, f, "login.refused", "denied") != 1 {
		t.Fatal("the refused sign-in is not audited")
	}
}

// The progress and the report say what the block is, not a fixed "yes":
// in force since the revocation started, then lifted (when, by whom) once
// a tenant admin lifts it.
func TestTheRevocationProgressShowsTheBlockAsItIs(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	signedIn(t, console, "acme", "requester@acme.test") // a known member
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	preview := admin.Get(console + "/revocations/preview?scope=user:requester@acme.test")
	done := admin.PostForm(console+"/revocations", url.Values{"_csrf": {testenv.CSRF(t, preview)}, "scope": {"user:requester@acme.test"},
		"confirm": {"user:requester@acme.test"}, "reason": {"leaked laptop"}})
	id := strings.TrimPrefix(done.URL.Path, "/revocations/")
	var started time.Time
	if err := f.pool.QueryRow(ctx, "SELECT created_at FROM revocations WHERE id::text = $1", id).Scan(&started); err != nil {
		t.Fatalf("revocation %q: %v", id, err)
	}
	block := func() (string, string) {
		t.Helper()
		b := admin.Get(console + "/revocations/" + id + "/progress").Doc(t).Find(`[data-testid="block"]`)
		inForce, _ := b.Attr("data-in-force")
		return strings.Join(strings.Fields(b.Text()), " "), inForce
	}
	report := func() approvals.Report {
		t.Helper()
		resp, err := admin.Client.Get(console + "/revocations/" + id + "/report.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep approvals.Report
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	since := started.UTC().Format("2006-01-02 15:04 MST")
	if text, inForce := block(); text != "in force since "+since || inForce != "true" {
		t.Fatalf("while running, the progress says the block is %q (in force %q), want in force since %s", text, inForce, since)
	}
	if rep := report(); !rep.Block.InForce || !rep.Block.Since.Equal(started) || rep.Block.LiftedAt != nil {
		t.Fatalf("while running, the report's block is %+v, want in force since %s", rep.Block, started)
	}

	gh, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t))
	if err != nil {
		t.Fatal(err)
	}
	inserter, _ := jobs.NewInserter(f.pool)
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	if err := jobs.RunRevocation(ctx, store, store, gh, jobs.RevokeConcurrency, id); err != nil {
		t.Fatal(err)
	}
	page := admin.Get(console + "/revocations/" + id)
	if p := admin.PostForm(console+"/revocations/"+id+"/lift", url.Values{"_csrf": {testenv.CSRF(t, page)}}); p.Doc(t).Find(`[data-testid="lifted"]`).Length() != 1 {
		t.Fatalf("lifting the block: %d at %s", p.Status, p.URL)
	}
	var lifted time.Time
	var by string
	if err := f.pool.QueryRow(ctx, "SELECT lifted_at, lifted_by FROM revocations WHERE id::text = $1", id).Scan(&lifted, &by); err != nil {
		t.Fatal(err)
	}
	want := "lifted " + lifted.UTC().Format("2006-01-02 15:04 MST") + " by " + by
	if text, inForce := block(); text != want || inForce != "false" {
		t.Fatalf("once lifted, the progress says the block is %q (in force %q), want %q", text, inForce, want)
	}
	if rep := report(); rep.Block.InForce || rep.Block.LiftedAt == nil || !rep.Block.LiftedAt.Equal(lifted) || rep.Block.LiftedBy != by {
		t.Fatalf("once lifted, the report's block is %+v", rep.Block)
	}
}

// TestARevocationReportListsEveryNotice: the revocation's JSON report is
// final, so it lists every notice the revocation sent however many there
// are; its page lists the first 500 and says how many more the report
// holds. Another organization's recipients and reasons stay hidden from a
// tenant admin in both.
func TestARevocationReportListsEveryNotice(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	signedIn(t, console, "acme", "requester@acme.test") // a known member
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	preview := admin.Get(console + "/revocations/preview?scope=user:requester@acme.test")
	done := admin.PostForm(console+"/revocations", url.Values{"_csrf": {testenv.CSRF(t, preview)}, "scope": {"user:requester@acme.test"},
		"confirm": {"user:requester@acme.test"}, "reason": {"leaked laptop"}})
	id := strings.TrimPrefix(done.URL.Path, "/revocations/")
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("the revocation ended at %s (%d)", done.URL, done.Status)
	}
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	at := time.Now().Add(time.Minute)
	tellEvents(t, f, acme, id, "Emergency revocation", at, 306)
	tellEvents(t, f, globex, id, "Emergency revocation at a partner", at.Add(time.Second), 3)
	if _, err := f.pool.Exec(ctx, "UPDATE notices SET state = 'failed', reason = 'The relay refused the message.' WHERE ref = $1", id); err != nil {
		t.Fatal(err)
	}
	var total int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM notices WHERE ref = $1", id).Scan(&total); err != nil || total < 618 {
		t.Fatalf("%d notices of the revocation (%v)", total, err)
	}

	resp, err := admin.Client.Get(console + "/revocations/" + id + "/report.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep approvals.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	partners := 0
	for _, n := range rep.Told {
		switch n.Org {
		case "globex":
			partners++
			if len(n.To) != 0 || n.Reason != "" {
				t.Fatalf("the acme admin's report shows globex's notice to %q, why %q", n.To, n.Reason)
			}
		case "acme":
			if n.Reason == "" || (n.Channel == "email" && len(n.To) == 0) {
				t.Fatalf("the report hides acme's own notice: %+v", n)
			}
		}
	}
	if len(rep.Told) != total || partners != 6 {
		t.Fatalf("the report lists %d notices (%d of globex), want every one of %d (6 of globex)", len(rep.Told), partners, total)
	}

	page := admin.Get(console + "/revocations/" + id)
	more := page.Doc(t).Find(`[data-testid="told-more"]`)
	report, _ := more.Find(`[data-testid="told-report"]`).Attr("href")
	if rows := page.Doc(t).Find(`[data-testid="told"] tbody tr`).Length(); rows != 500 ||
		strings.Join(strings.Fields(more.Text()), " ") != fmt.Sprintf("Showing the first 500 of %d notices. The report (JSON) lists every one.", total) ||
		report != "/revocations/"+id+"/report.json" {
		t.Fatalf("the revocation page lists %d notices and says %q (link %q)", rows, strings.Join(strings.Fields(more.Text()), " "), report)
	}
}

// seedRevocations records completed revocations of users in the tenant
// (nil: across tenants, as an operator's of a user is), at each row's time.
func seedRevocations(t *testing.T, f *fixture, tenant any, rows []timed) {
	t.Helper()
	insertTimed(t, f, `INSERT INTO revocations (id, scope_kind, scope_value, tenant_id, reason, actor, state, created_at)
		SELECT r.id, 'user', 'gone-' || r.id || '@acme.test', $3::uuid, 'seeded', 'admin@acme.test', 'completed', r.at
		FROM unnest($1::uuid[], $2::timestamptz[]) AS r (id, at)`, rows, tenant)
}

// The revocation center lists every revocation a tenant admin may see (their
// organization's), 100 a page, newest first: each exactly once and in order,
// even where revocations share an instant across a page's end; a platform
// operator pages through every organization's the same way. Another
// organization's never show to a tenant admin, whatever the cursor says; a
// bad cursor is a 400 with a plain message.
func TestTheRevocationCenterPagesThroughEveryRevocation(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	top := time.Now().Add(-time.Hour).Truncate(time.Second)
	mine, theirs, anyone := timedRows(230, 6, top), timedRows(40, 4, top.Add(-20*time.Second)), timedRows(10, 2, top.Add(-40*time.Second))
	seedRevocations(t, f, acme, mine)
	seedRevocations(t, f, globex, theirs)
	seedRevocations(t, f, nil, anyone)

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	rows := `[data-testid="revocations"] tbody tr`
	got, sizes := walkList(t, admin, console, "/revocations", rows, "revocations", dataID)
	if want := newestFirstIDs(t, mine, 100); !slices.Equal(got, want) || !slices.Equal(sizes, []int{100, 100, 30}) {
		t.Fatalf("walked %d revocations in pages %v, want the %d in order", len(got), sizes, len(want))
	}
	op, _ := signedIn(t, console, "gatehouse", "operator@gatehouse.test")
	got, sizes = walkList(t, op, console, "/revocations", rows, "revocations", dataID)
	if want := newestFirstIDs(t, append(append(slices.Clone(mine), theirs...), anyone...), 0); !slices.Equal(got, want) ||
		!slices.Equal(sizes, []int{100, 100, 80}) {
		t.Fatalf("the operator walked %d revocations in pages %v, want the %d in order", len(got), sizes, len(want))
	}

	// A cursor at globex's revocation reads on in acme's own, from there.
	readsOnFromForeignCursor(t, admin, console, "/revocations", rows, mine, theirs[17], 100, "revocations")
}
