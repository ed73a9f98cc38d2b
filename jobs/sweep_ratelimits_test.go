package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
)

// TestTheRateLimitSweepRunsWhenTheWorkersStart: with a RateLimitSweeper,
// the workers delete the full rate limit buckets on start (then every
// minute), by the store's clock, and keep those still refilling.
func TestTheRateLimitSweepRunsWhenTheWorkersStart(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	w, _ := newWorld(t, "tenant-ratelimit-sweep", clock)
	ctx := context.Background()
	if _, err := w.pool.Exec(ctx, `INSERT INTO rate_limits (class, key, tat) VALUES
		('sign-in', '192.0.2.1', $1), ('change', 'refilling', $2)`, now.Add(-time.Second), now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	c, err := jobs.NewClient(w.pool, jobs.Workers{Grants: w.store, Sweeper: w.store, Reviews: w.store, Now: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: 100 * time.Millisecond,
		RateLimits: postgres.NewRateLimitStore(w.pool, clock)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		var full, refilling bool
		if err := w.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rate_limits WHERE key = '192.0.2.1'),
			EXISTS (SELECT 1 FROM rate_limits WHERE key = 'refilling')`).Scan(&full, &refilling); err != nil {
			t.Fatal(err)
		}
		if !refilling {
			t.Fatal("the sweep deleted a bucket still refilling")
		}
		if !full {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the full bucket is still there 30 s after the workers started")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
