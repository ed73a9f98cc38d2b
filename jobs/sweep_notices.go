package jobs

import (
	"cmp"
	"context"
	"errors"
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

// NoticeLostAfter is how long after it was sent a notice still pending or
// retrying is taken as lost: 48 hours. A notice is tried at most 12 times
// on River's backoff (attempt⁴ seconds between tries), about 11 hours from
// first to last try; 48 hours is four times that, with room for every
// replica being down for a day. Still unsettled by then, its job was
// cancelled, removed, or stopped on its last attempt without recording an
// outcome, and the notice would otherwise show as on its way for ever.
const NoticeLostAfter = 48 * time.Hour

// NoticeLostReason is the reason a lost notice is settled with, in plain
// words for the pages that list notices.
const NoticeLostReason = "No delivery outcome was recorded within 48 hours: its delivery job was lost, so it was not delivered. " +
	"Should the job still run, its outcome replaces this."

// SweepNoticesArgs is the periodic settling of lost notices and deletion
// of notices past their retention.
type SweepNoticesArgs struct{}

// Kind names the job in River's tables.
func (SweepNoticesArgs) Kind() string { return "sweep_notices" }

// NoticeSweeper settles lost notices and deletes notices past their
// retention (implemented by the postgres adapter).
type NoticeSweeper interface {
	// SettleLostNotices settles as failed, with reason, the notices still
	// pending or retrying that were sent more than lostAfter ago, in
	// bounded batches, each its own transaction. It returns how many it
	// settled, also when it fails part-way.
	SettleLostNotices(ctx context.Context, lostAfter time.Duration, reason string) (int64, error)
	// SweepNotices deletes the notices sent more than retention ago whose
	// delivery is settled (never one pending or retrying), except those
	// about a break-glass whose review is still open, in bounded batches,
	// each its own transaction. It returns how many it deleted, also when
	// it fails part-way (the batches before the failure stay deleted).
	SweepNotices(ctx context.Context, retention time.Duration) (int64, error)
}

// SweepNoticesWorker runs the notice sweep: it settles lost notices
// (NoticeLostAfter), then deletes those past their retention.
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

// Work settles the lost notices, then deletes the notices past their
// retention (even when settling failed). It returns the store's errors
// (River retries the job; the next hourly run goes on anyway). Lost
// notices are logged as a warning: a delivery job went missing.
func (w *SweepNoticesWorker) Work(ctx context.Context, _ *river.Job[SweepNoticesArgs]) error {
	lost, lerr := w.Sweeper.SettleLostNotices(ctx, NoticeLostAfter, NoticeLostReason)
	if lost > 0 && w.Log != nil {
		w.Log.Warn("notices whose delivery job was lost settled as failed", slog.Int64("count", lost), slog.Duration("lost_after", NoticeLostAfter))
	}
	retention := cmp.Or(w.Retention, DefaultNoticeRetention)
	n, err := w.Sweeper.SweepNotices(ctx, retention)
	if n > 0 && w.Log != nil {
		w.Log.Info("notices past their retention deleted", slog.Int64("count", n), slog.Duration("retention", retention))
	}
	return errors.Join(lerr, err)
}
