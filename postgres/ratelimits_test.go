package postgres_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"

	"github.com/gatehouse/gatehouse/postgres"
)

// clock is a test's controllable time: the store reads it at each check.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2031, 5, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// takes spends n requests from (class, key) and returns the decisions.
func takes(t *testing.T, s *postgres.RateLimitStore, class, key string, r float64, burst, n int) []bool {
	t.Helper()
	out := make([]bool, n)
	for i := range out {
		ok, err := s.Take(t.Context(), class, key, r, burst)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = ok
	}
	return out
}

func allowedOf(decisions []bool) (n int) {
	for _, ok := range decisions {
		if ok {
			n++
		}
	}
	return n
}

// perHour is a rate at which no request comes back during a test.
const perHour = 1.0 / 3600

// TestARateLimitBucketAllowsItsBurstThenRefuses: at one instant a key gets
// exactly its burst; every request after is refused, and refusals spend
// nothing (the next request still comes back one step later).
func TestARateLimitBucketAllowsItsBurstThenRefuses(t *testing.T) {
	clk := newClock()
	s := postgres.NewRateLimitStore(stack.NewPool(t), clk.now)
	got := takes(t, s, "sign-in", "192.0.2.1", 1.0/60, 3, 10)
	want := []bool{true, true, true, false, false, false, false, false, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("decisions %v, want %v", got, want)
		}
	}
	clk.advance(time.Minute)
	if got := takes(t, s, "sign-in", "192.0.2.1", 1.0/60, 3, 2); !got[0] || got[1] {
		t.Fatalf("a minute after seven refusals, at one a minute: %v, want one allowed (refusals spend nothing)", got)
	}
}

// TestARateLimitBucketRefillsAtItsRate: one request comes back every 1/rate,
// not sooner, and an idle bucket fills up to its burst and no further.
func TestARateLimitBucketRefillsAtItsRate(t *testing.T) {
	clk := newClock()
	s := postgres.NewRateLimitStore(stack.NewPool(t), clk.now)
	const r, burst = 0.5, 2 // one request every 2 s
	if n := allowedOf(takes(t, s, "change", "k", r, burst, 5)); n != burst {
		t.Fatalf("%d allowed at once, want the burst, %d", n, burst)
	}
	for _, step := range []struct {
		after time.Duration
		want  bool
	}{
		{1999 * time.Millisecond, false}, // not a whole request yet
		{time.Millisecond, true},         // 2 s: one request back
		{0, false},                       // and only one
		{2 * time.Second, true},
		{time.Second, false},
	} {
		clk.advance(step.after)
		if got := takes(t, s, "change", "k", r, burst, 1)[0]; got != step.want {
			t.Fatalf("after %s more: allowed %v, want %v", step.after, got, step.want)
		}
	}
	clk.advance(10 * time.Minute) // idle far longer than the burst takes to refill
	if n := allowedOf(takes(t, s, "change", "k", r, burst, 5)); n != burst {
		t.Fatalf("an idle bucket allowed %d at once, want its burst %d and no more", n, burst)
	}
}

// TestTheStoreDecidesAsTheMemoryTokenBucketDoes: over a long, irregular
// sequence of requests the store allows and refuses exactly what
// golang.org/x/time/rate (the memory store's bucket) does with the same
// rate and burst, including the defaults of both classes.
func TestTheStoreDecidesAsTheMemoryTokenBucketDoes(t *testing.T) {
	clk := newClock()
	s := postgres.NewRateLimitStore(stack.NewPool(t), clk.now)
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{3, 20}, {10, 30}, {4, 3}, {0.5, 1}} {
		mem := rate.NewLimiter(rate.Limit(tc.rate), tc.burst)
		rng := rand.New(rand.NewPCG(uint64(tc.burst), 7)) // fixed: the same sequence every run
		key := strings.Repeat("k", tc.burst)
		pause := 2 * time.Duration(float64(time.Second)/tc.rate) / time.Microsecond
		var allowed, refused int
		for i := range 600 {
			// Bursts of requests microseconds apart, and pauses of up to
			// twice the time one request takes to come back.
			if rng.IntN(4) == 0 {
				clk.advance(time.Duration(rng.Int64N(int64(pause))) * time.Microsecond)
			} else {
				clk.advance(time.Duration(rng.IntN(5000)) * time.Microsecond)
			}
			want := mem.AllowN(clk.now(), 1)
			got, err := s.Take(t.Context(), "sign-in", key, tc.rate, tc.burst)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("rate %g burst %d, request %d: the store says %v, the token bucket %v", tc.rate, tc.burst, i, got, want)
			}
			if got {
				allowed++
			} else {
				refused++
			}
		}
		if allowed == 0 || refused == 0 {
			t.Fatalf("rate %g burst %d: %d allowed, %d refused: the sequence tests nothing", tc.rate, tc.burst, allowed, refused)
		}
	}
}

