package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/postgres"
)

func TestHealthAndReadiness(t *testing.T) {
	f := newFixture(t, nil)
	if rec := f.get("/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("healthz = %d", rec.Code)
	}
	rec := f.get("/readyz")
	if rec.Code != http.StatusOK {
		t.Fatalf("readyz = %d %s", rec.Code, rec.Body)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["postgres"] != "ok" || got["vault"] != "ok" {
		t.Fatalf("readyz body = %v", got)
	}
}

func TestReadinessNamesTheDependencyThatIsDown(t *testing.T) {
	f := newFixture(t, func(d *handlers.Deps, _ *pgxpool.Pool) { d.Vault = handlers.PingFunc(downPinger) })
	rec := f.get("/readyz")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz = %d", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `"vault":"unavailable"`) || !strings.Contains(rec.Body.String(), `"postgres":"ok"`) {
		t.Fatalf("readyz body = %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "127.0.0.1:1") {
		t.Fatalf("readyz leaks internals: %s", rec.Body)
	}
	if !strings.Contains(f.logs.String(), `"dependency":"vault"`) || !strings.Contains(f.logs.String(), "not reachable") {
		t.Fatalf("the cause was not logged:\n%s", f.logs.String())
	}
}

func TestMetricsExposeRequestCounts(t *testing.T) {
	f := newFixture(t, nil)
	f.get("/login")
	rec := f.get("/metrics")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "gatehouse_requests_total") {
		t.Fatalf("metrics = %d, missing gatehouse_requests_total:\n%.500s", rec.Code, rec.Body)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	f := newFixture(t, nil)
	for _, path := range []string{"/login", "/healthz", "/no-such-page", "/static/css/app.css"} {
		h := f.get(path).Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline or eval: %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Request-Id") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent on plain-HTTP local development", path)
		}
	}
}

func TestResponsesAreCompressedForClientsThatAcceptIt(t *testing.T) {
	f := newFixture(t, nil)
	req := httptest.NewRequest(http.MethodGet, "/static/js/htmx.min.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := f.do(req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	if plain := f.get("/static/js/htmx.min.js"); rec.Body.Len() >= plain.Body.Len()/2 {
		t.Fatalf("gzip body %d bytes vs %d plain", rec.Body.Len(), plain.Body.Len())
	}
}

func TestLoginPageListsActiveOrganizationsAndServesLocalAssetsOnly(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.get("/login")
	if rec.Code != http.StatusOK {
		t.Fatalf("login = %d", rec.Code)
	}
	d := doc(t, rec)
	var orgs []string
	d.Find(`[data-testid="orgs"] a`).Each(func(_ int, s *goquery.Selection) { orgs = append(orgs, s.Text()) })
	if strings.Join(orgs, ",") != "Acme Corp,Gatehouse Platform,Globex Corporation" {
		t.Fatalf("organizations = %v", orgs)
	}
	d.Find("script[src], link[href]").Each(func(_ int, s *goquery.Selection) {
		src := s.AttrOr("src", s.AttrOr("href", ""))
		if !strings.HasPrefix(src, "/static/") {
			t.Errorf("asset not served by Gatehouse: %s", src)
		}
		if rec := f.get(src); rec.Code != http.StatusOK {
			t.Errorf("asset %s = %d", src, rec.Code)
		}
	})
	if d.Find("script:not([src])").Length() != 0 {
		t.Error("inline script on the login page")
	}
}

func TestLoginDiscoversTheOrganizationByEmailDomain(t *testing.T) {
	f := newFixture(t, nil)
	cookie, token := f.csrfPair(t)
	rec := f.do(postForm("/login", url.Values{"_csrf": {token}, "email": {"approver1@Acme.test"}}, cookie))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/auth/acme/start" {
		t.Fatalf("login submit = %d → %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestLoginBadEmailRerendersWithAFieldError(t *testing.T) {
	f := newFixture(t, nil)
	cookie, token := f.csrfPair(t)
	for email, want := range map[string]string{
		"not-an-email":         "Enter your work email",
		"someone@initech.test": "No organization on Gatehouse uses initech.test",
	} {
		rec := f.do(postForm("/login", url.Values{"_csrf": {token}, "email": {email}}, cookie))
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%s: status %d", email, rec.Code)
		}
		d := doc(t, rec)
		if msg := d.Find(`[data-testid="email-error"]`).Text(); !strings.Contains(msg, want) {
			t.Errorf("%s: field error %q, want %q", email, msg, want)
		}
		if v, _ := d.Find("#email").Attr("value"); v != email {
			t.Errorf("%s: the typed email was not kept (%q)", email, v)
		}
	}
}

