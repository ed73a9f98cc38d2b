package handlers_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/testenv"
)

// replicas are two consoles wired as `gatehouse serve` wires them, each
// its own handlers.Server, over one seeded database.
type replicas struct {
	servers [2]*echo.Echo
	pool    *pgxpool.Pool
}

func newReplicas(t *testing.T, store app.RateLimitStore, limits handlers.Limits) *replicas {
	t.Helper()
	r := &replicas{pool: stack.NewPool(t)}
	stack.Seed(t, r.pool)
	for i := range r.servers {
		vc, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t))
		if err != nil {
			t.Fatal(err)
		}
		parts, err := app.Wire(r.pool, vc, app.Options{Log: slog.New(slog.DiscardHandler), PublicURL: stack.PublicURL,
			SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, RequestTimeout: 5 * time.Second, Version: "test", Now: time.Now,
			Clouds: stores.Endpoints{AWS: stack.Moto.Endpoint}, Limits: limits, RateLimitStore: store})
		if err != nil {
			t.Fatal(err)
		}
		r.servers[i] = handlers.New(parts.Deps)
	}
	return r
}

// balancer hands requests to the replicas in turn, as a round-robin load
// balancer does, and counts what each served.
type balancer struct {
	mu     sync.Mutex
	next   int
	r      *replicas
	served [2]int
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b.mu.Lock()
	i := b.next
	b.next = (b.next + 1) % len(b.r.servers)
	b.served[i]++
	b.mu.Unlock()
	b.r.servers[i].ServeHTTP(w, req)
}

// serve runs the balancer on the stack's public URL (where the test IdPs
// send browsers back) until the test ends.
func (b *balancer) serve(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse(stack.PublicURL)
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Fatalf("the public URL's port is taken (tests using it must not run in parallel): %v", err)
	}
	srv := httptest.NewUnstartedServer(b)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return stack.PublicURL
}

// TestTwoReplicasShareOneRateLimit: behind a balancer alternating between
// two replicas on one database, a client gets one bucket's burst in all,
// for both classes, with the limits in PostgreSQL (the default). With the
// memory store each replica has its own bucket and the client gets twice
// the burst: that case shows the requests really reach two independent
// limiters, so the shared one's count is not the balancer's doing.
func TestTwoReplicasShareOneRateLimit(t *testing.T) {
	const burst = 4
	for _, tc := range []struct {
		store   app.RateLimitStore
		allowed int
	}{
		{"", burst}, // the default: PostgreSQL
		{app.RateLimitsInPostgres, burst},
		{app.RateLimitsInMemory, 2 * burst},
	} {
		name := string(tc.store)
		if name == "" {
			name = "default"
		}
		t.Run(name+"/sign-in", func(t *testing.T) {
			lb := &balancer{r: newReplicas(t, tc.store, handlers.Limits{SignIn: handlers.Limit{Rate: perMinute, Burst: burst}})}
			allowed := 0
			for i := 0; i < 6*burst; i++ {
				rec := httptest.NewRecorder()
				lb.ServeHTTP(rec, from("192.0.2.40", http.MethodGet, "/auth/acme/start"))
				switch rec.Code {
				case http.StatusFound:
					allowed++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("start %d: %d", i+1, rec.Code)
				}
			}
			if lb.served != [2]int{3 * burst, 3 * burst} {
				t.Fatalf("the replicas served %v, want half each", lb.served)
			}
			if allowed != tc.allowed {
				t.Errorf("%d of %d sign-in starts from one address allowed across two replicas, want %d", allowed, 6*burst, tc.allowed)
			}
			var attempts int
			if err := lb.r.pool.QueryRow(t.Context(), "SELECT count(*) FROM login_attempts").Scan(&attempts); err != nil || attempts != allowed {
				t.Errorf("%d login attempts (%v), want one per start allowed, %d", attempts, err, allowed)
			}
		})
		t.Run(name+"/change", func(t *testing.T) {
			lb := &balancer{r: newReplicas(t, tc.store, handlers.Limits{Change: handlers.Limit{Rate: perMinute, Burst: burst}})}
			console := lb.serve(t)
			admin, _ := signedIn(t, console, "acme", "admin@acme.test") // the session is in PostgreSQL: either replica resumes it
			csrf := testenv.CSRF(t, admin.Get(console+"/admin/mappings"))
			before := lb.served
			post := admin.NoRedirect() // one request per change, so they alternate strictly
			allowed := 0
			for i := 0; i < 6*burst; i++ {
				resp, err := post.PostForm(console+"/admin/mappings", url.Values{"_csrf": {csrf}, "group": {"g" + string(rune('a'+i))}, "role": {"approver"}})
				if err != nil {
					t.Fatal(err)
				}
				readAll(t, resp)
				switch resp.StatusCode {
				case http.StatusSeeOther: // added; back to the list
					allowed++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("change %d: %d", i+1, resp.StatusCode)
				}
			}
			if d0, d1 := lb.served[0]-before[0], lb.served[1]-before[1]; d0 != 3*burst || d1 != 3*burst {
				t.Fatalf("the replicas served %d and %d of the changes, want half each", d0, d1)
			}
			var stored int
			if err := lb.r.pool.QueryRow(t.Context(), "SELECT count(*) FROM role_mappings WHERE role = 'approver' AND idp_group LIKE 'g_'").Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if allowed != tc.allowed || stored != tc.allowed {
				t.Errorf("%d of %d changes of one session allowed (%d stored) across two replicas, want %d", allowed, 6*burst, stored, tc.allowed)
			}
		})
	}
}