// TestConcurrentChecksOnOneKeyAllowExactlyTheBurst: many requests on one
// key at once, each on its own connection, are allowed exactly the burst
// between them — the single statement needs no lock of its own.
func TestConcurrentChecksOnOneKeyAllowExactlyTheBurst(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(stack.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	const workers, burst = 48, 10
	cfg.MaxConns, cfg.MinConns = workers, workers
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	clk := newClock()
	s := postgres.NewRateLimitStore(pool, clk.now)
	for round := range 5 {
		key := "192.0.2." + string(rune('1'+round))
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make(chan bool, workers)
		for range workers {
			wg.Go(func() {
				<-start
				ok, err := s.Take(context.Background(), "sign-in", key, perHour, burst)
				if err != nil {
					t.Error(err)
				}
				results <- ok
			})
		}
		close(start)
		wg.Wait()
		close(results)
		n := 0
		for ok := range results {
			if ok {
				n++
			}
		}
		if n != burst {
			t.Fatalf("round %d: %d of %d concurrent requests allowed, want exactly the burst, %d", round, n, workers, burst)
		}
	}
}

// TestRateLimitClassesAndKeysHaveTheirOwnBuckets: spending a key's bucket
// leaves other keys of the class, and the same key in the other class,
// untouched.
func TestRateLimitClassesAndKeysHaveTheirOwnBuckets(t *testing.T) {
	s := postgres.NewRateLimitStore(stack.NewPool(t), newClock().now)
	if n := allowedOf(takes(t, s, "sign-in", "a", perHour, 2, 3)); n != 2 {
		t.Fatalf("%d allowed, want 2", n)
	}
	if n := allowedOf(takes(t, s, "sign-in", "b", perHour, 2, 3)); n != 2 {
		t.Errorf("another key of the class: %d allowed, want its own 2", n)
	}
	if n := allowedOf(takes(t, s, "change", "a", perHour, 2, 3)); n != 2 {
		t.Errorf("the same key in the other class: %d allowed, want its own 2", n)
	}
}

// TestARateLimitWithoutARateOrBurstIsAnError: a rate that is not a
// positive finite number, or a burst under 1, fails rather than allowing
// or refusing everything, and writes nothing.
func TestARateLimitWithoutARateOrBurstIsAnError(t *testing.T) {
	pool := stack.NewPool(t)
	s := postgres.NewRateLimitStore(pool, newClock().now)
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{0, 5}, {-1, 5}, {1, 0}} {
		if ok, err := s.Take(t.Context(), "sign-in", "a", tc.rate, tc.burst); err == nil || ok {
			t.Errorf("rate %g burst %d: %v, %v; want an error", tc.rate, tc.burst, ok, err)
		}
	}
	var n int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM rate_limits").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows (%v) after refused settings, want none", n, err)
	}
}

// TestTheRateLimitSweepDeletesOnlyFullBuckets: the sweep deletes the
// buckets that are full again (their time passed, or is now), and keeps
// those still refilling, whose refusals go on after it; it works in
// bounded batches and stops after its last batch.
func TestTheRateLimitSweepDeletesOnlyFullBuckets(t *testing.T) {
	pool := stack.NewPool(t)
	clk := newClock()
	s := postgres.NewRateLimitStore(pool, clk.now)
	ctx := t.Context()
	// Five buckets full by now + 1 h: one request each at one an hour.
	for _, k := range []string{"f1", "f2", "f3", "f4", "f5"} {
		takes(t, s, "sign-in", k, perHour, 1, 1)
	}
	clk.advance(time.Hour)                       // those five are now exactly full
	takes(t, s, "change", "busy", perHour, 1, 1) // full again only in an hour
	clk.advance(-time.Second)
	if n, err := s.SweepRateLimits(ctx); err != nil || n != 0 {
		t.Fatalf("a second before any bucket is full, the sweep deleted %d (%v)", n, err)
	}
	clk.advance(time.Second)

	n, err := s.SweepRateLimitsIn(ctx, 2, 2)
	if err != nil || n != 4 {
		t.Fatalf("two batches of two: %d deleted (%v), want 4", n, err)
	}
	if n, err := s.SweepRateLimitsIn(ctx, 2, 2); err != nil || n != 1 {
		t.Fatalf("the next run: %d deleted (%v), want the fifth", n, err)
	}
	var keys []string
	rows, err := pool.Query(ctx, "SELECT class || '/' || key FROM rate_limits ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if rows.Err() != nil || len(keys) != 1 || keys[0] != "change/busy" {
		t.Fatalf("left after the sweep: %v (%v), want only change/busy", keys, rows.Err())
	}
	if takes(t, s, "change", "busy", perHour, 1, 1)[0] {
		t.Error("the sweep reset a bucket still refilling")
	}
	if !takes(t, s, "sign-in", "f1", perHour, 1, 1)[0] {
		t.Error("a swept bucket is not full")
	}
}
