package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
)

// sweepWorld is requestFixture (acme, globex, a request) with a store on
// an injected clock, now; old and recent are just either side of the
// retention the tests sweep with (jobs.DefaultNoticeRetention).
type sweepWorld struct {
	pool        *pgxpool.Pool
	store       *postgres.RequestStore
	acme, req   string
	now         time.Time
	old, recent time.Time
}

const retention = jobs.DefaultNoticeRetention

func newSweepWorld(t *testing.T) sweepWorld {
	t.Helper()
	pool, _, acme, req := requestFixture(t)
	forgetFixtureNotices(t, pool)
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	return sweepWorld{pool: pool, store: postgres.NewRequestStore(pool, nil, func() time.Time { return now }), acme: acme, req: req,
		now: now, old: now.Add(-retention - time.Second), recent: now.Add(-retention + time.Second)}
}

// forgetFixtureNotices deletes the notices requestFixture's request sent
// (recorded, and their jobs), for tests that count every notice.
func forgetFixtureNotices(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), "DELETE FROM notices; DELETE FROM river_job WHERE kind = 'notify'"); err != nil {
		t.Fatal(err)
	}
}

// insertNotice records a notice of tenant about ref, sent at, in state,
// and returns its ID.
func insertNotice(t *testing.T, pool *pgxpool.Pool, tenant, ref, state string, at time.Time) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(context.Background(), `INSERT INTO notices (id, tenant_id, ref, channel, recipients, subject, enqueued_at, state)
		VALUES (gen_random_uuid(), $1, $2, 'email', '{approver1@acme.test}', 'Break-glass', $3, $4) RETURNING id::text`,
		tenant, ref, at, state).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// remaining returns which of ids are still recorded.
func remaining(t *testing.T, pool *pgxpool.Pool, ids ...string) map[string]bool {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT id::text FROM notices WHERE id::text = ANY($1)", ids)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	left := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		left[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return left
}

func sweep(t *testing.T, store *postgres.RequestStore, want int64) {
	t.Helper()
	if n, err := store.SweepNotices(context.Background(), retention); err != nil || n != want {
		t.Fatalf("the sweep deleted %d notices (%v), want %d", n, err, want)
	}
}

// TestTheNoticeSweepDeletesSettledNoticesPastTheirRetention: delivered,
// failed and not-sent notices sent more than the retention ago are
// deleted; those sent since (to the second, and exactly at the limit) stay
// and are still shown.
func TestTheNoticeSweepDeletesSettledNoticesPastTheirRetention(t *testing.T) {
	w := newSweepWorld(t)
	pool, store, acme, req, old, recent := w.pool, w.store, w.acme, w.req, w.old, w.recent
	var gone, kept []string
	for _, state := range []string{jobs.NoticeDelivered, jobs.NoticeFailed, jobs.NoticeNotSent} {
		gone = append(gone, insertNotice(t, pool, acme, req, state, old))
		kept = append(kept, insertNotice(t, pool, acme, req, state, recent))
	}
	kept = append(kept, insertNotice(t, pool, acme, req, jobs.NoticeDelivered, w.now.Add(-retention)))
	sweep(t, store, 3)
	left := remaining(t, pool, append(gone, kept...)...)
	for _, id := range gone {
		if left[id] {
			t.Errorf("notice %s, past its retention, was kept", id)
		}
	}
	for _, id := range kept {
		if !left[id] {
			t.Errorf("notice %s, within its retention, was deleted", id)
		}
	}
	if ds, err := store.Deliveries(context.Background(), acme, req); err != nil || len(ds.Latest) != len(kept) || ds.Total != len(kept) {
		t.Fatalf("who was told after the sweep: %d notices of %d (%v), want %d", len(ds.Latest), ds.Total, err, len(kept))
	}
	sweep(t, store, 0)
}

// TestTheNoticeSweepKeepsNoticesStillBeingDelivered: an old notice pending
// or retrying delivery is kept, however old; once settled, the next run
// deletes it.
func TestTheNoticeSweepKeepsNoticesStillBeingDelivered(t *testing.T) {
	w := newSweepWorld(t)
	pool, store, acme, req, old := w.pool, w.store, w.acme, w.req, w.old
	pending := insertNotice(t, pool, acme, req, jobs.NoticePending, old)
	retrying := insertNotice(t, pool, acme, req, jobs.NoticeRetrying, old.Add(-300*24*time.Hour))
	sweep(t, store, 0)
	if left := remaining(t, pool, pending, retrying); !left[pending] || !left[retrying] {
		t.Fatalf("notices still being delivered were deleted: %v", left)
	}
	if err := store.RecordDelivery(context.Background(), retrying, jobs.DeliveryOutcome{State: jobs.NoticeFailed, Attempt: 12,
		Reason: "The mail relay refused the message."}, nil); err != nil {
		t.Fatal(err)
	}
	sweep(t, store, 1)
	if left := remaining(t, pool, pending, retrying); !left[pending] || left[retrying] {
		t.Fatalf("after the retrying notice failed for good: %v, want only the pending one left", left)
	}
}

