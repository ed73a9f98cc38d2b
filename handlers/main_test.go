package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/testenv"
)

var stack *testenv.Stack

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Vault: true, IdPs: true, Moto: true}, &stack)
}

// fixture is a console over a fresh seeded database and the test Vault.
type fixture struct {
	e    *echo.Echo
	logs *bytes.Buffer
	pool *pgxpool.Pool
}

// newFixture builds the console over a fresh seeded database; override may
// change the dependencies, given that database.
func newFixture(t testing.TB, override func(*handlers.Deps, *pgxpool.Pool)) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, override)
}

// newFixtureWith is newFixture whose wiring options options may change
// first (e.g. the mail relay).
func newFixtureWith(t testing.TB, options func(*app.Options), override func(*handlers.Deps, *pgxpool.Pool)) *fixture {
	t.Helper()
	pool := stack.NewPool(t)
	stack.Seed(t, pool)
	vc, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t)) // least privilege, as in production
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	o := app.Options{Log: slog.New(slog.NewJSONHandler(logs, nil)), PublicURL: stack.PublicURL,
		SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, RequestTimeout: 5 * time.Second, Version: "test", Now: time.Now,
		Clouds: stores.Endpoints{AWS: stack.Moto.Endpoint}}
	if options != nil {
		options(&o)
	}
	parts, err := app.Wire(pool, vc, o)
	if err != nil {
		t.Fatal(err)
	}
	deps := parts.Deps
	if override != nil {
		override(&deps, pool)
	}
	return &fixture{e: handlers.New(deps), logs: logs, pool: pool}
}

// newFixtureWithClock is newFixture whose sign-in runs on the clock now,
// to put ID tokens and auth_time in the past or future.
func newFixtureWithClock(t *testing.T, now func() time.Time) *fixture {
	return newFixture(t, func(d *handlers.Deps, pool *pgxpool.Pool) {
		ids := postgres.NewIdentityStore(pool, time.Now)
		d.Federation = identity.NewFederation(ids, stack.VaultClient(t), ids, stack.PublicURL, now)
	})
}

// serve runs the console on the stack's public URL (the address the test
// IdPs redirect back to) until the test ends, and returns that URL.
func (f *fixture) serve(t testing.TB) string {
	t.Helper()
	u, _ := url.Parse(stack.PublicURL)
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Fatalf("the public URL's port is taken (tests using it must not run in parallel): %v", err)
	}
	srv := httptest.NewUnstartedServer(f.e)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return stack.PublicURL
}

func (f *fixture) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) get(path string) *httptest.ResponseRecorder {
	return f.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func doc(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// csrfPair fetches /login and returns the CSRF cookie and token.
func (f *fixture) csrfPair(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	rec := f.get("/login")
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "gatehouse_csrf" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no CSRF cookie set on /login")
	}
	token, ok := doc(t, rec).Find(`input[name="_csrf"]`).Attr("value")
	if !ok || token == "" {
		t.Fatal("no CSRF field in the login form")
	}
	return cookie, token
}

func postForm(path string, form url.Values, cookie *http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return req
}

// downPinger is Vault's health check against a port nothing listens on.
func downPinger(ctx context.Context) error {
	vc, err := vault.New("http://127.0.0.1:1", "unused")
	if err != nil {
		return err
	}
	return vc.Health(ctx)
}
