package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/testenv"
)

func TestStepUpForcesAFreshSignInAtTheOwnIdP(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	b, _ := signedIn(t, console, "acme", "responder@acme.test")

	// The redirect asks the IdP for a fresh authentication.
	resp, err := b.NoRedirect().Get(console + "/auth/acme/reauth?return_to=/admin/members")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "prompt=login") || !strings.Contains(loc, "max_age=0") {
		t.Fatalf("reauth redirect %d %q", resp.StatusCode, loc)
	}
	// Another tenant's step-up is not there for this person, and the probe is audited.
	if p := b.Get(console + "/auth/globex/reauth"); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Globex") {
		t.Fatalf("reauth at another tenant: %d", p.Status)
	}
	if auditCount(t, f, "access.cross_tenant", "denied") != 1 {
		t.Fatal("the cross-tenant request was not audited")
	}
	// Completing it yields a new session and a step-up audit event.
	before := b.Cookie(console, sessionCookie)
	p := b.SubmitLogin(b.Get(console+"/auth/acme/reauth"), "responder@acme.test", devstack.DemoPassword)
	if p.URL.Path != "/" || b.Cookie(console, sessionCookie) == before {
		t.Fatalf("step-up ended at %s; session rotated: %v", p.URL, b.Cookie(console, sessionCookie) != before)
	}
	if auditCount(t, f, "login.step_up", "success") != 1 {
		t.Fatal("step-up not audited")
	}
}

func TestStepUpRefusesAnAuthenticationThatIsNotFresh(t *testing.T) {
	// Gatehouse's clock runs 10 minutes ahead of the IdP's: the auth_time
	// in the ID token looks 10 minutes old, past identity.StepUpMaxAge.
	f := newFixtureWithClock(t, func() time.Time { return time.Now().Add(10 * time.Minute) })
	console := f.serve(t)
	b := testenv.NewBrowser(t)
	// Ordinary sign-in is unaffected by auth_time.
	if p := b.SignIn(console, "acme", "responder@acme.test", devstack.DemoPassword); p.URL.Path != "/" {
		t.Fatalf("sign-in ended at %s (%d)", p.URL, p.Status)
	}
	p := b.SubmitLogin(b.Get(console+"/auth/acme/reauth"), "responder@acme.test", devstack.DemoPassword)
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "did not confirm a fresh sign-in") {
		t.Fatalf("stale step-up: %d\n%.500s", p.Status, p.Body)
	}
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE action = 'login.step_up'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("a refused step-up was recorded as a step-up")
	}
}

func TestSessionFreshness(t *testing.T) {
	now := time.Now()
	s := identity.Session{Identity: identity.Identity{AuthTime: now.Add(-4 * time.Minute)}}
	if !s.FreshWithin(5*time.Minute, now) {
		t.Error("4-minute-old authentication not fresh within 5 minutes")
	}
	if s.FreshWithin(3*time.Minute, now) {
		t.Error("4-minute-old authentication fresh within 3 minutes")
	}
	if (identity.Session{}).FreshWithin(time.Hour, now) {
		t.Error("a session without auth_time is fresh")
	}
}
