package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// SweepRateLimitsEvery is how often the rate limits' full buckets are
// deleted. A bucket is full again within its burst's refill time (seconds,
// with the default limits), so each run finds nearly every bucket not used
// in the last minute.
const SweepRateLimitsEvery = time.Minute

// SweepRateLimitsArgs is the periodic deletion of full rate limit buckets.
type SweepRateLimitsArgs struct{}

// Kind names the job in River's tables.
func (SweepRateLimitsArgs) Kind() string { return "sweep_rate_limits" }

// RateLimitSweeper deletes the rate limit buckets that are full again
// (implemented by the postgres adapter).
type RateLimitSweeper interface {
	// SweepRateLimits deletes the buckets that are full again, in bounded
	// batches, each its own transaction. It returns how many it deleted,
	// also when it fails part-way (the batches before stay deleted).
	SweepRateLimits(ctx context.Context) (int64, error)
}

// SweepRateLimitsWorker runs the sweep. It writes no audit event: a full
// bucket and no bucket mean the same, so no limit's decision changes.
type SweepRateLimitsWorker struct {
	river.WorkerDefaults[SweepRateLimitsArgs]
	Sweeper RateLimitSweeper
	Log     *slog.Logger // nil: nothing logged
}

// Work deletes the full buckets. It returns the store's error (River
// retries the job; the next run goes on anyway).
func (w *SweepRateLimitsWorker) Work(ctx context.Context, _ *river.Job[SweepRateLimitsArgs]) error {
	n, err := w.Sweeper.SweepRateLimits(ctx)
	if n > 0 && w.Log != nil {
		w.Log.Debug("full rate limit buckets deleted", slog.Int64("count", n))
	}
	return err
}
