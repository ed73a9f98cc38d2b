package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/jobs"
)

// TestTheNoticeSweepRunsWhenTheWorkersStart: with a NoticeSweeper, the
// workers sweep the notices on start (then hourly), with the configured
// retention on the store's clock: a settled notice just past it goes, one
// just within it stays; a notice pending since before NoticeLostAfter is
// settled as failed, a recent pending one is left pending.
func TestTheNoticeSweepRunsWhenTheWorkersStart(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	w, _ := newWorld(t, "tenant-notice-sweep", func() time.Time { return now })
	ctx := context.Background()
	retention := 90 * 24 * time.Hour
	var old, recent string
	for _, n := range []struct {
		id *string
		at time.Time
	}{{&old, now.Add(-retention - time.Minute)}, {&recent, now.Add(-retention + time.Minute)}} {
		if err := w.pool.QueryRow(ctx, `INSERT INTO notices (id, tenant_id, ref, channel, subject, enqueued_at, state)
			VALUES (gen_random_uuid(), $1, gen_random_uuid()::text, 'chat', 'Access approved', $2, 'delivered') RETURNING id::text`,
			w.tenant, n.at).Scan(n.id); err != nil {
			t.Fatal(err)
		}
	}
	var lost, young string
	for _, n := range []struct {
		id *string
		at time.Time
	}{{&lost, now.Add(-jobs.NoticeLostAfter - time.Minute)}, {&young, now.Add(-time.Hour)}} {
		if err := w.pool.QueryRow(ctx, `INSERT INTO notices (id, tenant_id, ref, channel, subject, enqueued_at, state)
			VALUES (gen_random_uuid(), $1, gen_random_uuid()::text, 'chat', 'Access approved', $2, 'pending') RETURNING id::text`,
			w.tenant, n.at).Scan(n.id); err != nil {
			t.Fatal(err)
		}
	}
	c, err := jobs.NewClient(w.pool, jobs.Workers{Grants: w.store, Sweeper: w.store, Reviews: w.store, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: 100 * time.Millisecond,
		NoticeSweeper: w.store, NoticeRetention: retention})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		var oldLeft, recentLeft bool
		if err := w.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM notices WHERE id::text = $1), EXISTS (SELECT 1 FROM notices WHERE id::text = $2)",
			old, recent).Scan(&oldLeft, &recentLeft); err != nil {
			t.Fatal(err)
		}
		if !recentLeft {
			t.Fatal("the sweep deleted a notice within its retention")
		}
		if !oldLeft {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the notice past its retention is still there 30 s after the workers started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var lostState, youngState string
	if err := w.pool.QueryRow(ctx, "SELECT (SELECT state FROM notices WHERE id::text = $1), (SELECT state FROM notices WHERE id::text = $2)",
		lost, young).Scan(&lostState, &youngState); err != nil {
		t.Fatal(err)
	}
	if lostState != jobs.NoticeFailed || youngState != jobs.NoticePending {
		t.Fatalf("after the sweep: the lost notice is %s (want failed), the recent pending one %s (want pending)", lostState, youngState)
	}
}

type retentionSeen struct{ got time.Duration }

func (r *retentionSeen) SettleLostNotices(context.Context, time.Duration, string) (int64, error) {
	return 0, nil
}

func (r *retentionSeen) SweepNotices(_ context.Context, retention time.Duration) (int64, error) {
	r.got = retention
	return 0, nil
}

// TestTheNoticeSweepKeepsTheDefaultRetentionUnlessSet: a worker with no
// retention set sweeps with DefaultNoticeRetention (400 days), never with
// zero (which would delete every settled notice).
func TestTheNoticeSweepKeepsTheDefaultRetentionUnlessSet(t *testing.T) {
	for _, tc := range []struct{ set, want time.Duration }{{0, 400 * 24 * time.Hour}, {45 * 24 * time.Hour, 45 * 24 * time.Hour}} {
		seen := &retentionSeen{}
		if err := (&jobs.SweepNoticesWorker{Sweeper: seen, Retention: tc.set}).Work(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if seen.got != tc.want {
			t.Errorf("retention set to %s: the sweep used %s, want %s", tc.set, seen.got, tc.want)
		}
	}
}
