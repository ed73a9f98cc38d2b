package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/testenv"
)

// withLimits is a fixture override setting the rate limits.
func withLimits(l handlers.Limits) func(*handlers.Deps, *pgxpool.Pool) {
	return func(d *handlers.Deps, _ *pgxpool.Pool) { d.Limits = l }
}

// from is a request to path from the client address ip.
func from(ip, method, path string) *http.Request {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = ip + ":40000"
	return req
}

func count(t *testing.T, f *fixture, sql string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// perMinute is a rate slow enough that no token comes back during a test.
const perMinute = 1.0 / 60

func TestASignInFloodFromOneAddressIsRefusedWhileOthersAreServed(t *testing.T) {
	f := newFixture(t, withLimits(handlers.Limits{SignIn: handlers.Limit{Rate: perMinute, Burst: 3}}))
	const flooder, other = "192.0.2.10", "198.51.100.7"
	for i := 0; i < 3; i++ {
		if rec := f.do(from(flooder, http.MethodGet, "/auth/acme/start")); rec.Code != http.StatusFound {
			t.Fatalf("start %d within the burst: %d", i+1, rec.Code)
		}
	}
	attempts := count(t, f, "SELECT count(*) FROM login_attempts")
	audits := count(t, f, "SELECT count(*) FROM audit_events")

	rec := f.do(from(flooder, http.MethodGet, "/auth/acme/start"))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("start over the limit: %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After %q, want 60", got)
	}
	if loc := rec.Header().Get("Location"); loc != "" {
		t.Errorf("the refusal still redirects, to %s", loc)
	}
	for _, c := range rec.Result().Cookies() {
		if strings.Contains(c.Name, "preauth") {
			t.Errorf("the refusal set the pre-auth cookie %s", c.Name)
		}
	}
	d := doc(t, rec)
	if h := d.Find("h1").Text(); h != "Please wait" {
		t.Errorf("heading %q", h)
	}
	if msg := d.Find(`[data-testid="error"]`).Text(); !strings.Contains(msg, "Too many attempts from your address; try again in 60 seconds.") {
		t.Errorf("no plain-words message: %q", msg)
	}

	// Every sign-in step shares the address's bucket.
	login := from(flooder, http.MethodPost, "/login")
	login.Body = http.NoBody
	login.Header.Set("Sec-Fetch-Site", "same-origin") // passes CSRF as a browser's own form does
	if rec := f.do(login); rec.Code != http.StatusTooManyRequests {
		t.Errorf("email form over the limit: %d", rec.Code)
	}
	if rec := f.do(from(flooder, http.MethodGet, "/auth/acme/callback?state=x&code=y")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("callback over the limit: %d", rec.Code)
	}
	api := from(flooder, http.MethodGet, "/auth/acme/start")
	api.Header.Set("Accept", "application/json")
	if rec := f.do(api); rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), `"code":"too_many_requests"`) {
		t.Errorf("JSON client over the limit: %d %s", rec.Code, rec.Body)
	}
	if n := count(t, f, "SELECT count(*) FROM login_attempts"); n != attempts {
		t.Errorf("refusals wrote login attempts: %d → %d", attempts, n)
	}
	if n := count(t, f, "SELECT count(*) FROM audit_events"); n != audits {
		t.Errorf("refusals wrote audit events: %d → %d", audits, n)
	}
	if !strings.Contains(f.logs.String(), `"msg":"rate limit refused a request","class":"sign-in","route":"/auth/:tenant/start"`) ||
		!strings.Contains(f.logs.String(), flooder) {
		t.Errorf("the refusal was not logged with its class, route and address:\n%s", f.logs)
	}

	if m := f.get("/metrics").Body.String(); !strings.Contains(m, `gatehouse_rate_limited_total{class="sign-in"} 4`) {
		t.Errorf("the refusals were not counted in the metrics")
	}

	// Another address is still served, and its start does its work.
	if rec := f.do(from(other, http.MethodGet, "/auth/acme/start")); rec.Code != http.StatusFound || rec.Header().Get("Location") == "" {
		t.Fatalf("another address: %d, want a redirect to the IdP", rec.Code)
	}
	if n := count(t, f, "SELECT count(*) FROM login_attempts"); n != attempts+1 {
		t.Errorf("another address's start: %d login attempts, want %d", n, attempts+1)
	}
}