// TestARateLimitCheckThatFailsRefusesWith503AndDoesNothing: when
// PostgreSQL fails the check itself (here its table is gone; the rest of
// the database works), both classes fail closed: 503 with a plain message,
// the handler does not run, nothing is written or audited, the failures
// are counted by class, and the log names the cause without the session's
// cookie or its hash.
func TestARateLimitCheckThatFailsRefusesWith503AndDoesNothing(t *testing.T) {
	f := newFixture(t, nil) // the default limits, in PostgreSQL
	console := f.serve(t)
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	requester, _ := signedIn(t, console, "acme", "requester@acme.test")
	csrf := testenv.CSRF(t, admin.Get(console+"/admin/mappings"))
	var globexRes string
	if err := f.pool.QueryRow(t.Context(), `SELECT r.id::text FROM resources r JOIN tenants t ON t.id = r.tenant_id
		WHERE t.slug = 'globex' LIMIT 1`).Scan(&globexRes); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(t.Context(), "DROP TABLE rate_limits"); err != nil {
		t.Fatal(err)
	}
	attempts := count(t, f, "SELECT count(*) FROM login_attempts")
	audits := count(t, f, "SELECT count(*) FROM audit_events")

	start := from("192.0.2.50", http.MethodGet, "/auth/acme/start")
	start.Header.Set("Accept", "application/json")
	if rec := f.do(start); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Location") != "" ||
		!strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
		t.Errorf("sign-in start while the check fails: %d %s, want 503 and no redirect", rec.Code, rec.Body)
	}
	p := admin.PostForm(console+"/admin/mappings", url.Values{"_csrf": {csrf}, "group": {"while-down"}, "role": {"approver"}})
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "try again in a moment") {
		t.Errorf("a change while the check fails: %d, want 503 with a plain message:\n%.600s", p.Status, p.Body)
	}
	if p := requester.Get(console + "/catalog/" + globexRes); p.Status != http.StatusServiceUnavailable {
		t.Errorf("a cross-tenant probe while the check fails: %d, want 503", p.Status)
	}
	if p := admin.Get(console + "/admin/mappings"); p.Status != http.StatusOK {
		t.Errorf("an unlimited read while the check fails: %d, want it served", p.Status)
	}

	if n := count(t, f, "SELECT count(*) FROM login_attempts"); n != attempts {
		t.Errorf("the failed check let a start write a login attempt: %d → %d", attempts, n)
	}
	if n := count(t, f, "SELECT count(*) FROM role_mappings WHERE idp_group = 'while-down'"); n != 0 {
		t.Error("the failed check let the change through")
	}
	if n := count(t, f, "SELECT count(*) FROM audit_events"); n != audits {
		t.Errorf("the failed checks wrote audit events: %d → %d", audits, n)
	}
	metrics := f.get("/metrics").Body.String()
	for _, want := range []string{`gatehouse_rate_limit_check_failures_total{class="sign-in"} 1`, `gatehouse_rate_limit_check_failures_total{class="change"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("the metrics do not count the failed checks: no %s", want)
		}
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "checking the sign-in rate limit") || !strings.Contains(logs, "checking the change rate limit") {
		t.Errorf("the failed checks were not logged with their class:\n%s", logs)
	}
	for _, b := range []*testenv.Browser{admin, requester} {
		cookie := b.Cookie(console, sessionCookie)
		if cookie == "" || strings.Contains(logs, cookie) || strings.Contains(logs, identity.SessionID(cookie)) {
			t.Error("no session cookie, or the log holds the session's cookie or its hash")
		}
	}
}

// TestWiringRefusesAnUnknownRateLimitStore: a store name other than
// postgres or memory is an error, not a silent fallback to either.
func TestWiringRefusesAnUnknownRateLimitStore(t *testing.T) {
	_, err := app.Wire(nil, nil, app.Options{Log: slog.New(slog.DiscardHandler), RateLimitStore: "redis"})
	if err == nil || !strings.Contains(err.Error(), `rate limit store "redis"`) {
		t.Fatalf("Wire with rate limit store redis: %v, want it refused", err)
	}
}
