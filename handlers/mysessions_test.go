package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/testenv"
)

const (
	firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chromeUA  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

// userAgent makes every request of a browser carry ua, so its sessions can
// be told apart on the page.
type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.next.RoundTrip(r)
}

// signedInAs signs email in at org from a new browser sending ua.
func signedInAs(t *testing.T, console, org, email, ua string) *testenv.Browser {
	t.Helper()
	b := testenv.NewBrowser(t)
	b.Transport = userAgent{ua: ua, next: http.DefaultTransport}
	if p := b.SignIn(console, org, email, devstack.DemoPassword); p.URL.Path != "/" {
		t.Fatalf("%s could not sign in (at %s, %d)", email, p.URL, p.Status)
	}
	return b
}

// sessionRows returns the rows of the "Your sessions" table.
func sessionRows(t *testing.T, p testenv.Page) *goquery.Selection {
	t.Helper()
	if p.Status != http.StatusOK || p.URL.Path != "/sessions" {
		t.Fatalf("Your sessions: %d at %s", p.Status, p.URL)
	}
	return p.Doc(t).Find(`[data-testid="sessions"] tbody tr[data-testid="session"]`)
}

// currentRow returns the row marked "This session", failing unless there
// is exactly one.
func currentRow(t *testing.T, rows *goquery.Selection) *goquery.Selection {
	t.Helper()
	cur := rows.FilterFunction(func(_ int, r *goquery.Selection) bool { return r.Find(`[data-testid="this-session"]`).Length() > 0 })
	if cur.Length() != 1 {
		t.Fatalf("%d rows are marked as this session, want 1", cur.Length())
	}
	if cur.Find(`[data-testid="end-session"]`).Length() != 0 {
		t.Error("this session is offered an End button (signing out ends it)")
	}
	return cur
}

// sessionRef returns the ref of the only session of email.
func sessionRef(t *testing.T, f *fixture, email string) string {
	t.Helper()
	var ref string
	if err := f.pool.QueryRow(context.Background(), "SELECT ref::text FROM sessions WHERE email = $1", email).Scan(&ref); err != nil {
		t.Fatalf("the session of %s: %v", email, err)
	}
	return ref
}

func countSessions(t *testing.T, f *fixture) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM sessions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// tokenAndHash returns the browser's session token and its SHA-256 in hex
// (what the sessions table is keyed by), to check neither is shown or
// recorded. Never printed.
func tokenAndHash(b *testenv.Browser, console string) []string {
	tok := b.Cookie(console, "gatehouse_session")
	h := sha256.Sum256([]byte(tok))
	return []string{tok, hex.EncodeToString(h[:])}
}

