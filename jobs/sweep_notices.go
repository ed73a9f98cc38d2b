package jobs

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// DefaultNoticeRetention is how long a notice's record (who was told of
// what, on which channel, and how delivery went) is kept by default: 400
// days. That is a year — the usual period an annual access audit (a SOC 2
// Type II or ISO 27001 surveillance audit) looks back over — plus a
// month's slack for the audit to take place after its period ends, so
// every notice of the period is still there to show. It is far longer
// than anything that reads notices in the course of work: delivery is
// retried for about a day, and a break-glass review is due within a week
// at most (and a break-glass whose review is still open keeps its notices
// however old they are).
const DefaultNoticeRetention = 400 * 24 * time.Hour

// MinNoticeRetention is the shortest retention the configuration accepts:
// 30 days, so a typo (days read as hours) cannot wipe the record of last
// week's break-glass and escalations.
const MinNoticeRetention = 30 * 24 * time.Hour

// SweepNoticesEvery is how often the notice sweep runs.
const SweepNoticesEvery = time.Hour

// SweepNoticesArgs is the periodic deletion of notices past their
// retention.
type SweepNoticesArgs struct{}

// Kind names the job in River's tables.
func (SweepNoticesArgs) Kind() string { return "sweep_notices" }

// NoticeSweeper deletes notices past their retention (implemented by the
// postgres adapter).
type NoticeSweeper interface {
	// SweepNotices deletes the notices sent more than retention ago whose
	// delivery is settled (never one pending or retrying), except those
	// about a break-glass whose review is still open, in bounded batches,
	// each its own transaction. It returns how many it deleted, also when
	// it fails part-way (the batches before the failure stay deleted).
	SweepNotices(ctx context.Context, retention time.Duration) (int64, error)
}

// SweepNoticesWorker runs the notice sweep.
//
// The sweep writes no audit event, as the session sweep writes none: it
// changes nobody's access and no object's state, only forgets delivery
// records older than a retention fixed in the configuration, and the
// audit trail keeps the events those notices told of (a break-glass
// started, a review escalated, a request submitted) for as long as it is
// kept. An event per run would also be a per-installation event with no
// tenant, in a trail whose chains are per tenant. The count is logged
// instead, when anything was deleted.
type SweepNoticesWorker struct {
	river.WorkerDefaults[SweepNoticesArgs]
	Sweeper NoticeSweeper
	// Retention is how long notices are kept (DefaultNoticeRetention when
	// zero); the configuration keeps it at least MinNoticeRetention.
	Retention time.Duration
	Log       *slog.Logger // nil: nothing logged
}

// Work deletes the notices past their retention. It returns the store's
// error (River retries the job; the next hourly run goes on anyway).
func (w *SweepNoticesWorker) Work(ctx context.Context, _ *river.Job[SweepNoticesArgs]) error {
	retention := cmp.Or(w.Retention, DefaultNoticeRetention)
	n, err := w.Sweeper.SweepNotices(ctx, retention)
	if n > 0 && w.Log != nil {
		w.Log.Info("notices past their retention deleted", slog.Int64("count", n), slog.Duration("retention", retention))
	}
	return err
}
