package postgres_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/gatehouse/gatehouse/postgres"
)

// BenchmarkRateLimitCheck measures one rate limit check with each store, in
// the same run: echo's memory store (what each replica kept before, and
// GATEHOUSE_RATE_LIMIT_STORE=memory) and the PostgreSQL store (one
// statement over the pool; the default). "allowed" checks spend from a
// bucket that never runs dry (the row is updated each time), "refused" from
// one that is always empty (the row is only locked); "parallel" runs
// GOMAXPROCS×4 clients at once, each on its own key or all on one.
func BenchmarkRateLimitCheck(b *testing.B) {
	const lots = 1e9 // a rate and burst no benchmark exhausts
	mem := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{Rate: rate.Limit(lots), Burst: lots})
	b.Run("memory/allowed", func(b *testing.B) {
		for b.Loop() {
			if ok, _ := mem.Allow("192.0.2.1"); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("memory/parallel-keys", func(b *testing.B) {
		var n atomic.Int64
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			key := "198.51.100." + strconv.FormatInt(n.Add(1), 10)
			for pb.Next() {
				_, _ = mem.Allow(key)
			}
		})
	})

	s := postgres.NewRateLimitStore(stack.NewPool(b), time.Now)
	ctx := context.Background()
	take := func(b *testing.B, key string, r float64, burst int, want bool) {
		ok, err := s.Take(ctx, "sign-in", key, r, burst)
		if err != nil || ok != want {
			b.Fatalf("Take = %v, %v; want %v", ok, err, want)
		}
	}
	b.Run("postgres/allowed", func(b *testing.B) {
		for b.Loop() {
			take(b, "192.0.2.1", lots, lots, true)
		}
	})
	b.Run("postgres/refused", func(b *testing.B) {
		_, _ = s.Take(ctx, "sign-in", "192.0.2.2", perHour, 1) // empties the bucket (b.Run calls this more than once)
		for b.Loop() {
			take(b, "192.0.2.2", perHour, 1, false)
		}
	})
	b.Run("postgres/parallel-keys", func(b *testing.B) {
		var n atomic.Int64
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			key := "203.0.113." + strconv.FormatInt(n.Add(1), 10)
			for pb.Next() {
				take(b, key, lots, lots, true)
			}
		})
	})
	b.Run("postgres/parallel-one-key", func(b *testing.B) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				take(b, "192.0.2.3", lots, lots, true)
			}
		})
	})
}