func TestIPv6ClientsAreLimitedByTheirSlash64(t *testing.T) {
	f := newFixture(t, withLimits(handlers.Limits{SignIn: handlers.Limit{Rate: perMinute, Burst: 1}}))
	if rec := f.do(from("[2001:db8:1:2::1]", http.MethodGet, "/auth/acme/start")); rec.Code != http.StatusFound {
		t.Fatalf("first start: %d", rec.Code)
	}
	if rec := f.do(from("[2001:db8:1:2::beef]", http.MethodGet, "/auth/acme/start")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", rec.Code)
	}
	if rec := f.do(from("[2001:db8:1:3::1]", http.MethodGet, "/auth/acme/start")); rec.Code != http.StatusFound {
		t.Errorf("an address of another /64: %d, want 302", rec.Code)
	}
}

func TestASessionOverTheChangeLimitIsRefusedAndChangesNothing(t *testing.T) {
	f := newFixture(t, withLimits(handlers.Limits{Change: handlers.Limit{Rate: perMinute, Burst: 2}}))
	console := f.serve(t)
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	page := admin.Get(console + "/admin/mappings")
	csrf := testenv.CSRF(t, page)
	if page.Doc(t).Find("#notices").Length() != 1 {
		t.Fatal("the layout has no notices area for htmx errors")
	}
	add := func(b *testenv.Browser, csrf, group string) testenv.Page {
		return b.PostForm(console+"/admin/mappings", url.Values{"_csrf": {csrf}, "group": {group}, "role": {"approver"}})
	}
	for _, g := range []string{"g1", "g2"} {
		if p := add(admin, csrf, g); p.Status != http.StatusOK || !slices.Contains(mappingRows(t, p), g+"→approver") {
			t.Fatalf("adding %s within the burst: %d", g, p.Status)
		}
	}

	resp, err := admin.Client.PostForm(console+"/admin/mappings", url.Values{"_csrf": {csrf}, "group": {"g3"}, "role": {"approver"}})
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("third change: %d, Retry-After %q; want 429, 60", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, "Too many changes from this session; try again in 60 seconds.") {
		t.Errorf("no plain-words message:\n%.600s", body)
	}

	// htmx gets the notice alone, retargeted to the notices area.
	req, _ := http.NewRequest(http.MethodPost, console+"/admin/mappings", strings.NewReader(url.Values{"_csrf": {csrf}, "group": {"g4"}, "role": {"approver"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err = admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body = readAll(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("HX-Retarget") != "#notices" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("htmx change over the limit: %d, HX-Retarget %q", resp.StatusCode, resp.Header.Get("HX-Retarget"))
	}
	if strings.Contains(body, "<html") || !strings.Contains(body, `data-testid="error"`) || !strings.Contains(body, "Too many changes from this session") {
		t.Errorf("htmx did not get the notice fragment:\n%.600s", body)
	}

	// Nothing was applied: not in the database, not on the page, not audited.
	if n := count(t, f, "SELECT count(*) FROM role_mappings WHERE idp_group IN ('g3', 'g4')"); n != 0 {
		t.Errorf("%d refused mappings were stored", n)
	}
	if rows := mappingRows(t, admin.Get(console+"/admin/mappings")); slices.Contains(rows, "g3→approver") || slices.Contains(rows, "g4→approver") {
		t.Errorf("refused mappings on the page: %v", rows)
	}
	if n := auditCount(t, f, "role_mapping.added", "success"); n != 2 {
		t.Errorf("%d role_mapping.added events, want 2", n)
	}
	cookie := admin.Cookie(console, sessionCookie)
	if !strings.Contains(f.logs.String(), `"class":"change"`) || strings.Contains(f.logs.String(), cookie) {
		t.Errorf("the refusal was not logged, or the log holds the session cookie")
	}

	// Another session of the same person has its own limit.
	again, _ := signedIn(t, console, "acme", "admin@acme.test")
	if p := add(again, testenv.CSRF(t, again.Get(console+"/admin/mappings")), "g5"); p.Status != http.StatusOK || !slices.Contains(mappingRows(t, p), "g5→approver") {
		t.Errorf("another session's change: %d", p.Status)
	}
}

func TestTheLimitLiftsAfterRetryAfter(t *testing.T) {
	f := newFixture(t, withLimits(handlers.Limits{SignIn: handlers.Limit{Rate: 0.5, Burst: 1}}))
	const ip = "192.0.2.20"
	var refused *httptest.ResponseRecorder
	for i := 0; i < 10 && refused == nil; i++ {
		if rec := f.do(from(ip, http.MethodGet, "/auth/acme/start")); rec.Code == http.StatusTooManyRequests {
			refused = rec
		}
	}
	if refused == nil {
		t.Fatal("ten starts in a row were never refused at half a start a second")
	}
	wait, err := strconv.Atoi(refused.Header().Get("Retry-After"))
	if err != nil || wait != 2 {
		t.Fatalf("Retry-After %q, want 2 (one start per 2 s)", refused.Header().Get("Retry-After"))
	}
	time.Sleep(time.Duration(wait) * time.Second) // exactly what the client was told to wait
	if rec := f.do(from(ip, http.MethodGet, "/auth/acme/start")); rec.Code != http.StatusFound {
		t.Fatalf("after Retry-After: %d, want the start served", rec.Code)
	}
}

func TestZeroLimitsMeanTheDefaultsAndOnlyOffSwitchesALimitOff(t *testing.T) {
	starts := func(f *fixture, n int) (served int) {
		for i := 0; i < n; i++ {
			rec := f.do(from("192.0.2.30", http.MethodGet, "/auth/acme/start"))
			if rec.Code == http.StatusTooManyRequests {
				return served
			}
			served++
		}
		return served
	}
	// Refill (3 a second) may add a few while the loop runs; a flood of
	// 100 is refused all the same.
	if served := starts(newFixture(t, withLimits(handlers.Limits{})), 100); served < handlers.DefaultSignInBurst || served == 100 {
		t.Errorf("zero limits: %d of 100 starts served before a refusal, want the default burst (%d) and then refusals", served, handlers.DefaultSignInBurst)
	}
	if served := starts(newFixture(t, withLimits(handlers.Limits{SignIn: handlers.Limit{Off: true}})), 100); served != 100 {
		t.Errorf("sign-in limit off: a refusal after %d starts", served)
	}
}

func TestRefusalsByRoleAreLimitedTooSoAFloodWritesNoAuditRows(t *testing.T) {
	f := newFixture(t, withLimits(handlers.Limits{Change: handlers.Limit{Rate: perMinute, Burst: 2}}))
	console := f.serve(t)
	requester, home := signedIn(t, console, "acme", "requester@acme.test")
	form := url.Values{"_csrf": {testenv.CSRF(t, home)}, "group": {"x"}, "role": {"approver"}}
	for i := 0; i < 2; i++ {
		if p := requester.PostForm(console+"/admin/mappings", form); p.Status != http.StatusForbidden {
			t.Fatalf("a requester mapping roles: %d, want 403", p.Status)
		}
	}
	if n := auditCount(t, f, "access.denied", "denied"); n != 2 {
		t.Fatalf("%d access.denied events, want 2", n)
	}
	for i := 0; i < 5; i++ {
		if p := requester.PostForm(console+"/admin/mappings", form); p.Status != http.StatusTooManyRequests {
			t.Fatalf("refusal %d over the limit: %d, want 429", i+1, p.Status)
		}
	}
	if n := auditCount(t, f, "access.denied", "denied"); n != 2 {
		t.Errorf("%d access.denied events after the flood, want still 2", n)
	}
}

// A GET for another tenant's object writes an audit row, so a loop of such
// probes is held to the session's change limit: over it, 429 and no row.
// Other reads stay unlimited.
func TestCrossTenantProbesAreLimitedSoAFloodWritesNoAuditRows(t *testing.T) {
	f := newFixture(t, withLimits(handlers.Limits{Change: handlers.Limit{Rate: perMinute, Burst: 2}}))
	console := f.serve(t)
	requester, _ := signedIn(t, console, "acme", "requester@acme.test")
	var globexRes string
	if err := f.pool.QueryRow(t.Context(), `SELECT r.id::text FROM resources r JOIN tenants t ON t.id = r.tenant_id
		WHERE t.slug = 'globex' LIMIT 1`).Scan(&globexRes); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if p := requester.Get(console + "/catalog/" + globexRes); p.Status != http.StatusNotFound {
			t.Fatalf("probe %d within the limit: %d, want 404", i+1, p.Status)
		}
	}
	p := requester.Get(console + "/catalog/" + globexRes)
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("probe over the limit: %d, want 429", p.Status)
	}
	if n := auditCount(t, f, "access.cross_tenant", "denied"); n != 2 {
		t.Errorf("%d cross-tenant probes audited, want 2 (none past the limit)", n)
	}
	for i := 0; i < 5; i++ {
		if p := requester.Get(console + "/catalog"); p.Status != http.StatusOK {
			t.Fatalf("an ordinary read after the probes: %d", p.Status)
		}
	}
}
