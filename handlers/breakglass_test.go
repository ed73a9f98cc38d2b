package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/testenv"
)

func countBreakGlass(t *testing.T, f *fixture) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM requests WHERE kind = 'break-glass'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// stepUp re-authenticates b's person at acme's IdP and returns the page it
// ends on (the break-glass form).
func stepUp(t *testing.T, b *testenv.Browser, console, email string) testenv.Page {
	t.Helper()
	return b.SubmitLogin(b.Get(console+"/auth/acme/reauth?return_to=/breakglass/new"), email, devstack.DemoPassword)
}

func TestBreakGlassJourneyWithFreshSignInBannerAndReview(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	// The approver and the admin have signed in before: they are known members to tell.
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	signedIn(t, console, "acme", "admin@acme.test")
	b, _ := signedIn(t, console, "acme", "responder@acme.test")
	list := b.Get(console + "/breakglass")
	if list.Status != http.StatusOK || list.Doc(t).Find(`[data-testid="break-glass"]`).Length() != 1 {
		t.Fatalf("the responder is not offered to break glass: %d", list.Status)
	}
	// An ordinary session is sent to re-authenticate first...
	resp, err := b.NoRedirect().Get(console + "/breakglass/new")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/auth/acme/reauth?") {
		t.Fatalf("break-glass without a fresh sign-in: %d %q", resp.StatusCode, loc)
	}
	// ...and a post made with it is refused, audited, and issues nothing.
	orders := resourceID(t, f, "Orders database")
	good := url.Values{"_csrf": {testenv.CSRF(t, list)}, "resource": {orders}, "incident": {"INC-900"},
		"justification": {"orders database is down, customers cannot pay"}, "duration": {"30m"}}
	if p := b.PostForm(console+"/breakglass", good); p.Status != http.StatusForbidden ||
		p.Doc(t).Find(`[data-testid="reauth"]`).Length() != 1 {
		t.Fatalf("stale break-glass: %d", p.Status)
	}
	if countBreakGlass(t, f) != 0 || auditCount(t, f, "breakglass.refused", "denied") != 1 {
		t.Fatal("a stale break-glass was recorded, or its refusal was not audited")
	}

	// After a forced fresh sign-in the form is there.
	form := stepUp(t, b, console, "responder@acme.test")
	if form.URL.Path != "/breakglass/new" || form.Doc(t).Find(`[data-testid="breakglass-form"]`).Length() != 1 {
		t.Fatalf("after step-up: %s %d", form.URL, form.Status)
	}
	if !strings.Contains(form.Body, "Orders database") || strings.Contains(form.Body, "Stripe API key") {
		t.Fatal("the form must list exactly the flagged resources")
	}
	good.Set("_csrf", testenv.CSRF(t, form))
	for field, bad := range map[string]string{"justification": "db down", "incident": "", "duration": "2h"} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = vs
		}
		v.Set(field, bad)
		if p := b.PostForm(console+"/breakglass", v); p.Status != http.StatusBadRequest || fieldError(t, p, field) == "" {
			t.Fatalf("bad %s: %d %q", field, p.Status, fieldError(t, p, field))
		}
	}
	if countBreakGlass(t, f) != 0 {
		t.Fatal("refused break-glass forms created grants")
	}
	done := b.PostForm(console+"/breakglass", good)
	if !strings.HasPrefix(done.URL.Path, "/breakglass/") || strings.TrimSpace(done.Doc(t).Find(`[data-testid="state"]`).Text()) != "active" {
		t.Fatalf("break-glass ended at %s (%d)", done.URL, done.Status)
	}
	detail := done.URL.Path
	if done.Doc(t).Find(`[data-testid="use-grant"]`).Length() != 1 || done.Doc(t).Find(`[data-testid="review-form"]`).Length() != 0 {
		t.Fatal("the responder must be pointed to the grant and never offered to review their own")
	}
	if d := done.Doc(t).Find(`[data-testid="deliveries"] tbody tr`).Length(); d != 4 {
		t.Fatalf("%d notification deliveries shown, want the break-glass's and the responder's access, each by email and chat", d)
	}

	// Everyone in acme sees the banner; nobody in globex does, and the page is not there for them.
	dash := appr.Get(console + "/")
	if banner := dash.Doc(t).Find(`[data-testid="breakglass-banner"]`).Text(); !strings.Contains(banner, "responder@acme.test") {
		t.Fatalf("banner on an acme page: %q", banner)
	}
	other, odash := signedIn(t, console, "globex", "approver1@globex.test")
	if odash.Doc(t).Find(`[data-testid="breakglass-banner"]`).Length() != 0 {
		t.Fatal("globex sees acme's break-glass banner")
	}
	if p := other.Get(console + detail); p.Status != http.StatusNotFound || strings.Contains(p.Body, "INC-900") {
		t.Fatalf("another tenant's break-glass: %d", p.Status)
	}

	// The responder cannot review (not an approver); an approver can, once.
	rcsrf := testenv.CSRF(t, b.Get(console+detail))
	if p := b.PostForm(console+detail+"/review", url.Values{"_csrf": {rcsrf}, "verdict": {"justified"}, "notes": {"it was my emergency"}}); p.Status != http.StatusForbidden {
		t.Fatalf("the responder reviewing: %d", p.Status)
	}
	page := appr.Get(console + detail)
	if page.Doc(t).Find(`[data-testid="review-form"]`).Length() != 1 {
		t.Fatal("the approver is not offered the review")
	}
	acsrf := testenv.CSRF(t, page)
	if p := appr.PostForm(console+detail+"/review", url.Values{"_csrf": {acsrf}, "verdict": {"justified"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "notes") == "" {
		t.Fatalf("a review without notes: %d", p.Status)
	}
	p := appr.PostForm(console+detail+"/review", url.Values{"_csrf": {acsrf}, "verdict": {"justified"}, "notes": {"matches the INC-900 timeline"}})
	if v := strings.TrimSpace(p.Doc(t).Find(`[data-testid="verdict"]`).Text()); !strings.HasPrefix(v, "justified") {
		t.Fatalf("after the review: %d %q", p.Status, v)
	}
	if rep, err := postgres.VerifyAudit(context.Background(), f.pool, ""); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit chain after break-glass: %+v %v", rep, err)
	}
	for _, action := range []string{"login.step_up", "breakglass.started", "breakglass.reviewed"} {
		if auditCount(t, f, action, "success") != 1 {
			t.Fatalf("%s not audited", action)
		}
	}
}

