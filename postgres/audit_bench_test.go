package postgres_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres"
)

// BenchmarkAuditAppend appends events to one tenant's chain from parallel
// writers (each in its own transaction, chained under the head's lock):
// ns/op is the cost of one event at that contention; events/s is 1e9/ns.
func BenchmarkAuditAppend(b *testing.B) {
	ctx := context.Background()
	pool := stack.NewPool(b)
	if err := postgres.NewTenantStore(pool).Register(ctx, registration(b, "acme", "Acme", "acme.test"), "test"); err != nil {
		b.Fatal(err)
	}
	acme := tenantID(b, pool, "acme")
	ids := postgres.NewIdentityStore(pool, time.Now)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := ids.RecordEvent(ctx, audit.Event{TenantID: acme, Actor: "bench@acme.test (b)", Action: "grant.revealed",
				Target: "t", Outcome: audit.Success, Detail: map[string]string{"secret": "tenant-acme/db"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAuditViewerAtScale pages a tenant's trail of N events
// (GATEHOUSE_BENCH_AUDIT_EVENTS, default 1,000,000, seeded straight into the
// table) the way the console does: 50 events per page, filtered.
func BenchmarkAuditViewerAtScale(b *testing.B) {
	ctx := context.Background()
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_AUDIT_EVENTS")); err == nil && v > 0 {
		n = v
	}
	pool := stack.NewPool(b)
	if err := postgres.NewTenantStore(pool).Register(ctx, registration(b, "acme", "Acme", "acme.test"), "test"); err != nil {
		b.Fatal(err)
	}
	acme := tenantID(b, pool, "acme")
	if _, err := pool.Exec(ctx, `
		INSERT INTO audit_events (tenant_id, occurred_at, actor, action, target, outcome, ip, detail, chain, seq, prev_hash, hash)
		SELECT $1::uuid, now() - (g || ' seconds')::interval, 'user' || (g % 5000) || '@acme.test (s)',
		       (ARRAY['grant.revealed', 'request.submitted', 'request.approved', 'login.succeeded', 'share.ended'])[1 + g % 5],
		       'target-' || (g % 1000), CASE WHEN g % 50 = 0 THEN 'denied' ELSE 'success' END, '192.0.2.' || (g % 250),
		       '{}'::jsonb, $3::text, g, '\x00'::bytea, '\x00'::bytea
		FROM generate_series(1, $2) g`, acme, n, acme); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE audit_events"); err != nil {
		b.Fatal(err)
	}
	log := postgres.NewAuditLog(pool, time.Now, nil)
	deep, err := log.Search(ctx, acme, false, audit.Filter{}, 1)
	if err != nil || len(deep) == 0 {
		b.Fatal(err)
	}
	mid := deep[0].ID - int64(n/2)
	for _, tc := range []struct {
		name string
		f    audit.Filter
	}{
		{"newest page", audit.Filter{}},
		{"action family", audit.Filter{Action: "share"}},
		{"actor (an email)", audit.Filter{Actor: "user42@acme.test"}},
		{"actor (a part)", audit.Filter{Actor: "user42@"}},
		{"denied only", audit.Filter{Outcome: audit.Denied}},
		{"page in the middle", audit.Filter{Before: mid}},
		{"action and actor deep", audit.Filter{Action: "grant", Actor: "user10@acme.test", Before: mid}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rows, err := log.Search(ctx, acme, false, tc.f, 50)
				if err != nil || len(rows) == 0 {
					b.Fatalf("%d rows: %v", len(rows), err)
				}
			}
		})
	}
}
