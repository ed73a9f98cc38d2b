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

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/testenv"
)

const sessionCookie = "gatehouse_session"

func roles(t *testing.T, p testenv.Page) []string {
	t.Helper()
	var out []string
	p.Doc(t).Find(`[data-testid="roles"] li`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
	return out
}

func auditCount(t *testing.T, f *fixture, action, outcome string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM audit_events WHERE action = $1 AND outcome = $2", action, outcome).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPeopleSignInToTheirOwnTenantWithMappedRoles(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	cases := []struct {
		org, email string
		wantOrg    string
		wantRoles  []string
	}{
		{"acme", "approver1@acme.test", "Acme Corp", []string{"approver"}},
		{"acme", "admin@acme.test", "Acme Corp", []string{"tenant-admin"}},
		{"globex", "requester@globex.test", "Globex Corporation", []string{"requester"}},
		{"gatehouse", "operator@gatehouse.test", "Gatehouse Platform", []string{"platform-operator"}},
	}
	for _, tc := range cases {
		b := testenv.NewBrowser(t)
		p := b.SignIn(console, tc.org, tc.email, devstack.DemoPassword)
		if p.Status != http.StatusOK || p.URL.Path != "/" {
			t.Fatalf("%s: ended at %s (%d):\n%.600s", tc.email, p.URL, p.Status, p.Body)
		}
		d := p.Doc(t)
		if got := d.Find(`[data-testid="org"]`).Text(); got != tc.wantOrg {
			t.Errorf("%s: organization %q, want %q", tc.email, got, tc.wantOrg)
		}
		if got := roles(t, p); !slices.Equal(got, tc.wantRoles) {
			t.Errorf("%s: roles %v, want %v", tc.email, got, tc.wantRoles)
		}
	}
	if n := auditCount(t, f, "login.succeeded", "success"); n != len(cases) {
		t.Errorf("%d login.succeeded audit events, want %d", n, len(cases))
	}
	// No secret or token reached the audit trail.
	var leaked int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events
		WHERE detail::text ~* '(secret|token|code=|password)'`).Scan(&leaked); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 {
		t.Errorf("%d audit rows mention secrets or tokens", leaked)
	}
}

func TestAUserWithoutAMappedGroupIsRefusedPolitely(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	b := testenv.NewBrowser(t)
	p := b.SignIn(console, "acme", "nogroup@acme.test", devstack.DemoPassword)
	if p.Status != http.StatusForbidden {
		t.Fatalf("status %d at %s", p.Status, p.URL)
	}
	if !strings.Contains(p.Body, "Ask your administrator") {
		t.Fatalf("no polite explanation:\n%.800s", p.Body)
	}
	if b.Cookie(console, sessionCookie) != "" {
		t.Fatal("a session was created")
	}
	if auditCount(t, f, "login.refused", "denied") != 1 {
		t.Fatal("the refusal was not audited")
	}
}

func TestSessionIDRotatesAtLoginAndLogoutEndsIt(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	b := testenv.NewBrowser(t)
	b.SignIn(console, "acme", "requester@acme.test", devstack.DemoPassword)
	first := b.Cookie(console, sessionCookie)
	p := b.SignIn(console, "acme", "requester@acme.test", devstack.DemoPassword)
	second := b.Cookie(console, sessionCookie)
	if first == "" || second == "" || first == second {
		t.Fatalf("session cookie did not rotate: %q → %q", first, second)
	}
	// The old session is gone.
	old := testenv.NewBrowser(t)
	u, _ := url.Parse(console)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first, Path: "/"}})
	if p := old.Get(console + "/"); p.URL.Path != "/login" {
		t.Fatalf("the previous session still works (ended at %s)", p.URL)
	}

	out := b.PostForm(console+"/logout", url.Values{"_csrf": {testenv.CSRF(t, p)}})
	if out.URL.Path != "/login" || !strings.Contains(out.Body, "You have signed out") {
		t.Fatalf("logout ended at %s", out.URL)
	}
	if p := b.Get(console + "/"); p.URL.Path != "/login" {
		t.Fatalf("still signed in after logout (at %s)", p.URL)
	}
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM sessions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d sessions left after logout", n)
	}
}

func TestAReplayedCallbackIsRejected(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	callback, preauth := codeFrom(t, console, "acme", "requester@acme.test")
	withAttempt := func() *testenv.Browser {
		b := testenv.NewBrowser(t)
		u, _ := url.Parse(console + "/auth/acme/")
		b.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_preauth", Value: preauth, Path: "/auth/acme/"}})
		return b
	}
	if p := withAttempt().Get(callback.String()); p.Status != http.StatusOK || p.URL.Path != "/" {
		t.Fatalf("first use of the callback failed: %d %s", p.Status, p.URL)
	}
	// Replay: same code and state, the same pre-auth cookie put back.
	replay := withAttempt()
	p := replay.Get(callback.String())
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "expired or was already used") {
		t.Fatalf("replay: %d\n%.600s", p.Status, p.Body)
	}
	if replay.Cookie(console, sessionCookie) != "" {
		t.Fatal("the replay created a session")
	}
}

// codeFrom runs org's sign-in up to the callback and returns the callback
// URL (code and state) and the pre-auth cookie, without completing it.
func codeFrom(t *testing.T, console, org, email string) (*url.URL, string) {
	t.Helper()
	b := testenv.NewBrowser(t)
	start := b.Get(console + "/auth/" + org + "/start")
	var callback *url.URL
	b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.Contains(req.URL.Path, "/callback") && strings.HasPrefix(req.URL.String(), console) {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	b.SubmitLogin(start, email, devstack.DemoPassword)
	if callback == nil {
		t.Fatal("never redirected to the callback")
	}
	return callback, b.Cookie(console+"/auth/"+org+"/", "gatehouse_preauth")
}

func TestAnotherTenantsIdPNeverSignsAnyoneIn(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)

	// globex's code and attempt, presented at acme's callback.
	globexCB, globexAttempt := codeFrom(t, console, "globex", "admin@globex.test")
	b := testenv.NewBrowser(t)
	u, _ := url.Parse(console + "/auth/acme/")
	b.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_preauth", Value: globexAttempt, Path: "/auth/acme/"}})
	p := b.Get(console + "/auth/acme/callback?" + globexCB.RawQuery)
	if p.Status != http.StatusBadRequest || b.Cookie(console, sessionCookie) != "" {
		t.Fatalf("globex attempt at acme's callback: %d\n%.500s", p.Status, p.Body)
	}

	// A genuine acme attempt, completed with a code issued by globex's IdP.
	acmeCB, acmeAttempt := codeFrom(t, console, "acme", "admin@acme.test")
	globexCB2, _ := codeFrom(t, console, "globex", "admin@globex.test")
	q := acmeCB.Query()
	q.Set("code", globexCB2.Query().Get("code"))
	b = testenv.NewBrowser(t)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_preauth", Value: acmeAttempt, Path: "/auth/acme/"}})
	p = b.Get(console + "/auth/acme/callback?" + q.Encode())
	if p.Status != http.StatusBadRequest || b.Cookie(console, sessionCookie) != "" {
		t.Fatalf("globex code at acme's callback: %d\n%.500s", p.Status, p.Body)
	}
	if strings.Contains(p.Body, globexCB2.Query().Get("code")) {
		t.Fatal("the error page shows the authorization code")
	}
	var sessions int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM sessions").Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if sessions != 0 {
		t.Fatalf("%d sessions exist", sessions)
	}
	if auditCount(t, f, "login.refused", "failure") < 2 {
		t.Fatal("the refused sign-ins were not audited")
	}
}

func TestSuspendingATenantEndsItsSessionsOnTheNextRequest(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	acme := testenv.NewBrowser(t)
	acme.SignIn(console, "acme", "requester@acme.test", devstack.DemoPassword)
	globex := testenv.NewBrowser(t)
	globex.SignIn(console, "globex", "requester@globex.test", devstack.DemoPassword)

	if _, err := f.pool.Exec(context.Background(), "UPDATE tenants SET status = 'suspended' WHERE slug = 'acme'"); err != nil {
		t.Fatal(err)
	}
	p := acme.Get(console + "/")
	if p.URL.Path != "/login" || p.URL.Query().Get("ended") != "1" {
		t.Fatalf("acme user still in after suspension (at %s)", p.URL)
	}
	if p := globex.Get(console + "/"); p.URL.Path != "/" {
		t.Fatalf("globex user lost their session (at %s)", p.URL)
	}
	if p := acme.Get(console + "/auth/acme/start"); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "not accepting sign-ins") {
		t.Fatalf("sign-in to a suspended tenant: %d", p.Status)
	}
}

func TestACodeFromAnotherAttemptIsRejected(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	// Attempt A is started but its IdP login never finished; attempt B's
	// code (bound to B's PKCE challenge, its ID token carrying B's nonce)
	// is presented with A's cookie and A's state. The token endpoint refuses
	// A's PKCE verifier, so the nonce check behind it is never reached: two
	// independent bindings, either one enough.
	a := testenv.NewBrowser(t)
	resp, err := a.NoRedirect().Get(console + "/auth/acme/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	stateA := loc.Query().Get("state")
	attemptA := a.Cookie(console+"/auth/acme/", "gatehouse_preauth")
	cbB, _ := codeFrom(t, console, "acme", "requester@acme.test")

	q := url.Values{"code": {cbB.Query().Get("code")}, "state": {stateA}}
	p := a.Get(console + "/auth/acme/callback?" + q.Encode())
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "did not accept this sign-in") {
		t.Fatalf("code of another attempt: %d\n%.600s", p.Status, p.Body)
	}
	if a.Cookie(console, sessionCookie) != "" || attemptA == "" {
		t.Fatal("a session was created")
	}
}

func TestMissingStateOrCodeIsRejected(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	cb, attempt := codeFrom(t, console, "acme", "requester@acme.test")
	for name, q := range map[string]url.Values{
		"no state": {"code": {cb.Query().Get("code")}},
		"no code":  {"state": {cb.Query().Get("state")}},
	} {
		b := testenv.NewBrowser(t)
		u, _ := url.Parse(console + "/auth/acme/")
		b.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_preauth", Value: attempt, Path: "/auth/acme/"}})
		p := b.Get(console + "/auth/acme/callback?" + q.Encode())
		if p.Status != http.StatusBadRequest || b.Cookie(console, sessionCookie) != "" {
			t.Errorf("%s: %d", name, p.Status)
		}
	}
	// The IdP reporting an error is shown plainly and audited.
	p := testenv.NewBrowser(t).Get(console + "/auth/acme/callback?error=access_denied&error_description=%3Cscript%3E")
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "access_denied") || strings.Contains(p.Body, "<script>") {
		t.Fatalf("IdP error: %d", p.Status)
	}
}

func TestAnExpiredIDTokenIsRejected(t *testing.T) {
	// Gatehouse's clock is two days ahead: every ID token Dex issues (valid
	// for 24 hours) has expired by Gatehouse's time.
	f := newFixtureWithClock(t, func() time.Time { return time.Now().Add(48 * time.Hour) })
	console := f.serve(t)
	b := testenv.NewBrowser(t)
	p := b.SignIn(console, "acme", "requester@acme.test", devstack.DemoPassword)
	// The attempt itself also expired by that clock; either way nobody gets in.
	if p.Status != http.StatusBadRequest || b.Cookie(console, sessionCookie) != "" {
		t.Fatalf("expired token: %d at %s", p.Status, p.URL)
	}
}