// TestTheNoticeSweepKeepsTheNoticesOfABreakGlassUnderReview: the notices
// of a break-glass whose review is open — in the responder's organization
// and the owner's, under a share — are kept however old, since its page
// shows who was told; those of a reviewed break-glass are not, and once
// the review is done the next run deletes the others.
func TestTheNoticeSweepKeepsTheNoticesOfABreakGlassUnderReview(t *testing.T) {
	w := newSweepWorld(t)
	pool, store, acme, req, old := w.pool, w.store, w.acme, w.req, w.old
	ctx := context.Background()
	globex := tenantID(t, pool, "globex")
	breakGlass := func(verdict *string) string {
		var id string
		if err := pool.QueryRow(ctx, `
			INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
			                      justification, kind, state, policy, submitted_at, updated_at)
			SELECT tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
			       justification, 'break-glass', 'expired', policy, submitted_at, updated_at
			FROM requests WHERE id::text = $1 RETURNING id::text`, req).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO breakglass_reviews (request_id, tenant_id, due_at, verdict, reviewed_at)
			VALUES ($1, $2, $3::timestamptz, $4::text, CASE WHEN $4::text IS NULL THEN NULL ELSE $3::timestamptz END)`, id, acme, old.Add(24*time.Hour), verdict); err != nil {
			t.Fatal(err)
		}
		return id
	}
	justified := "justified"
	open, reviewed := breakGlass(nil), breakGlass(&justified)
	openHere := insertNotice(t, pool, acme, open, jobs.NoticeDelivered, old)
	openOwner := insertNotice(t, pool, globex, open, jobs.NoticeDelivered, old.Add(-time.Hour))
	openFailed := insertNotice(t, pool, acme, open, jobs.NoticeFailed, old.Add(-400*24*time.Hour))
	reviewedHere := insertNotice(t, pool, acme, reviewed, jobs.NoticeDelivered, old)
	sweep(t, store, 1)
	left := remaining(t, pool, openHere, openOwner, openFailed, reviewedHere)
	if !left[openHere] || !left[openOwner] || !left[openFailed] || left[reviewedHere] {
		t.Fatalf("after the sweep: %v; want the open review's three kept, the reviewed one's deleted", left)
	}
	if ds, err := store.Deliveries(ctx, acme, open); err != nil || len(ds.Latest) != 2 {
		t.Fatalf("who was told of the break-glass under review: %d notices (%v), want 2", len(ds.Latest), err)
	}
	if _, err := pool.Exec(ctx, "UPDATE breakglass_reviews SET verdict = 'justified', reviewed_at = $2 WHERE request_id::text = $1", open, w.now); err != nil {
		t.Fatal(err)
	}
	sweep(t, store, 3)
}

// TestTheNoticeSweepWorksInBatches: more notices than one batch are all
// deleted by one run, the oldest first; a run stops after its number of
// batches, and the next goes on.
func TestTheNoticeSweepWorksInBatches(t *testing.T) {
	w := newSweepWorld(t)
	pool, store, acme, req, old, recent := w.pool, w.store, w.acme, w.req, w.old, w.recent
	ctx := context.Background()
	insertMany := func(n int, at time.Time) {
		t.Helper()
		if _, err := pool.Exec(ctx, `INSERT INTO notices (id, tenant_id, ref, channel, subject, enqueued_at, state)
			SELECT gen_random_uuid(), $1, $2, 'chat', 'Access request', $3::timestamptz - i * interval '1 second', 'delivered'
			FROM generate_series(1, $4::int) i`, acme, req, at, n); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM notices").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insertMany(2*postgres.NoticeSweepBatch+7, old)
	keep := insertNotice(t, pool, acme, req, jobs.NoticeDelivered, recent)
	sweep(t, store, 2*postgres.NoticeSweepBatch+7)
	if n, left := count(), remaining(t, pool, keep); n != 1 || !left[keep] {
		t.Fatalf("%d notices left after the sweep, want only the recent one", n)
	}

	// Small batches, and at most two of them a run.
	insertMany(27, old)
	newest := insertNotice(t, pool, acme, req, jobs.NoticeDelivered, old.Add(time.Millisecond))
	if n, err := store.SweepNoticesIn(ctx, retention, 10, 2); err != nil || n != 20 {
		t.Fatalf("a run of two batches of 10 deleted %d (%v), want 20", n, err)
	}
	if n, left := count(), remaining(t, pool, newest); n != 1+8 || !left[newest] {
		t.Fatalf("%d notices left after two batches (the newest old one kept: %v), want 9: the oldest go first", n, left[newest])
	}
	if n, err := store.SweepNoticesIn(ctx, retention, 10, 2); err != nil || n != 8 {
		t.Fatalf("the next run deleted %d (%v), want the 8 left", n, err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d notices left, want only the recent one", n)
	}
}

// TestTheNoticeSweepSkipsANoticeAnotherTransactionHolds: a notice whose
// row another transaction holds (a delivery being recorded, another
// replica's sweep) is skipped, not waited for; a later run deletes it.
func TestTheNoticeSweepSkipsANoticeAnotherTransactionHolds(t *testing.T) {
	w := newSweepWorld(t)
	pool, store, acme, req, old := w.pool, w.store, w.acme, w.req, w.old
	ctx := context.Background()
	held := insertNotice(t, pool, acme, req, jobs.NoticeFailed, old)
	free := insertNotice(t, pool, acme, req, jobs.NoticeDelivered, old)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rolled back below
	if _, err := tx.Exec(ctx, "SELECT 1 FROM notices WHERE id::text = $1 FOR UPDATE", held); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if n, err := store.SweepNotices(waitCtx, retention); err != nil || n != 1 {
		t.Fatalf("the sweep beside a held notice deleted %d (%v), want the free one at once", n, err)
	}
	if left := remaining(t, pool, held, free); !left[held] || left[free] {
		t.Fatalf("after the sweep: %v, want the held notice kept and the free one deleted", left)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	sweep(t, store, 1)
}

// TestLostNoticesAreSettledAsFailed: a notice still pending or retrying
// longer after it was sent than any retry schedule is settled as failed
// with the reason, so it no longer shows as on its way and the sweep can
// later delete it; younger unsettled notices and settled ones are left
// alone, and a late outcome from a job that did run still lands.
func TestLostNoticesAreSettledAsFailed(t *testing.T) {
	w := newSweepWorld(t)
	ctx := context.Background()
	lostAt, youngAt := w.now.Add(-jobs.NoticeLostAfter-time.Second), w.now.Add(-jobs.NoticeLostAfter+time.Second)
	lostPending := insertNotice(t, w.pool, w.acme, w.req, jobs.NoticePending, lostAt)
	lostRetrying := insertNotice(t, w.pool, w.acme, w.req, jobs.NoticeRetrying, lostAt.Add(-30*24*time.Hour))
	young := insertNotice(t, w.pool, w.acme, w.req, jobs.NoticeRetrying, youngAt)
	delivered := insertNotice(t, w.pool, w.acme, w.req, jobs.NoticeDelivered, lostAt)
	notSent := insertNotice(t, w.pool, w.acme, w.req, jobs.NoticeNotSent, lostAt)

	n, err := w.store.SettleLostNotices(ctx, jobs.NoticeLostAfter, jobs.NoticeLostReason)
	if err != nil || n != 2 {
		t.Fatalf("settled %d lost notices (%v), want 2", n, err)
	}
	stateOf := func(id string) (state, reason string) {
		if err := w.pool.QueryRow(ctx, "SELECT state, reason FROM notices WHERE id::text = $1", id).Scan(&state, &reason); err != nil {
			t.Fatal(err)
		}
		return state, reason
	}
	for _, c := range []struct{ name, id, want string }{
		{"the old pending one", lostPending, jobs.NoticeFailed}, {"the old retrying one", lostRetrying, jobs.NoticeFailed},
		{"the young retrying one", young, jobs.NoticeRetrying}, {"the delivered one", delivered, jobs.NoticeDelivered},
		{"the not-sent one", notSent, jobs.NoticeNotSent},
	} {
		state, reason := stateOf(c.id)
		if state != c.want || (c.want == jobs.NoticeFailed) != (reason == jobs.NoticeLostReason) {
			t.Errorf("%s: %s (%q), want %s", c.name, state, reason, c.want)
		}
	}
	if n, err := w.store.SettleLostNotices(ctx, jobs.NoticeLostAfter, jobs.NoticeLostReason); err != nil || n != 0 {
		t.Fatalf("a second run settled %d (%v), want 0", n, err)
	}
	// The job did run after all, late: its outcome replaces the guess.
	if err := w.store.RecordDelivery(ctx, lostPending, jobs.DeliveryOutcome{State: jobs.NoticeDelivered, Attempt: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if state, reason := stateOf(lostPending); state != jobs.NoticeDelivered || reason != "" {
		t.Fatalf("after a late delivery: %s (%q), want delivered", state, reason)
	}
}
