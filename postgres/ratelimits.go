package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres/db"
)

var _ jobs.RateLimitSweeper = (*RateLimitStore)(nil)

// RateLimitStore keeps the rate limits' token buckets in PostgreSQL (the
// rate_limits table, migration 0033), so every replica on the database
// spends from the same bucket. It implements handlers.RateStore.
//
// Each bucket is one row holding its "theoretical arrival time" (GCRA, the
// generic cell rate algorithm): the time at which the bucket is full again.
// One check is one INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING, so
// it takes one round trip, needs no explicit lock or transaction, and is
// exact under concurrency: requests on one key queue on its row lock. The
// decisions are those of a token bucket (golang.org/x/time/rate, which
// the memory store uses) of the same rate and burst, the rate rounded to
// whole microseconds per request.
//
// Time is the store's clock, not the database's, as everywhere else in
// Gatehouse: replicas' clocks are assumed to agree (NTP), as session
// timeouts already assume. A replica whose clock runs δ ahead sees up to
// δ × rate more requests refilled.
type RateLimitStore struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewRateLimitStore returns a store over pool, checking buckets at now().
func NewRateLimitStore(pool *pgxpool.Pool, now func() time.Time) *RateLimitStore {
	return &RateLimitStore{pool: pool, now: now}
}

// Take spends one request from the bucket key of class, which refills at
// rate requests a second up to burst; a key never seen (or swept) has a
// full bucket. It returns true when the request is within the limit and
// false when it is refused (the bucket is then left as it was). It returns
// an error, and false, when rate is not a positive finite number or burst
// is under 1, or when PostgreSQL fails; the error never holds the key.
func (s *RateLimitStore) Take(ctx context.Context, class, key string, rate float64, burst int) (bool, error) {
	if !(rate > 0) || math.IsInf(rate, 0) || burst < 1 {
		return false, fmt.Errorf("the %s rate limit is not a positive rate with a burst of at least 1 (%g a second, burst %d)", class, rate, burst)
	}
	step := max(1, int64(math.Round(1e6/rate))) // microseconds per request: PostgreSQL's resolution
	_, err := db.New(s.pool).TakeRateLimit(ctx, db.TakeRateLimitParams{
		Class: class, Bucket: key, Now: s.now(),
		Step:      pgtype.Interval{Microseconds: step, Valid: true},
		Tolerance: pgtype.Interval{Microseconds: int64(burst-1) * step, Valid: true},
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking the %s rate limit: %w", class, err)
	}
	return true, nil
}

// RateLimitSweepBatch is how many buckets one batch of the sweep deletes,
// in one short transaction of its own; RateLimitSweepMaxBatches is how
// many batches one run takes at most (a flood from many addresses leaves
// the rest to the next run, a minute later).
const (
	RateLimitSweepBatch      = 1000
	RateLimitSweepMaxBatches = 500
)

// SweepRateLimits deletes the buckets that are full again by the store's
// clock — a row whose time has passed means what no row means, so nothing
// any limit decides changes. It deletes RateLimitSweepBatch at a time, each
// batch its own statement (and transaction), until none is left or
// RateLimitSweepMaxBatches ran; rows a check holds are skipped, never
// waited for. It returns how many it deleted, also with the error when a
// batch fails (the batches before it stay deleted).
func (s *RateLimitStore) SweepRateLimits(ctx context.Context) (int64, error) {
	return s.sweepRateLimits(ctx, RateLimitSweepBatch, RateLimitSweepMaxBatches)
}

// sweepRateLimits is SweepRateLimits with batch rows per batch and at most
// maxBatches batches.
func (s *RateLimitStore) sweepRateLimits(ctx context.Context, batch int32, maxBatches int) (int64, error) {
	now := s.now()
	q := db.New(s.pool)
	n, err := inBatches(batch, maxBatches, func(batch int32) (int64, error) {
		return q.DeleteFullRateLimits(ctx, db.DeleteFullRateLimitsParams{Now: now, Batch: batch})
	})
	if err != nil {
		return n, fmt.Errorf("deleting full rate limit buckets: %w", err)
	}
	return n, nil
}
