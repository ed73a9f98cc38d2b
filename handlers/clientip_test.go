package handlers_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/handlers"
)

// forwarded is a request to path from the TCP peer peer, carrying
// X-Forwarded-For: xff.
func forwarded(peer, xff, path string) *http.Request {
	req := from(peer, http.MethodGet, path)
	req.Header.Set("X-Forwarded-For", xff)
	return req
}

// lastRefusalIP is the address the newest refused sign-in was audited with.
func lastRefusalIP(t *testing.T, f *fixture) string {
	t.Helper()
	var ip string
	if err := f.pool.QueryRow(t.Context(), "SELECT ip FROM audit_events WHERE action = 'login.refused' ORDER BY occurred_at DESC, seq DESC LIMIT 1").Scan(&ip); err != nil {
		t.Fatal(err)
	}
	return ip
}

func TestAForgedForwardedForIsIgnoredWithoutTrustedProxies(t *testing.T) {
	f := newFixture(t, withLimits(handlers.Limits{SignIn: handlers.Limit{Rate: perMinute, Burst: 2}}))
	const client = "192.0.2.10"
	for i, xff := range []string{"203.0.113.1", "203.0.113.2"} {
		if rec := f.do(forwarded(client, xff, "/auth/acme/start")); rec.Code != http.StatusFound {
			t.Fatalf("start %d within the burst: %d", i+1, rec.Code)
		}
	}
	if rec := f.do(forwarded(client, "203.0.113.3", "/auth/acme/start")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a new X-Forwarded-For on every request escaped the limit: %d, want 429", rec.Code)
	}

	f.do(forwarded("192.0.2.11", "203.0.113.50", "/auth/acme/callback?error=access_denied"))
	if ip := lastRefusalIP(t, f); ip != "192.0.2.11" {
		t.Errorf("the refusal was audited from %q, want the connection's address 192.0.2.11", ip)
	}
}

func TestBehindTrustedProxiesEachClientIsCountedAndAuditedByItsOwnAddress(t *testing.T) {
	f := newFixture(t, func(d *handlers.Deps, _ *pgxpool.Pool) {
		d.Limits = handlers.Limits{SignIn: handlers.Limit{Rate: perMinute, Burst: 2}}
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	const lb, alice, bob = "10.0.0.5", "198.51.100.1", "198.51.100.2"
	for i := 0; i < 2; i++ {
		if rec := f.do(forwarded(lb, alice, "/auth/acme/start")); rec.Code != http.StatusFound {
			t.Fatalf("alice's start %d within the burst: %d", i+1, rec.Code)
		}
	}
	if rec := f.do(forwarded(lb, alice, "/auth/acme/start")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("alice over her limit: %d, want 429", rec.Code)
	}
	// Bob comes through the same balancer and has his own bucket.
	if rec := f.do(forwarded(lb, bob, "/auth/acme/start")); rec.Code != http.StatusFound {
		t.Errorf("bob through the same balancer: %d, want his start served", rec.Code)
	}
	// Alice prepends a made-up address; the balancer appends hers. Only the
	// balancer's hop is believed, so she is still herself.
	if rec := f.do(forwarded(lb, "203.0.113.77, "+alice, "/auth/acme/start")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("alice with a forged first hop escaped her limit: %d, want 429", rec.Code)
	}
	// Through a chain of trusted balancers, the first untrusted hop counts.
	if rec := f.do(forwarded(lb, alice+", 10.9.9.9", "/auth/acme/start")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("alice through two balancers: %d, want 429", rec.Code)
	}
	// A client that reaches Gatehouse directly is not a proxy, even from a
	// private address that is not listed: its header is ignored.
	const direct = "172.16.0.99"
	for i := 0; i < 2; i++ {
		f.do(forwarded(direct, "198.51.100.3", "/auth/acme/start"))
	}
	if rec := f.do(forwarded(direct, "198.51.100.4", "/auth/acme/start")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a direct client's X-Forwarded-For was believed: %d, want 429", rec.Code)
	}
	// An unreadable header is not believed either.
	f.do(forwarded(lb, "not-an-address", "/auth/globex/callback?error=access_denied"))
	if ip := lastRefusalIP(t, f); ip != lb {
		t.Errorf("with an unreadable header the refusal was audited from %q, want the balancer %s", ip, lb)
	}

	f.do(forwarded(lb, "198.51.100.9", "/auth/globex/callback?error=access_denied"))
	if ip := lastRefusalIP(t, f); ip != "198.51.100.9" {
		t.Errorf("the refusal was audited from %q, want the client's address 198.51.100.9", ip)
	}
}