func TestAStepUpOlderThanFiveMinutesCannotBreakGlass(t *testing.T) {
	// Gatehouse's rule clock runs 6 minutes ahead: the fresh sign-in is 6 minutes old.
	f := newFixture(t, func(d *handlers.Deps, _ *pgxpool.Pool) {
		d.Now = func() time.Time { return time.Now().Add(6 * time.Minute) }
	})
	console := f.serve(t)
	b, _ := signedIn(t, console, "acme", "responder@acme.test")
	p := stepUp(t, b, console, "responder@acme.test")
	if p.URL.Path == "/breakglass/new" && p.Doc(t).Find(`[data-testid="breakglass-form"]`).Length() != 0 {
		t.Fatal("a 6-minute-old sign-in was offered the break-glass form")
	}
	csrf := testenv.CSRF(t, b.Get(console+"/breakglass"))
	refused := b.PostForm(console+"/breakglass", url.Values{"_csrf": {csrf}, "resource": {resourceID(t, f, "Orders database")},
		"incident": {"INC-901"}, "justification": {"orders database is down, customers cannot pay"}})
	if refused.Status != http.StatusForbidden || countBreakGlass(t, f) != 0 {
		t.Fatalf("stale step-up: %d, %d grants", refused.Status, countBreakGlass(t, f))
	}
}

