package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/testenv"
)

// resourceID returns the ID of the named resource in the fixture's catalog.
func resourceID(t *testing.T, f *fixture, name string) string {
	t.Helper()
	var id string
	if err := f.pool.QueryRow(context.Background(), "SELECT id::text FROM resources WHERE name = $1", name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func countRequests(t *testing.T, f *fixture) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM requests").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBadRequestsGetFieldErrorsAndCreateNothing(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	b, _ := signedIn(t, console, "acme", "requester@acme.test")
	stripe := resourceID(t, f, "Stripe API key") // needs a ticket INC-<n>, at most 8h
	form := b.Get(console + "/catalog/" + stripe)
	if form.Status != http.StatusOK {
		t.Fatalf("form: %d", form.Status)
	}
	csrf := testenv.CSRF(t, form)
	good := url.Values{"_csrf": {csrf}, "level": {"read"}, "duration": {"1h"}, "justification": {"rotating after INC-42"}, "ticket": {"INC-42"}}
	cases := []struct {
		name, field, value, errField string
	}{
		{"over the maximum", "duration", "9h", "duration"},
		{"not a duration", "duration", "soon", "duration"},
		{"missing justification", "justification", "", "justification"},
		{"ticket mismatch", "ticket", "JIRA-1", "ticket"},
		{"level not allowed", "level", "read-write", "level"},
	}
	for _, c := range cases {
		v := url.Values{}
		for k, vs := range good {
			v[k] = vs
		}
		v.Set(c.field, c.value)
		p := b.PostForm(console+"/catalog/"+stripe+"/requests", v)
		if p.Status != http.StatusBadRequest || fieldError(t, p, c.errField) == "" {
			t.Errorf("%s: status %d, %s error %q", c.name, p.Status, c.errField, fieldError(t, p, c.errField))
		}
	}
	if n := countRequests(t, f); n != 0 {
		t.Fatalf("%d requests created by refused submissions", n)
	}
	// A resource of another tenant is not there.
	var globexRes string
	if err := f.pool.QueryRow(context.Background(), `SELECT r.id::text FROM resources r JOIN tenants t ON t.id = r.tenant_id
		WHERE t.slug = 'globex' LIMIT 1`).Scan(&globexRes); err != nil {
		t.Fatal(err)
	}
	if p := b.Get(console + "/catalog/" + globexRes); p.Status != http.StatusNotFound {
		t.Fatalf("another tenant's resource: %d", p.Status)
	}
	if p := b.PostForm(console+"/catalog/"+globexRes+"/requests", good); p.Status != http.StatusNotFound {
		t.Fatalf("requesting another tenant's resource: %d", p.Status)
	}
	if n := auditCount(t, f, "access.cross_tenant", "denied"); n != 2 {
		t.Fatalf("%d cross-tenant probes audited, want 2", n)
	}
	if p := b.Get(console + "/catalog/00000000-0000-0000-0000-000000000000"); p.Status != http.StatusNotFound || auditCount(t, f, "access.cross_tenant", "denied") != 2 {
		t.Fatal("a missing resource was audited as a cross-tenant probe")
	}
	if p := b.PostForm(console+"/catalog/"+stripe+"/requests", good); p.Status != http.StatusOK || p.URL.Path == "/catalog/"+stripe+"/requests" {
		t.Fatalf("a good request: %d at %s", p.Status, p.URL)
	}
	if n := countRequests(t, f); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// submitCI signs the requester in and submits a read request for the CI
// deploy token (one approval needed); it returns the browser and the page
// the submission ended on (the request's).
func submitCI(t *testing.T, f *fixture, console string) (*testenv.Browser, testenv.Page) {
	t.Helper()
	req, _ := signedIn(t, console, "acme", "requester@acme.test")
	ci := resourceID(t, f, "CI deploy token")
	csrf := testenv.CSRF(t, req.Get(console+"/catalog/"+ci))
	p := req.PostForm(console+"/catalog/"+ci+"/requests", url.Values{"_csrf": {csrf}, "level": {"read"}, "justification": {"deploy hotfix 1.2.3"}})
	if !strings.HasPrefix(p.URL.Path, "/requests/") {
		t.Fatalf("submit ended at %s", p.URL)
	}
	return req, p
}

func TestRequestsAreVisibleOnlyToTheRightPeople(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	_, p := submitCI(t, f, console)
	detail := p.URL.Path

	// The requester cannot approve their own request; a responder of the same tenant cannot see it.
	if p.Doc(t).Find(`[data-testid="approve"]`).Length() != 0 {
		t.Fatal("the requester is offered to approve their own request")
	}
	responder, _ := signedIn(t, console, "acme", "responder@acme.test")
	if p := responder.Get(console + detail); p.Status != http.StatusNotFound {
		t.Fatalf("an uninvolved member sees the request: %d", p.Status)
	}
	other, _ := signedIn(t, console, "globex", "approver1@globex.test")
	if p := other.Get(console + detail); p.Status != http.StatusNotFound || strings.Contains(p.Body, "deploy hotfix") {
		t.Fatalf("another tenant's approver sees the request: %d", p.Status)
	}
	// An approver sees it in the inbox, decides; a second vote is refused.
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	inbox := appr.Get(console + "/approvals")
	if !strings.Contains(inbox.Body, detail) {
		t.Fatal("the request is not in the approver's inbox")
	}
	if c := appr.Get(console + "/approvals/count"); strings.TrimSpace(c.Doc(t).Find(`[data-testid="inbox-count"]`).Text()) != "1" {
		t.Fatalf("inbox count %q", c.Body)
	}
	acsrf := testenv.CSRF(t, inbox)
	if p := appr.PostForm(console+detail+"/decide", url.Values{"_csrf": {acsrf}, "decision": {"deny"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "comment") == "" {
		t.Fatalf("deny without comment: %d", p.Status)
	}
	// The last approval issues the grant at once, on the approver's request
	// (no job worker runs here; the grant job is the durable path).
	if p := appr.PostForm(console+detail+"/decide", url.Values{"_csrf": {acsrf}, "decision": {"approve"}}); p.Status != http.StatusOK ||
		strings.TrimSpace(p.Doc(t).Find(`[data-testid="state"]`).Text()) != "active" {
		t.Fatalf("approve: %d, state %q", p.Status, strings.TrimSpace(p.Doc(t).Find(`[data-testid="state"]`).Text()))
	}
	var live bool
	if err := f.pool.QueryRow(context.Background(), "SELECT expires_at > now() AND ended_at IS NULL FROM grants WHERE request_id = $1",
		strings.TrimPrefix(detail, "/requests/")).Scan(&live); err != nil || !live {
		t.Fatalf("no live grant after the last approval: %v", err)
	}
	if p := appr.PostForm(console+detail+"/decide", url.Values{"_csrf": {acsrf}, "decision": {"approve"}}); p.Status != http.StatusConflict {
		t.Fatalf("vote on a closed request: %d", p.Status)
	}
	if c := appr.Get(console + "/approvals/count"); strings.TrimSpace(c.Doc(t).Find(`[data-testid="inbox-count"]`).Text()) != "0" {
		t.Fatalf("inbox count after deciding %q", c.Body)
	}
	// The holder's grant actions are the holder's alone.
	if rep, err := postgres.VerifyAudit(context.Background(), f.pool, ""); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit verification after the request flow: %+v, %v", rep, err)
	}
	stranger, _ := signedIn(t, console, "globex", "requester@globex.test")
	scsrf := testenv.CSRF(t, stranger.Get(console+"/catalog"))
	for _, action := range []string{"reveal", "token", "relinquish"} {
		if p := stranger.PostForm(console+"/grants/"+strings.TrimPrefix(detail, "/requests/")+"/"+action, url.Values{"_csrf": {scsrf}}); p.Status != http.StatusNotFound {
			t.Fatalf("another tenant's %s: %d", action, p.Status)
		}
	}
}

func TestABigInboxShowsTheOldestFiftyAndSaysHowManyWait(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	inserter, _ := jobs.NewInserter(f.pool)
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	acme, ci := tenantID(t, f, "acme"), resourceID(t, f, "CI deploy token")
	var first string
	for i := 0; i < 55; i++ {
		who := approvals.Person{Tenant: acme, Subject: fmt.Sprintf("p%d", i), Email: fmt.Sprintf("p%d@acme.test", i), Roles: []tenants.Role{tenants.RoleRequester}}
		id, err := store.Submit(ctx, acme, ci, who, approvals.Submission{Level: approvals.Read, Justification: "deploy hotfix " + fmt.Sprint(i)}, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		}
	}
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	p := appr.Get(console + "/approvals")
	if n := p.Doc(t).Find(`[data-testid="inbox"] tbody tr`).Length(); n != 50 || !strings.Contains(p.Body, first) {
		t.Fatalf("%d rows (the oldest shown: %v)", n, strings.Contains(p.Body, first))
	}
	if more := p.Doc(t).Find(`[data-testid="inbox-more"]`).Text(); !strings.Contains(more, "50 oldest of 55") {
		t.Fatalf("inbox note: %q", more)
	}
	if c := appr.Get(console + "/approvals/count"); strings.TrimSpace(c.Doc(t).Find(`[data-testid="inbox-count"]`).Text()) != "55" {
		t.Fatalf("badge: %q", c.Body)
	}
}

// TestAFailedIssueIsRetriedByItsRequester: issuing failed (Vault refused
// the grant for good); the requester tries again from the request's page,
// and the grant is issued. Nobody else but a tenant admin may retry.
func TestAFailedIssueIsRetriedByItsRequester(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	req, p := submitCI(t, f, console)
	detail, id := p.URL.Path, strings.TrimPrefix(p.URL.Path, "/requests/")
	// As the grant job leaves a request Vault refused for good.
	if _, err := f.pool.Exec(ctx, "UPDATE requests SET state = 'failed', failure_reason = 'Vault refused the grant (HTTP 403: permission denied).' WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	if p := appr.Get(console + detail); p.Status != http.StatusOK || p.Doc(t).Find(`[data-testid="retry"]`).Length() != 0 {
		t.Fatalf("an approver is offered to retry someone's request: %d", p.Status)
	}
	if p := appr.PostForm(console+detail+"/retry", url.Values{"_csrf": {testenv.CSRF(t, appr.Get(console+"/catalog"))}}); p.Status != http.StatusNotFound {
		t.Fatalf("an approver retrying someone's request: %d", p.Status)
	}
	page := req.Get(console + detail)
	if page.Doc(t).Find(`[data-testid="retry"]`).Length() != 1 || !strings.Contains(page.Body, "HTTP 403: permission denied") {
		t.Fatal("the requester is not shown the failure and the retry")
	}
	done := req.PostForm(console+detail+"/retry", url.Values{"_csrf": {testenv.CSRF(t, page)}})
	if done.URL.Path != detail || strings.TrimSpace(done.Doc(t).Find(`[data-testid="state"]`).Text()) != "active" {
		t.Fatalf("after the retry: at %s, state %q", done.URL.Path, strings.TrimSpace(done.Doc(t).Find(`[data-testid="state"]`).Text()))
	}
	var live bool
	var jobs int
	if err := f.pool.QueryRow(ctx, `SELECT (SELECT expires_at > now() AND ended_at IS NULL FROM grants WHERE request_id = $1),
		(SELECT count(*) FROM river_job WHERE kind = 'issue_grant' AND args->>'request_id' = $1::text)`, id).Scan(&live, &jobs); err != nil || !live || jobs != 1 {
		t.Fatalf("after the retry: live grant %v, %d grant jobs (%v)", live, jobs, err)
	}
	if p := req.PostForm(console+detail+"/retry", url.Values{"_csrf": {testenv.CSRF(t, done)}}); p.Status != http.StatusConflict {
		t.Fatalf("retrying an active grant: %d", p.Status)
	}
	if auditCount(t, f, "grant.retried", "success") != 1 {
		t.Fatal("the retry is not audited")
	}
}

// When Vault refuses to revoke the holder's previous token, taking a new
// one still hands it over (shown once), and the page says the previous one
// lives on, recorded, instead of an error page that drops the new token.
func TestANewTokenIsShownWhenThePreviousCannotBeRevoked(t *testing.T) {
	noRevoke, err := vault.New(stack.Vault.Addr, stack.GatehouseTokenWithout(t, "auth/token/revoke-accessor"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(d *handlers.Deps, _ *pgxpool.Pool) {
		d.Access = &access.Service{Store: d.Access.Store, Vault: noRevoke, Now: time.Now, Log: d.Access.Log}
	})
	console := f.serve(t)
	req, p := submitCI(t, f, console)
	detail := p.URL.Path
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	if p := appr.PostForm(console+detail+"/decide", url.Values{"_csrf": {testenv.CSRF(t, appr.Get(console+detail))}, "decision": {"approve"}}); p.Status != http.StatusOK {
		t.Fatalf("approve: %d", p.Status)
	}
	take := console + "/grants/" + strings.TrimPrefix(detail, "/requests/") + "/token"
	first := req.PostForm(take, url.Values{"_csrf": {testenv.CSRF(t, req.Get(console+"/grants"))}})
	if first.Status != http.StatusOK || first.Doc(t).Find(`[data-testid="credential-note"]`).Length() != 0 {
		t.Fatalf("the first token: %d", first.Status)
	}
	second := req.PostForm(take, url.Values{"_csrf": {testenv.CSRF(t, req.Get(console+"/grants"))}})
	d := second.Doc(t)
	if second.Status != http.StatusOK || strings.TrimSpace(d.Find(`[data-testid="wrapping-token"]`).Text()) == "" ||
		!strings.Contains(d.Find(`[data-testid="credential-note"]`).Text(), "previous token could not be revoked") {
		t.Fatalf("the second token, its predecessor not revocable: %d, token shown %v, note %q", second.Status,
			d.Find(`[data-testid="wrapping-token"]`).Length() == 1, d.Find(`[data-testid="credential-note"]`).Text())
	}
	var retired int
	if err := f.pool.QueryRow(context.Background(), "SELECT cardinality(retired_accessors) FROM grants WHERE request_id::text = $1",
		strings.TrimPrefix(detail, "/requests/")).Scan(&retired); err != nil || retired != 1 {
		t.Fatalf("%d previous tokens recorded (%v), want 1", retired, err)
	}
}
