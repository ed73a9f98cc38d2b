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
