package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/audit"
)

// CheckpointAuditArgs is the periodic write of every audit chain's head to
// the external anchors.
type CheckpointAuditArgs struct{}

// Kind names the job in River's tables.
func (CheckpointAuditArgs) Kind() string { return "checkpoint_audit" }

// HeadReader returns every audit chain's head as a checkpoint (the postgres adapter).
type HeadReader interface {
	AuditHeads(ctx context.Context) ([]audit.Checkpoint, error)
}

// Anchor keeps checkpoints outside the database.
type Anchor interface {
	WriteCheckpoints(ctx context.Context, cps []audit.Checkpoint) error
}

// CheckpointWorker writes the heads to every anchor; one failing anchor
// does not stop the others, and the job retries.
type CheckpointWorker struct {
	river.WorkerDefaults[CheckpointAuditArgs]
	Heads   HeadReader
	Anchors []Anchor
}

// Work writes one checkpoint.
func (w *CheckpointWorker) Work(ctx context.Context, _ *river.Job[CheckpointAuditArgs]) error {
	cps, err := w.Heads.AuditHeads(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range w.Anchors {
		errs = append(errs, a.WriteCheckpoints(ctx, cps))
	}
	return errors.Join(errs...)
}

// FileAnchor appends checkpoints to a file, one JSON line per checkpoint
// run (ship it off the machine: logs, object storage with retention).
type FileAnchor struct{ Path string }

// WriteCheckpoints appends one line.
func (f FileAnchor) WriteCheckpoints(_ context.Context, cps []audit.Checkpoint) error {
	line, err := json.Marshal(cps)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening the audit checkpoint file: %w", err)
	}
	if _, err := fh.Write(append(line, '\n')); err != nil {
		fh.Close()
		return fmt.Errorf("appending to the audit checkpoint file: %w", err)
	}
	return fh.Close()
}

// LastCheckpoints reads the last line of a checkpoint file (none: nil).
func LastCheckpoints(path string) ([]audit.Checkpoint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	lines := bytes.Split(raw, []byte("\n"))
	var cps []audit.Checkpoint
	return cps, json.Unmarshal(lines[len(lines)-1], &cps)
}
