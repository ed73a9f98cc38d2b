package postgres

import (
	"context"
	"time"
)

// SweepNoticesIn is SweepNotices with batch rows per batch and at most
// maxBatches batches (for tests: the real sizes need thousands of rows).
func (s *RequestStore) SweepNoticesIn(ctx context.Context, retention time.Duration, batch int32, maxBatches int) (int64, error) {
	return s.sweepNotices(ctx, retention, batch, maxBatches)
}

// SweepRateLimitsIn is SweepRateLimits with batch rows per batch and at
// most maxBatches batches.
func (s *RateLimitStore) SweepRateLimitsIn(ctx context.Context, batch int32, maxBatches int) (int64, error) {
	return s.sweepRateLimits(ctx, batch, maxBatches)
}
