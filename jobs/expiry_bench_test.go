package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// benchExpiries is how many grants BenchmarkExpiryLag ends
// (GATEHOUSE_BENCH_EXPIRIES, default 10,000, all within one minute).
func benchExpiries() int {
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_EXPIRIES")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// BenchmarkExpiryLag makes n grants (each with its Vault policy) expire
// within one minute, runs the workers, and reports how late each ended
// (ended_at − expires_at), beside a raw loop of the same Vault calls
// (delete policy + read policy) at the workers' concurrency in the same
// run.
func BenchmarkExpiryLag(b *testing.B) {
	ctx := context.Background()
	n := benchExpiries()
	w, res := newWorld(b, "tenant-bench-exp", time.Now)
	// The grants and their policies first, due in an hour; then, with the
	// workers running, they are made due within the minute that starts
	// in 3 s (so no grant is due before the workers run).
	rows, err := w.pool.Query(ctx, `
		WITH r AS (
			INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
			                      justification, state, policy, submitted_at, updated_at)
			SELECT $1, $2, 'bench-' || g, 'bench-' || g || '@acme.test', '{}'::jsonb, 'read', 3600, 'bench', 'active', r.policy, now(), now()
			FROM generate_series(1, $3) g, resources r WHERE r.id = $2
			RETURNING id, tenant_id)
		INSERT INTO grants (request_id, tenant_id, issued_at, expires_at, accessor)
		SELECT id, tenant_id, now(), now() + interval '1 hour', '' FROM r
		RETURNING request_id::text`, w.tenant, res, n)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range ids {
		if err := w.vault.WriteGrantPolicy(ctx, vault.GrantSpec{GrantID: id, Tenant: "acme", Subject: "bench", Mount: "tenant-bench-exp", Path: "db/orders", TTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	startWorkersWithSweep(b, w)
	start := time.Now().Add(3 * time.Second).Truncate(time.Second)
	rows, err = w.pool.Query(ctx, `UPDATE grants SET expires_at = $1::timestamptz + random() * interval '60 seconds'
		WHERE request_id = ANY($2::uuid[]) RETURNING request_id::text, expires_at`, start, ids)
	if err != nil {
		b.Fatal(err)
	}
	var params []river.InsertManyParams
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			b.Fatal(err)
		}
		// The grant's own job is the backstop, scheduled as issuance
		// schedules it (postgres.FinishIssuing); the sweep ends grants.
		params = append(params, river.InsertManyParams{Args: jobs.ExpireGrantArgs{TenantID: w.tenant, RequestID: id},
			InsertOpts: &river.InsertOpts{ScheduledAt: at.Add(jobs.ExpiryBackstop)}})
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	inserter, err := jobs.NewInserter(w.pool)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := inserter.InsertMany(ctx, params); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for {
		var left int
		if err := w.pool.QueryRow(ctx, "SELECT count(*) FROM requests WHERE justification = 'bench' AND state = 'active'").Scan(&left); err != nil {
			b.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("%d grants still active 5 minutes on", left)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.StopTimer()
	var lags []float64
	lrows, err := w.pool.Query(ctx, "SELECT extract(epoch FROM ended_at - expires_at)::float8 FROM grants WHERE ended_at IS NOT NULL")
	if err != nil {
		b.Fatal(err)
	}
	for lrows.Next() {
		var l float64
		if err := lrows.Scan(&l); err != nil {
			b.Fatal(err)
		}
		lags = append(lags, l)
	}
	sort.Float64s(lags)
	late, err := w.pool.Query(ctx, `SELECT floor(extract(epoch FROM expires_at - $1::timestamptz))::int AS s, count(*), max(extract(epoch FROM ended_at - expires_at))::float8,
		  min(extract(epoch FROM ended_at - $1::timestamptz))::float8, max(extract(epoch FROM ended_at - $1::timestamptz))::float8
		FROM grants GROUP BY s HAVING max(extract(epoch FROM ended_at - expires_at)) > 1 ORDER BY s`, start)
	if err != nil {
		b.Fatal(err)
	}
	for late.Next() {
		var s, c int
		var m, e0, e1 float64
		if err := late.Scan(&s, &c, &m, &e0, &e1); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("  second %2d: %d grants, latest %.2f s late, ended between %.2f and %.2f\n", s, c, m, e0, e1)
	}
	late.Close()
	pct := func(p float64) float64 { return lags[min(len(lags)-1, int(p*float64(len(lags))))] }

	// The raw baseline: the same Vault calls for n policies at the workers' concurrency.
	for i := range ids {
		ids[i] = "raw-" + ids[i]
		if err := w.vault.WriteGrantPolicy(ctx, vault.GrantSpec{GrantID: ids[i], Tenant: "acme", Subject: "bench", Mount: "tenant-bench-exp", Path: "db/orders", TTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, jobs.QueueWorkers)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := w.vault.RevokeGrant(ctx, id, ""); err != nil {
				b.Error(err)
			}
			if err := w.vault.VerifyGrantDead(ctx, id, ""); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	raw := time.Since(t0)
	fmt.Printf("expiry lag, %d grants ending within one minute: p50 %.2f s  p99 %.2f s  max %.2f s; raw Vault delete+read of %d policies at %d-way concurrency: %.2f s (%.0f/s, the minute needs %.0f/s)\n",
		n, pct(0.5), pct(0.99), lags[len(lags)-1], n, jobs.QueueWorkers, raw.Seconds(), float64(n)/raw.Seconds(), float64(n)/60)
}

// The expiry sweep ends a grant within seconds of its end even when the
// grant's own expiry job is far off.
func TestTheSweepEndsAGrantOnTime(t *testing.T) {
	w, req := approvedRequest(t, "tenant-sweep")
	ctx := context.Background()
	startWorkersWithSweep(t, w)
	waitState(t, w, req, approvals.Active, 10*time.Second)
	if _, err := w.pool.Exec(ctx, "UPDATE river_job SET scheduled_at = now() + interval '1 hour' WHERE kind = 'expire_grant'"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.pool.Exec(ctx, "UPDATE grants SET expires_at = now() + interval '1 second' WHERE request_id = $1", req); err != nil {
		t.Fatal(err)
	}
	waitState(t, w, req, approvals.Expired, 10*time.Second)
	var lag float64
	if err := w.pool.QueryRow(ctx, "SELECT extract(epoch FROM ended_at - expires_at)::float8 FROM grants WHERE request_id = $1", req).Scan(&lag); err != nil {
		t.Fatal(err)
	}
	if lag < 0 || lag > 5 {
		t.Fatalf("the grant ended %.1f s after its end", lag)
	}
}

// startWorkersWithSweep runs the workers as "gatehouse serve" does: with
// the expiry sweep beside each grant's own expiry job.
func startWorkersWithSweep(t testing.TB, w world) {
	t.Helper()
	c, err := jobs.NewClient(w.pool, jobs.Workers{Grants: w.store, Sweeper: w.store, Reviews: w.store, Shares: w.store, Revocations: w.store,
		Vault: w.vault, Now: time.Now, Due: w.store, PollInterval: 100 * time.Millisecond, Channels: w.chans, Webhook: w.chans.Chat, Notices: w.store,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
}