func TestYourSessionsListsYourOwnAndEndsTheOthers(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	const me = "requester@acme.test"

	laptop := signedInAs(t, console, "acme", me, firefoxUA)
	stolen := signedInAs(t, console, "acme", me, chromeUA)
	approver := signedInAs(t, console, "acme", "approver1@acme.test", chromeUA)
	globex := signedInAs(t, console, "globex", "requester@globex.test", chromeUA)
	secrets := append(tokenAndHash(laptop, console), tokenAndHash(stolen, console)...)

	// Reachable from the account area of every page.
	home := laptop.Get(console + "/")
	if home.Doc(t).Find(`[data-testid="who"] a[href="/sessions"]`).Length() != 1 {
		t.Fatal("the account area links to no Your sessions page")
	}

	// Exactly my two sessions, the right one marked, never a token or hash.
	page := laptop.Get(console + "/sessions")
	rows := sessionRows(t, page)
	if rows.Length() != 2 {
		t.Fatalf("%d sessions listed, want my 2", rows.Length())
	}
	if b := currentRow(t, rows).Find("td").Eq(3).Text(); b != "Firefox on Linux" {
		t.Errorf("this session's browser reads %q, want Firefox on Linux", b)
	}
	for _, s := range secrets {
		if strings.Contains(page.Body, s) {
			t.Fatal("the page holds a session token or its hash")
		}
	}
	for _, ref := range []string{sessionRef(t, f, "approver1@acme.test"), sessionRef(t, f, "requester@globex.test")} {
		if strings.Contains(page.Body, ref) {
			t.Fatal("the page names someone else's session")
		}
	}
	if cur := currentRow(t, sessionRows(t, stolen.Get(console+"/sessions"))); cur.Find("td").Eq(3).Text() != "Chrome on Windows" {
		t.Errorf("the second browser's page marks %q as its session", cur.Find("td").Eq(3).Text())
	}
	if n := sessionRows(t, approver.Get(console+"/sessions")).Length(); n != 1 {
		t.Errorf("another person sees %d sessions, want their 1", n)
	}

	// A third session of mine gone idle is neither listed nor endable: the
	// rules Resume applies.
	idle := signedInAs(t, console, "acme", me, chromeUA)
	var idleRef string
	if err := f.pool.QueryRow(ctx, `UPDATE sessions SET last_seen_at = now() - interval '31 minutes'
		WHERE id_hash = sha256(convert_to($1, 'UTF8')) RETURNING ref::text`, idle.Cookie(console, "gatehouse_session")).Scan(&idleRef); err != nil {
		t.Fatal(err)
	}
	page = laptop.Get(console + "/sessions")
	if n := sessionRows(t, page).Length(); n != 2 || strings.Contains(page.Body, idleRef) {
		t.Fatalf("an idle session is listed (%d rows)", n)
	}

	// Refs that are not one of my other active sessions: 404 (my own: 409),
	// nothing ended, nothing audited.
	csrf := testenv.CSRF(t, page)
	before := countSessions(t, f)
	for _, c := range []struct {
		name, ref string
		status    int
	}{
		{"another person's", sessionRef(t, f, "approver1@acme.test"), http.StatusNotFound},
		{"another tenant's", sessionRef(t, f, "requester@globex.test"), http.StatusNotFound},
		{"an idle one", idleRef, http.StatusNotFound},
		{"a malformed one", "not-a-session", http.StatusNotFound},
		{"an upper-case one", strings.ToUpper(sessionRef(t, f, "approver1@acme.test")), http.StatusNotFound},
		{"this one", currentRef(t, f, laptop, console), http.StatusConflict},
	} {
		if p := laptop.PostForm(console+"/sessions/"+url.PathEscape(c.ref)+"/end", url.Values{"_csrf": {csrf}}); p.Status != c.status {
			t.Errorf("ending %s session: %d, want %d", c.name, p.Status, c.status)
		}
	}
	if p := laptop.PostForm(console+"/sessions/end-others", url.Values{}); p.Status != http.StatusForbidden {
		t.Errorf("sign out everywhere else without the CSRF token: %d, want 403", p.Status)
	}
	if n := countSessions(t, f); n != before {
		t.Fatalf("refused ends changed the sessions: %d, was %d", n, before)
	}
	if n := auditCount(t, f, "session.ended", "success"); n != 0 {
		t.Fatalf("%d session.ended events after refused ends", n)
	}
	for _, b := range []*testenv.Browser{stolen, approver, globex} {
		if p := b.Get(console + "/"); p.URL.Path != "/" {
			t.Fatal("a refused end signed a browser out")
		}
	}

	// Ending the other one from the laptop signs that browser out, with
	// exactly one audit event holding no token or hash.
	rows = sessionRows(t, laptop.Get(console+"/sessions"))
	other := rows.FilterFunction(func(_ int, r *goquery.Selection) bool { return r.Find(`[data-testid="end-session"]`).Length() == 1 })
	if other.Length() != 1 || other.Find("td").Eq(3).Text() != "Chrome on Windows" {
		t.Fatalf("%d other sessions offered to end", other.Length())
	}
	action, _ := other.Find(`form[data-testid="end-session"]`).Attr("action")
	form := url.Values{"_csrf": {csrf}}
	done := laptop.PostForm(console+action, form)
	if done.Status != http.StatusOK || !strings.Contains(done.Doc(t).Find(".flash").Text(), "1 session ended") {
		t.Fatalf("ending the other session: %d at %s", done.Status, done.URL)
	}
	if n := sessionRows(t, done).Length(); n != 1 {
		t.Fatalf("%d sessions left, want 1", n)
	}
	if p := stolen.Get(console + "/"); p.URL.Path != "/login" {
		t.Fatalf("the ended session's browser is still signed in (at %s)", p.URL)
	}
	if p := laptop.Get(console + "/"); p.URL.Path != "/" {
		t.Fatal("ending the other session signed this one out")
	}
	if n := auditCount(t, f, "session.ended", "success"); n != 1 {
		t.Fatalf("%d session.ended events, want 1", n)
	}
	var event, actor, reason, endedUA string
	if err := f.pool.QueryRow(ctx, `SELECT row_to_json(a)::text, actor, detail->>'reason', detail->>'session_user_agent'
		FROM audit_events a WHERE action = 'session.ended'`).Scan(&event, &actor, &reason, &endedUA); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(actor, me) || reason != "ended by its owner from another session" || endedUA != chromeUA {
		t.Errorf("session.ended by %q, reason %q, ended session's user agent %q", actor, reason, endedUA)
	}
	for _, s := range secrets {
		if strings.Contains(event, s) {
			t.Fatal("the audit event holds a session token or its hash")
		}
	}
	if again := laptop.PostForm(console+action, form); again.Status != http.StatusNotFound {
		t.Errorf("ending an ended session: %d, want 404", again.Status)
	}

	// Sign out everywhere else: only this one is left; others' untouched.
	second := signedInAs(t, console, "acme", me, chromeUA)
	third := signedInAs(t, console, "acme", me, firefoxUA)
	page = laptop.Get(console + "/sessions")
	if n := sessionRows(t, page).Length(); n != 3 {
		t.Fatalf("%d sessions before signing out everywhere else, want 3", n)
	}
	done = laptop.PostForm(console+"/sessions/end-others", page.Form(t, `form[data-testid="end-others"]`))
	if !strings.Contains(done.Doc(t).Find(".flash").Text(), "2 sessions ended") {
		t.Fatalf("sign out everywhere else: %d, flash %q", done.Status, done.Doc(t).Find(".flash").Text())
	}
	if rows := sessionRows(t, done); rows.Length() != 1 || currentRow(t, rows).Length() != 1 {
		t.Fatalf("%d sessions left, want this one", rows.Length())
	}
	if done.Doc(t).Find(`[data-testid="end-others"]`).Length() != 0 {
		t.Error("sign out everywhere else is still offered with no other session")
	}
	for _, b := range []*testenv.Browser{second, third} {
		if p := b.Get(console + "/"); p.URL.Path != "/login" {
			t.Fatal("a session survived sign out everywhere else")
		}
	}
	for _, b := range []*testenv.Browser{laptop, approver, globex} {
		if p := b.Get(console + "/"); p.URL.Path != "/" {
			t.Fatal("sign out everywhere else ended this session or someone else's")
		}
	}
	if n := auditCount(t, f, "session.ended", "success"); n != 3 {
		t.Fatalf("%d session.ended events, want 3", n)
	}
	done = laptop.PostForm(console+"/sessions/end-others", url.Values{"_csrf": {csrf}})
	if !strings.Contains(done.Doc(t).Find(".flash").Text(), "nothing was ended") || auditCount(t, f, "session.ended", "success") != 3 {
		t.Errorf("sign out everywhere else with no other session: %q", done.Doc(t).Find(".flash").Text())
	}
}

