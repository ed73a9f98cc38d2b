package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres/db"
)

var _ jobs.NoticeSweeper = (*RequestStore)(nil)

// NoticeSweepBatch is how many notices one batch of the sweep deletes,
// in one short transaction of its own; NoticeSweepMaxBatches is how many
// batches one run takes at most (a backlog, such as the first run on a
// years-old table, is worked off over the following hourly runs, each well
// inside River's job timeout).
const (
	NoticeSweepBatch      = 1000
	NoticeSweepMaxBatches = 100
)

// SweepNotices deletes the notices sent more than retention ago (by the
// store's clock) whose delivery is settled — delivered, failed or not
// sent; never one pending or retrying — except those about a break-glass
// whose review is still open, in either organization (its page shows who
// was told). It deletes the oldest first, NoticeSweepBatch at a time, each
// batch its own transaction, until none is left or NoticeSweepMaxBatches
// batches ran; rows another transaction holds are skipped, never waited
// for. It returns how many it deleted, also with the error when a batch
// fails (the batches before it stay deleted).
func (s *RequestStore) SweepNotices(ctx context.Context, retention time.Duration) (int64, error) {
	return s.sweepNotices(ctx, retention, NoticeSweepBatch, NoticeSweepMaxBatches)
}

// sweepNotices is SweepNotices with batch rows per batch and at most
// maxBatches batches.
func (s *RequestStore) sweepNotices(ctx context.Context, retention time.Duration, batch int32, maxBatches int) (int64, error) {
	before := s.now().Add(-retention)
	q := db.New(s.pool)
	n, err := inBatches(batch, maxBatches, func(batch int32) (int64, error) {
		return q.DeleteExpiredNotices(ctx, db.DeleteExpiredNoticesParams{Before: before, Batch: batch})
	})
	if err != nil {
		return n, fmt.Errorf("deleting notices past their retention: %w", err)
	}
	return n, nil
}

// SettleLostNotices settles as failed, with reason, the notices still
// pending or retrying that were sent more than lostAfter ago (by the
// store's clock): their delivery job is lost. It works oldest first,
// NoticeSweepBatch at a time, each batch its own transaction, at most
// NoticeSweepMaxBatches batches; rows another transaction holds are
// skipped. It returns how many it settled, also with the error when a
// batch fails (the batches before it stay settled).
func (s *RequestStore) SettleLostNotices(ctx context.Context, lostAfter time.Duration, reason string) (int64, error) {
	before := s.now().Add(-lostAfter)
	q := db.New(s.pool)
	n, err := inBatches(NoticeSweepBatch, NoticeSweepMaxBatches, func(batch int32) (int64, error) {
		return q.SettleLostNotices(ctx, db.SettleLostNoticesParams{Reason: reason, Before: before, Batch: batch})
	})
	if err != nil {
		return n, fmt.Errorf("settling lost notices: %w", err)
	}
	return n, nil
}
