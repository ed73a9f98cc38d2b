package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/testenv"
)

func signedIn(t testing.TB, console, org, email string) (*testenv.Browser, testenv.Page) {
	t.Helper()
	b := testenv.NewBrowser(t)
	p := b.SignIn(console, org, email, devstack.DemoPassword)
	if p.URL.Path != "/" {
		t.Fatalf("%s could not sign in (at %s, %d)", email, p.URL, p.Status)
	}
	return b, p
}

func TestOnlyPlatformOperatorsSeeTheOrganizationList(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	admin, home := signedIn(t, console, "acme", "admin@acme.test")
	if strings.Contains(home.Body, "/platform/tenants") {
		t.Error("a tenant admin's navigation links to the platform list")
	}
	if p := admin.Get(console + "/platform/tenants"); p.Status != http.StatusForbidden {
		t.Fatalf("tenant admin got %d on the platform list", p.Status)
	}
	op, home := signedIn(t, console, "gatehouse", "operator@gatehouse.test")
	if !strings.Contains(home.Body, `href="/platform/tenants"`) {
		t.Error("the operator's navigation lacks the organization list")
	}
	p := op.Get(console + "/platform/tenants")
	if p.Status != http.StatusOK {
		t.Fatalf("operator got %d", p.Status)
	}
	if n := p.Doc(t).Find(`[data-testid="tenants"] tbody tr`).Length(); n != 3 {
		t.Fatalf("%d organizations listed, want 3", n)
	}
}

func TestSuspendingEndsSessionsAtOnceAndReactivatingIsSeparate(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	user, _ := signedIn(t, console, "acme", "requester@acme.test")
	op, _ := signedIn(t, console, "gatehouse", "operator@gatehouse.test")
	list := op.Get(console + "/platform/tenants")
	csrf := testenv.CSRF(t, list)

	// No reason: refused, nothing changes.
	p := op.PostForm(console+"/platform/tenants/acme/suspend", url.Values{"_csrf": {csrf}, "reason": {" "}})
	if p.Status != http.StatusBadRequest || p.Doc(t).Find(`[data-testid="reason-error"]`).Length() == 0 {
		t.Fatalf("suspend without reason: %d", p.Status)
	}
	if u := user.Get(console + "/"); u.URL.Path != "/" {
		t.Fatal("the refused suspension ended a session")
	}

	p = op.PostForm(console+"/platform/tenants/acme/suspend", url.Values{"_csrf": {csrf}, "reason": {"partner compromise INC-7"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Doc(t).Find(".flash").Text(), "acme is suspended; 1 session(s) ended") {
		t.Fatalf("suspend: %d\n%.400s", p.Status, p.Body)
	}
	if u := user.Get(console + "/"); u.URL.Path != "/login" {
		t.Fatalf("acme session survived the suspension (at %s)", u.URL)
	}
	if s := testenv.NewBrowser(t).Get(console + "/auth/acme/start"); s.Status != http.StatusForbidden {
		t.Fatalf("sign-in to a suspended tenant: %d", s.Status)
	}
	var reason string
	if err := f.pool.QueryRow(context.Background(), `SELECT detail->>'reason' FROM audit_events
		WHERE action = 'tenant.suspended' AND actor LIKE 'operator@gatehouse.test%'`).Scan(&reason); err != nil {
		t.Fatalf("suspension not audited: %v", err)
	}
	if reason != "partner compromise INC-7" {
		t.Fatalf("audited reason %q", reason)
	}

	// Reactivating is its own action; then people can sign in again.
	p = op.PostForm(console+"/platform/tenants/acme/reactivate", url.Values{"_csrf": {csrf}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "acme is active again") {
		t.Fatalf("reactivate: %d", p.Status)
	}
	signedIn(t, console, "acme", "requester@acme.test")
}

func TestCuttingOffAnIdPEndsItsSessionsAndBlocksSignIn(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	user, _ := signedIn(t, console, "globex", "approver1@globex.test")
	other, _ := signedIn(t, console, "acme", "approver1@acme.test")
	op, _ := signedIn(t, console, "gatehouse", "operator@gatehouse.test")
	csrf := testenv.CSRF(t, op.Get(console+"/platform/tenants"))

	p := op.PostForm(console+"/platform/tenants/globex/disable-idp", url.Values{"_csrf": {csrf}, "reason": {"IdP signing key leaked"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Doc(t).Find(".flash").Text(), "globex's identity provider is cut off; 1 session(s) ended") {
		t.Fatalf("disable IdP: %d\n%.400s", p.Status, p.Body)
	}
	if u := user.Get(console + "/"); u.URL.Path != "/login" {
		t.Fatal("globex session survived the IdP kill switch")
	}
	if u := other.Get(console + "/"); u.URL.Path != "/" {
		t.Fatal("an acme session was ended by globex's kill switch")
	}
	if s := testenv.NewBrowser(t).Get(console + "/auth/globex/start"); s.Status != http.StatusForbidden || !strings.Contains(s.Body, "turned off") {
		t.Fatalf("sign-in through a disabled IdP: %d", s.Status)
	}
	p = op.PostForm(console+"/platform/tenants/globex/enable-idp", url.Values{"_csrf": {csrf}})
	if p.Status != http.StatusOK {
		t.Fatalf("enable IdP: %d", p.Status)
	}
	signedIn(t, console, "globex", "approver1@globex.test")

	// The platform organization itself cannot be cut off.
	p = op.PostForm(console+"/platform/tenants/gatehouse/disable-idp", url.Values{"_csrf": {csrf}, "reason": {"testing the guard"}})
	if p.Status != http.StatusConflict {
		t.Fatalf("cutting off the platform IdP: %d", p.Status)
	}
}