func TestOnlyRespondersBreakGlassAndAdminsKeepTheSettings(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	req, _ := signedIn(t, console, "acme", "requester@acme.test")
	form := req.Get(console + "/breakglass/new")
	if form.Status != http.StatusForbidden {
		t.Fatalf("a requester at the break-glass form: %d", form.Status)
	}
	// A requester breaking glass anyway is refused, issued nothing, and the
	// attempt is a security event in the audit trail.
	home := req.Get(console + "/")
	if p := req.PostForm(console+"/breakglass", url.Values{"_csrf": {testenv.CSRF(t, home)}, "resource": {resourceID(t, f, "CI deploy token")},
		"justification": {"production is down and I need the deploy token now"}, "incident": {"INC-7"}, "duration": {"30m"}}); p.Status != http.StatusForbidden || countBreakGlass(t, f) != 0 {
		t.Fatalf("a requester breaking glass: %d", p.Status)
	}
	var attempts int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND outcome = 'denied'
		AND target = '/breakglass' AND actor LIKE 'requester@acme.test%' AND detail->>'permission' = $1`, string(authz.UseBreakGlass)).Scan(&attempts); err != nil || attempts != 1 {
		t.Fatalf("%d audited attempts (%v)", attempts, err)
	}
	if auditCount(t, f, "access.denied", "denied") != 1 {
		t.Fatal("viewing a page the roles do not allow is audited too, or the attempt twice")
	}
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	if p := appr.Get(console + "/breakglass"); p.Status != http.StatusOK || p.Doc(t).Find(`[data-testid="break-glass"]`).Length() != 0 {
		t.Fatalf("an approver is offered to break glass: %d", p.Status)
	}
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	settings := admin.Get(console + "/admin/breakglass")
	if settings.Status != http.StatusOK {
		t.Fatalf("settings: %d", settings.Status)
	}
	csrf := testenv.CSRF(t, settings)
	ci := resourceID(t, f, "CI deploy token")
	if p := admin.PostForm(console+"/admin/breakglass/"+ci, url.Values{"_csrf": {csrf}, "enabled": {"on"}, "max_minutes": {"0"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "max_minutes") == "" {
		t.Fatalf("a zero window: %d", p.Status)
	}
	if p := admin.PostForm(console+"/admin/breakglass/"+ci, url.Values{"_csrf": {csrf}, "enabled": {"on"}, "max_minutes": {"30"}, "rotate": {"on"}}); p.Status != http.StatusOK {
		t.Fatalf("flagging: %d", p.Status)
	}
	var enabled, rotate bool
	var max int64
	if err := f.pool.QueryRow(context.Background(), "SELECT breakglass, breakglass_max_seconds, breakglass_rotate FROM resources WHERE id = $1", ci).
		Scan(&enabled, &max, &rotate); err != nil || !enabled || max != 1800 || !rotate {
		t.Fatalf("CI deploy token setting: %v %d %v (%v)", enabled, max, rotate, err)
	}
	if p := admin.PostForm(console+"/admin/breakglass/limits", url.Values{"_csrf": {csrf}, "per_responder": {"2"}, "per_tenant": {"1"}, "review_sla_hours": {"24"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "per_tenant") == "" {
		t.Fatalf("a tenant limit below the responder's: %d", p.Status)
	}
	if p := admin.PostForm(console+"/admin/breakglass/limits", url.Values{"_csrf": {csrf}, "per_responder": {"2"}, "per_tenant": {"5"}, "review_sla_hours": {"8"}}); p.Status != http.StatusOK {
		t.Fatalf("limits: %d", p.Status)
	}
	if auditCount(t, f, "resource.breakglass_changed", "success") != 1 || auditCount(t, f, "breakglass.limits_changed", "success") != 1 {
		t.Fatal("settings changes not audited")
	}
	// Another tenant's resource is not there for acme's admin.
	var globexRes string
	if err := f.pool.QueryRow(context.Background(), `SELECT r.id::text FROM resources r JOIN tenants t ON t.id = r.tenant_id
		WHERE t.slug = 'globex' LIMIT 1`).Scan(&globexRes); err != nil {
		t.Fatal(err)
	}
	if p := admin.PostForm(console+"/admin/breakglass/"+globexRes, url.Values{"_csrf": {csrf}, "enabled": {"on"}, "max_minutes": {"30"}}); p.Status != http.StatusNotFound {
		t.Fatalf("flagging another tenant's resource: %d", p.Status)
	}
}

// A globex responder breaks glass from the form on acme's Orders database,
// which acme flagged and shares with globex: both organizations see it,
// only globex's approvers review it.
func TestAPartnersResponderBreaksGlassFromTheFormOnASharedResource(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	acme, globex, orders := tenantID(t, f, "acme"), tenantID(t, f, "globex"), resourceID(t, f, "Orders database")
	inserter, err := jobs.NewInserter(f.pool)
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	terms := approvals.ShareTerms{Recipients: approvals.Audience{Roles: []tenants.Role{tenants.RoleResponder}}, Level: approvals.Read,
		TermEnd: time.Now().Add(30 * 24 * time.Hour), Purpose: "joint incident response on orders", Mode: approvals.PreApproved, MaxGrant: time.Hour}
	share, err := store.ProposeShare(ctx, acme, approvals.Person{Tenant: acme, Subject: "acme-admin", Email: "admin@acme.test",
		Roles: []tenants.Role{tenants.RoleTenantAdmin}}, "globex", []string{orders}, terms, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DecideShare(ctx, acme, share, approvals.Person{Tenant: acme, Subject: "acme-approver", Roles: []tenants.Role{tenants.RoleApprover}}, true, "", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := store.AcceptShare(ctx, globex, share, approvals.Person{Tenant: globex, Subject: "globex-admin", Roles: []tenants.Role{tenants.RoleTenantAdmin}}, true, "", audit.Meta{}); err != nil {
		t.Fatal(err)
	}

	b, _ := signedIn(t, console, "globex", "responder@globex.test")
	form := b.SubmitLogin(b.Get(console+"/auth/globex/reauth?return_to=/breakglass/new"), "responder@globex.test", devstack.DemoPassword)
	choice := form.Doc(t).Find(`select#resource option[value="` + share + ":" + orders + `"]`)
	if choice.Length() != 1 || !strings.Contains(choice.Text(), "shared by Acme") || !strings.Contains(choice.Text(), "at most 1h0m0s") {
		t.Fatalf("the form does not offer the shared resource: %q", form.Doc(t).Find(`select#resource`).Text())
	}
	done := b.PostForm(console+"/breakglass", url.Values{"_csrf": {testenv.CSRF(t, form)}, "resource": {share + ":" + orders},
		"incident": {"INC-901"}, "justification": {"partner orders database down, payouts blocked"}})
	if !strings.HasPrefix(done.URL.Path, "/breakglass/") || strings.TrimSpace(done.Doc(t).Find(`[data-testid="state"]`).Text()) != "active" {
		t.Fatalf("break-glass under the share ended at %s (%d)", done.URL, done.Status)
	}
	detail := done.URL.Path

	// acme, the owner, sees it (banner and page) but does not review it; globex's approver does.
	owner, dash := signedIn(t, console, "acme", "approver1@acme.test")
	if banner := dash.Doc(t).Find(`[data-testid="breakglass-banner"]`).Text(); !strings.Contains(banner, "responder@globex.test") {
		t.Fatalf("no banner on the owner's pages: %q", banner)
	}
	if p := owner.Get(console + detail); p.Status != http.StatusOK || p.Doc(t).Find(`[data-testid="review-form"]`).Length() != 0 {
		t.Fatalf("the owner's approver on the break-glass page: %d, review offered: %v", p.Status, p.Doc(t).Find(`[data-testid="review-form"]`).Length() != 0)
	}
	appr, _ := signedIn(t, console, "globex", "approver1@globex.test")
	if p := appr.Get(console + detail); p.Doc(t).Find(`[data-testid="review-form"]`).Length() != 1 {
		t.Fatalf("globex's approver is not offered the review: %d", p.Status)
	}
	for _, tid := range []string{acme, globex} {
		var n int
		if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'breakglass.started' AND tenant_id = $1", tid).Scan(&n); err != nil || n != 1 {
			t.Fatalf("breakglass.started in %s: %d %v", tid, n, err)
		}
	}
}