func TestUnsafeMethodsNeedACSRFToken(t *testing.T) {
	f := newFixture(t, nil)
	cookie, token := f.csrfPair(t)
	cases := map[string]*http.Request{
		"no token":         postForm("/login", url.Values{"email": {"a@acme.test"}}, cookie),
		"wrong token":      postForm("/login", url.Values{"_csrf": {token + "x"}, "email": {"a@acme.test"}}, cookie),
		"token, no cookie": postForm("/login", url.Values{"_csrf": {token}, "email": {"a@acme.test"}}, nil),
	}
	cross := postForm("/login", url.Values{"_csrf": {token}, "email": {"a@acme.test"}}, cookie)
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	cases["cross-site browser request"] = cross
	for name, req := range cases {
		rec := f.do(req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, rec.Code)
			continue
		}
		if !strings.Contains(rec.Body.String(), "did not come from Gatehouse") {
			t.Errorf("%s: no clear message: %.300s", name, rec.Body)
		}
	}
	same := postForm("/login", url.Values{"email": {"a@acme.test"}}, nil)
	same.Header.Set("Sec-Fetch-Site", "same-origin")
	if rec := f.do(same); rec.Code != http.StatusSeeOther {
		t.Errorf("same-origin browser form: status %d, want 303", rec.Code)
	}
}

func TestErrorPagesShowAClearMessageAndTheRequestID(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.get("/no-such-page")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d", rec.Code)
	}
	d := doc(t, rec)
	rid := rec.Header().Get("X-Request-Id")
	if rid == "" || !strings.Contains(d.Find(`[data-testid="error"]`).Text(), rid) {
		t.Fatalf("error page does not show request ID %q", rid)
	}
	if !strings.Contains(d.Find("h1").Text(), "Not found") {
		t.Fatalf("heading %q", d.Find("h1").Text())
	}

	req := httptest.NewRequest(http.MethodGet, "/no-such-page", nil)
	req.Header.Set("Accept", "application/json")
	rec = f.do(req)
	if !strings.Contains(rec.Header().Get("Content-Type"), "application/json") || !strings.Contains(rec.Body.String(), `"code":"not_found"`) {
		t.Fatalf("JSON error = %s %s", rec.Header().Get("Content-Type"), rec.Body)
	}
}

func TestInternalErrorsNeverReachThePage(t *testing.T) {
	pool := stack.NewPool(t)
	// A real fault: the table the login page reads is gone.
	if _, err := pool.Exec(context.Background(), "DROP TABLE tenant_email_domains"); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(d *handlers.Deps, _ *pgxpool.Pool) { d.Tenants = postgres.NewTenantStore(pool) })
	rec := f.get("/login")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "tenant_email_domains") || strings.Contains(rec.Body.String(), "SQLSTATE") {
		t.Fatalf("internals leaked into the page: %.600s", rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "cannot be read right now") {
		t.Fatalf("no clear message: %.600s", rec.Body)
	}
	if !strings.Contains(f.logs.String(), "tenant_email_domains") {
		t.Fatal("the cause was not logged for operators")
	}
}

func TestEveryStateChangingRouteRejectsMissingCSRFTokens(t *testing.T) {
	f := newFixture(t, nil)
	n := 0
	for _, r := range f.e.Routes() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == "echo_route_not_found" {
			continue
		}
		n++
		path := strings.NewReplacer(":tenant", "acme", "*", "x").Replace(r.Path)
		req := httptest.NewRequest(r.Method, path, strings.NewReader("a=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if rec := f.do(req); rec.Code != http.StatusForbidden {
			t.Errorf("%s %s without a CSRF token: %d, want 403", r.Method, path, rec.Code)
		}
	}
	if n == 0 {
		t.Fatal("no state-changing routes found")
	}
}