// currentRef returns the ref of the browser's own session.
func currentRef(t *testing.T, f *fixture, b *testenv.Browser, console string) string {
	t.Helper()
	var ref string
	if err := f.pool.QueryRow(context.Background(), "SELECT ref::text FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))",
		b.Cookie(console, "gatehouse_session")).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestEveryRoleCanEndItsOtherSessions(t *testing.T) {
	// Twelve sign-ins from one address: over the sign-in burst, which is
	// not what this test is about.
	f := newFixture(t, withLimits(handlers.Limits{SignIn: handlers.Limit{Off: true}}))
	console := f.serve(t)
	for _, who := range []struct{ org, email string }{
		{"acme", "requester@acme.test"}, {"acme", "approver1@acme.test"}, {"acme", "admin@acme.test"},
		{"acme", "auditor@acme.test"}, {"acme", "responder@acme.test"}, {"gatehouse", "operator@gatehouse.test"},
	} {
		email := who.email
		here := signedInAs(t, console, who.org, email, firefoxUA)
		there := signedInAs(t, console, who.org, email, chromeUA)
		page := here.Get(console + "/sessions")
		rows := sessionRows(t, page)
		if rows.Length() != 2 {
			t.Fatalf("%s sees %d sessions, want 2", email, rows.Length())
		}
		action, ok := rows.Find(`form[data-testid="end-session"]`).Attr("action")
		if !ok {
			t.Fatalf("%s is offered no session to end", email)
		}
		if p := here.PostForm(console+action, url.Values{"_csrf": {testenv.CSRF(t, page)}}); p.Status != http.StatusOK || p.URL.Path != "/sessions" {
			t.Fatalf("%s ending their other session: %d at %s", email, p.Status, p.URL)
		}
		if p := there.Get(console + "/"); p.URL.Path != "/login" {
			t.Fatalf("%s's other session survived", email)
		}
	}
}

// forwardedFor makes every request of a browser arrive as if through a
// trusted proxy from addr.
type forwardedFor struct {
	addr string
	next http.RoundTripper
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.next.RoundTrip(r)
}

// A session used from an address other than its sign-in's shows where it
// was last used from, and where it signed in: the sign of a cookie used
// somewhere its owner has never been.
func TestYourSessionsShowWhereEachWasLastUsedFrom(t *testing.T) {
	f := newFixture(t, func(d *handlers.Deps, _ *pgxpool.Pool) {
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	console := f.serve(t)
	const me, elsewhere = "requester@acme.test", "203.0.113.9"
	laptop := signedInAs(t, console, "acme", me, firefoxUA)
	stolen := signedInAs(t, console, "acme", me, chromeUA)
	stolen.Transport = forwardedFor{addr: elsewhere, next: stolen.Transport}
	if p := stolen.Get(console + "/requests"); p.Status != http.StatusOK {
		t.Fatalf("the cookie used from elsewhere: %d", p.Status)
	}

	rows := sessionRows(t, laptop.Get(console+"/sessions"))
	if rows.Length() != 2 {
		t.Fatalf("%d sessions listed, want 2", rows.Length())
	}
	cur := currentRow(t, rows)
	if a := cur.Find(`[data-testid="address"]`).Text(); a != "127.0.0.1" || cur.Find(`[data-testid="signed-in-from"]`).Length() != 0 {
		t.Errorf("this session: last used from %q (want 127.0.0.1), with a sign-in address shown: %v",
			a, cur.Find(`[data-testid="signed-in-from"]`).Length() != 0)
	}
	other := rows.Not(`:has([data-testid="this-session"])`)
	if a := other.Find(`[data-testid="address"]`).Text(); a != elsewhere {
		t.Errorf("the other session was last used from %q, want %s", a, elsewhere)
	}
	if s := other.Find(`[data-testid="signed-in-from"] code`).Text(); s != "127.0.0.1" {
		t.Errorf("the other session signed in from %q, want 127.0.0.1", s)
	}
}