// TestADrillReviewedNotJustifiedFlagsNobodyAndSaysSo: the review page of
// a drill reviewed "not justified" says the responder is not flagged, and
// the list of flagged responders stays empty; the same verdict on a real
// break-glass flags them and says so.
func TestADrillReviewedNotJustifiedFlagsNobodyAndSaysSo(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	inserter, _ := jobs.NewInserter(f.pool)
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	acme := tenantID(t, f, "acme")
	responder := approvals.Person{Tenant: acme, Subject: "resp-drill", Email: "responder@acme.test", Roles: []tenants.Role{tenants.RoleResponder}}
	e := approvals.Emergency{Justification: "rehearsing the orders database outage runbook", Incident: "DRILL-1"}
	drill, err := store.BreakGlass(ctx, acme, resourceID(t, f, "Break-glass drill"), responder, e, true, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	e.Incident = "INC-902"
	live, err := store.BreakGlass(ctx, acme, resourceID(t, f, "Orders database"), responder, e, true, audit.Meta{})
	if err != nil {
		t.Fatalf("a real break-glass while the responder's drill is active: %v", err)
	}
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	review := func(id string) testenv.Page {
		page := appr.Get(console + "/breakglass/" + id)
		return appr.PostForm(console+"/breakglass/"+id+"/review", url.Values{"_csrf": {testenv.CSRF(t, page)},
			"verdict": {"not-justified"}, "notes": {"the runbook was not followed at all"}})
	}
	p := review(drill.RequestID)
	if v := strings.TrimSpace(p.Doc(t).Find(`[data-testid="verdict"]`).Text()); !strings.HasPrefix(v, "not-justified") {
		t.Fatalf("the drill's verdict: %d %q", p.Status, v)
	}
	if note := p.Doc(t).Find(`[data-testid="verdict-note"]`).Text(); !strings.Contains(note, "drill") || !strings.Contains(note, "not flagged") {
		t.Fatalf("the drill's review page does not say the responder is not flagged: %q", note)
	}
	if list := appr.Get(console + "/breakglass"); list.Doc(t).Find(`[data-testid="flags"]`).Length() != 0 {
		t.Fatal("a drill reviewed not justified flagged the responder")
	}
	p = review(live.RequestID)
	if note := p.Doc(t).Find(`[data-testid="verdict-note"]`).Text(); !strings.Contains(note, "is flagged") {
		t.Fatalf("the real break-glass's review page: %q", note)
	}
	if flags := appr.Get(console + "/breakglass").Doc(t).Find(`[data-testid="flags"] tbody tr`); flags.Length() != 1 ||
		!strings.Contains(flags.Text(), "responder@acme.test") {
		t.Fatalf("flagged responders after a real break-glass not justified: %q", flags.Text())
	}
}

// TestTheReviewPageShowsWhoWasToldAfterRiverForgetsTheJobs: the page an
// approver reviews a break-glass on lists who was told, on which channel,
// and how delivery went, from Gatehouse's own record: River forgetting its
// jobs (a day after they finish) changes nothing there.
func TestTheReviewPageShowsWhoWasToldAfterRiverForgetsTheJobs(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test") // a known member, to be told
	inserter, _ := jobs.NewInserter(f.pool)
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	acme := tenantID(t, f, "acme")
	responder := approvals.Person{Tenant: acme, Subject: "resp-told", Email: "responder@acme.test", Roles: []tenants.Role{tenants.RoleResponder}}
	bg, err := store.BreakGlass(ctx, acme, resourceID(t, f, "Orders database"), responder,
		approvals.Emergency{Justification: "orders database is down, customers cannot pay", Incident: "INC-903"}, true, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, "DELETE FROM river_job"); err != nil {
		t.Fatal(err)
	}
	doc := appr.Get(console + "/breakglass/" + bg.RequestID).Doc(t)
	rows := doc.Find(`[data-testid="deliveries"] tbody tr`)
	if rows.Length() != 2 || doc.Find(`[data-testid="deliveries-more"]`).Length() != 0 {
		t.Fatalf("%d notices shown (or a word about more), want the email and the chat one", rows.Length())
	}
	email, chat := rows.Eq(0), rows.Eq(1)
	if to := email.Find(`[data-testid="delivery-to"]`).Text(); !strings.Contains(to, "approver1@acme.test") || strings.Contains(to, "responder@acme.test") ||
		!strings.Contains(email.Text(), "Break-glass: responder@acme.test on Orders database") {
		t.Fatalf("the email notice: %q", email.Text())
	}
	if to := chat.Find(`[data-testid="delivery-to"]`).Text(); to != "the organization's chat webhook" {
		t.Fatalf("the chat notice went to %q", to)
	}
	for _, r := range []*goquery.Selection{email, chat} {
		if st := r.Find(`[data-testid="delivery-state"]`).Text(); st != "pending" {
			t.Fatalf("a notice no worker has sent is %q", st)
		}
	}
}

// The break-glass page lists every break-glass of the organization, its
// own and those its responders opened under a share, 200 a page, newest
// first: each exactly once and in order, even where break-glasses share an
// instant across a page's end. Another organization's never show, whatever
// the cursor says; a bad cursor is a 400 with a plain message.
func TestTheBreakGlassListPagesThroughEveryBreakGlass(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	top := time.Now().Add(-time.Hour).Truncate(time.Second)
	own, shared, theirs := timedRows(380, 7, top), timedRows(40, 3, top.Add(-30*time.Second)), timedRows(30, 5, top.Add(-10*time.Second))
	seedRequests(t, f, seeded{owner: acme, kind: "break-glass"}, own)
	seedRequests(t, f, seeded{owner: globex, requesterTenant: acme, kind: "break-glass"}, shared) // acme's responders, on globex's resource
	seedRequests(t, f, seeded{owner: globex, kind: "break-glass"}, theirs)
	want := newestFirstIDs(t, append(slices.Clone(own), shared...), breakGlassPage)

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	got, sizes := walkList(t, admin, console, "/breakglass", `[data-testid="breakglass-list"] tbody tr`, "breakglass", dataID)
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{200, 200, 20}) {
		t.Fatalf("walked %d break-glasses in pages %v, want the %d in order", len(got), sizes, len(want))
	}

	// A cursor at globex's break-glass reads on in acme's own, from there.
	readsOnFromForeignCursor(t, admin, console, "/breakglass", `[data-testid="breakglass-list"] tbody tr`, append(slices.Clone(own), shared...),
		theirs[12], breakGlassPage, "break-glasses")
}

// breakGlassPage is how many break-glasses a page lists.
const breakGlassPage = 200
