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

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/testenv"
)

func TestAnAccessReviewCampaignKeepsOrRevokesEachItem(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	inserter, _ := jobs.NewInserter(f.pool)
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	// A long-running share to review.
	admin := approvals.Person{Tenant: acme, Subject: "adm", Email: "admin@acme.test", Roles: []tenants.Role{tenants.RoleTenantAdmin}}
	share, err := store.ProposeShare(ctx, acme, admin, "globex", []string{resourceID(t, f, "CI deploy token")}, approvals.ShareTerms{
		Recipients: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}}, Level: approvals.Read, TermEnd: time.Now().AddDate(0, 0, 60),
		Purpose: "shared deploy pipeline", Mode: approvals.PreApproved, MaxGrant: time.Hour}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DecideShare(ctx, acme, share, approvals.Person{Tenant: acme, Subject: "a1", Roles: []tenants.Role{tenants.RoleApprover}}, true, "", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := store.AcceptShare(ctx, globex, share, approvals.Person{Tenant: globex, Subject: "g", Roles: []tenants.Role{tenants.RoleTenantAdmin}}, true, "", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	responder, _ := signedIn(t, console, "acme", "responder@acme.test")
	adm, _ := signedIn(t, console, "acme", "admin@acme.test")
	list := adm.Get(console + "/reviews")
	csrf := testenv.CSRF(t, list)
	if p := adm.PostForm(console+"/reviews", url.Values{"_csrf": {csrf}, "name": {"Q4"}, "due": {"2020-01-01"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "due") == "" {
		t.Fatalf("a campaign due in the past: %d", p.Status)
	}
	camp := adm.PostForm(console+"/reviews", url.Values{"_csrf": {csrf}, "name": {"Q4 2026 access review"}, "due": {time.Now().AddDate(0, 0, 7).Format("2006-01-02")}})
	if !strings.HasPrefix(camp.URL.Path, "/reviews/") {
		t.Fatalf("campaign ended at %s (%d)", camp.URL, camp.Status)
	}
	items := map[string]string{}
	camp.Doc(t).Find(`[data-testid="review-items"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
		action, _ := s.Find("form").Attr("action")
		items[s.AttrOr("data-item", "")] = action
	})
	if len(items) != 8 { // 5 role mappings, the share, 2 break-glass-able resources
		t.Fatalf("%d items: %v", len(items), items)
	}
	find := func(prefix string) string {
		for label, action := range items {
			if strings.HasPrefix(label, prefix) {
				return action
			}
		}
		t.Fatalf("no item %q", prefix)
		return ""
	}
	decide := func(prefix, decision, note string) testenv.Page {
		return adm.PostForm(console+find(prefix), url.Values{"_csrf": {csrf}, "decision": {decision}, "note": {note}})
	}
	if p := decide("IdP group responders", "revoke", ""); p.Status != http.StatusBadRequest {
		t.Fatalf("a revoke without a note: %d", p.Status)
	}
	if p := decide("IdP group admins", "revoke", "testing the last admin"); p.Status != http.StatusBadRequest {
		t.Fatalf("revoking the only tenant-admin mapping: %d", p.Status)
	}
	if p := decide("IdP group responders", "revoke", "no more on-call rota"); p.Status != http.StatusOK {
		t.Fatalf("revoking the responder mapping: %d", p.Status)
	}
	if p := responder.Get(console + "/"); p.URL.Path != "/login" {
		t.Fatal("a responder's session survived the revoked mapping")
	}
	if p := decide("Share ", "revoke", "pipeline retired"); p.Status != http.StatusOK {
		t.Fatalf("revoking the share: %d", p.Status)
	}
	if d, err := store.ShareDetail(ctx, acme, share); err != nil || d.State != approvals.ShareEnded {
		t.Fatalf("the share after the review: %s %v", d.State, err)
	}
	if p := decide("Break-glass on Orders database", "revoke", "DBA team owns it now"); p.Status != http.StatusOK {
		t.Fatalf("revoking break-glass eligibility: %d", p.Status)
	}
	if r, err := store.Resource(ctx, acme, resourceID(t, f, "Orders database")); err != nil || r.BreakGlass.Enabled {
		t.Fatalf("Orders database is still break-glass-able: %v", err)
	}
	for label := range items {
		if strings.Contains(label, "responders") || strings.HasPrefix(label, "Share ") || strings.HasPrefix(label, "Break-glass on Orders") {
			continue
		}
		if p := decide(label, "keep", ""); p.Status != http.StatusOK {
			t.Fatalf("keeping %s: %d", label, p.Status)
		}
	}
	done := adm.Get(console + camp.URL.Path)
	if strings.TrimSpace(done.Doc(t).Find(`[data-testid="campaign-state"]`).Text()) != "completed" {
		t.Fatalf("campaign state %q", done.Doc(t).Find(`[data-testid="campaign-state"]`).Text())
	}
	report := adm.Get(console + camp.URL.Path + "/report.csv")
	if lines := strings.Split(strings.TrimSpace(report.Body), "\n"); len(lines) != 9 || !strings.Contains(report.Body, "no more on-call rota") {
		t.Fatalf("report: %d lines", len(lines))
	}
	// Reminders go out once a day for a campaign coming due.
	soon := postgres.NewRequestStore(f.pool, inserter, func() time.Time { return time.Now().AddDate(0, 0, 30) })
	other, err := store.StartCampaign(ctx, acme, "next", time.Now().Add(2*time.Hour), "admin", audit.Meta{})
	if err != nil || other == "" {
		t.Fatal(err)
	}
	if n, err := soon.RemindCampaigns(ctx); err != nil || n != 1 {
		t.Fatalf("reminders: %d %v", n, err)
	}
	if n, _ := soon.RemindCampaigns(ctx); n != 0 {
		t.Fatalf("reminded twice in a day: %d", n)
	}
	// Its page shows who was reminded.
	told := adm.Get(console + "/reviews/" + other).Doc(t).Find(`[data-testid="campaign-notices"] [data-testid="deliveries"] tbody tr`)
	if told.Length() != 2 || !strings.Contains(told.Text(), "Access review due: next") || !strings.Contains(told.Text(), "admin@acme.test") {
		t.Fatalf("who was told of the campaign coming due: %d rows %q; want the admins by email, and the chat webhook", told.Length(), told.Text())
	}
}

// seedCampaigns records campaigns of the tenant, started at each row's time.
func seedCampaigns(t *testing.T, f *fixture, tenant string, rows []timed) {
	t.Helper()
	insertTimed(t, f, `INSERT INTO review_campaigns (id, tenant_id, name, due_at, created_by, created_at)
		SELECT c.id, $3, 'seeded ' || c.id, c.at + interval '14 days', 'admin@acme.test', c.at
		FROM unnest($1::uuid[], $2::timestamptz[]) AS c (id, at)`, rows, tenant)
}

// The reviews page lists every campaign of the organization, 100 a page,
// newest first: each exactly once and in order, even where campaigns were
// started at one instant across a page's end. Another organization's never
// show, whatever the cursor says; a bad cursor is a 400 with a plain
// message.
func TestTheReviewsPagePagesThroughEveryCampaign(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	top := time.Now().Add(-time.Hour).Truncate(time.Second)
	mine, theirs := timedRows(230, 7, top), timedRows(30, 3, top.Add(-30*time.Second))
	seedCampaigns(t, f, acme, mine)
	seedCampaigns(t, f, globex, theirs)

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	rows := `[data-testid="campaigns"] tbody tr`
	got, sizes := walkList(t, admin, console, "/reviews", rows, "campaigns", dataID)
	if want := newestFirstIDs(t, mine, 100); !slices.Equal(got, want) || !slices.Equal(sizes, []int{100, 100, 30}) {
		t.Fatalf("walked %d campaigns in pages %v, want the %d in order", len(got), sizes, len(want))
	}
	readsOnFromForeignCursor(t, admin, console, "/reviews", rows, mine, theirs[11], 100, "review campaigns")
}
