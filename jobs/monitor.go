package jobs

import (
	"context"

	"github.com/riverqueue/river"
)

// ScanAuditArgs is the periodic run of the access monitor over the audit
// events written since the last run.
type ScanAuditArgs struct{}

// Kind names the job in River's tables.
func (ScanAuditArgs) Kind() string { return "scan_audit" }

// Scanner evaluates the monitor's rules on new audit events (the postgres adapter).
type Scanner interface {
	ScanAudit(ctx context.Context, batch int) (int, error)
}

// ScanBatch is how many events one scan evaluates.
const ScanBatch = 1000

// ScanAuditWorker runs the scan.
type ScanAuditWorker struct {
	river.WorkerDefaults[ScanAuditArgs]
	Scanner Scanner
}

// Work scans one batch.
func (w *ScanAuditWorker) Work(ctx context.Context, _ *river.Job[ScanAuditArgs]) error {
	_, err := w.Scanner.ScanAudit(ctx, ScanBatch)
	return err
}

// RemindReviewsArgs is the hourly reminder of access reviews coming due.
type RemindReviewsArgs struct{}

// Kind names the job in River's tables.
func (RemindReviewsArgs) Kind() string { return "remind_reviews" }

// CampaignReminder reminds reviewers (the postgres adapter).
type CampaignReminder interface {
	RemindCampaigns(ctx context.Context) (int, error)
}

// RemindReviewsWorker sends the reminders.
type RemindReviewsWorker struct {
	river.WorkerDefaults[RemindReviewsArgs]
	Reminder CampaignReminder
}

// Work reminds.
func (w *RemindReviewsWorker) Work(ctx context.Context, _ *river.Job[RemindReviewsArgs]) error {
	_, err := w.Reminder.RemindCampaigns(ctx)
	return err
}
