// Package jobs holds Gatehouse's durable background jobs, run by River on
// the same PostgreSQL: job arguments (inserted by stores inside the
// transaction of the change that needs them) and their workers.
package jobs

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// IssueGrantArgs asks for the credential of an approved request to be minted.
type IssueGrantArgs struct {
	TenantID  string `json:"tenant_id"`
	RequestID string `json:"request_id"`
	// Retry marks a retry of a failed request (the retry's time, Unix
	// nanoseconds), so its job is never taken for a duplicate of the failed
	// attempt's, which may still be finishing; 0 for the first attempt.
	Retry int64 `json:"retry,omitempty"`
}

// Kind names the job in River's tables.
func (IssueGrantArgs) Kind() string { return "issue_grant" }

// InsertOpts keeps one live issue job per request and attempt, even if
// enqueued twice; a retry of a failed request is another attempt (Retry).
func (IssueGrantArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAccess, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// Inserter enqueues jobs inside a caller's transaction.
type Inserter = *river.Client[pgx.Tx]

// NewInserter returns a River client that only inserts jobs (workers run
// in the serve process). It fails on an invalid configuration.
func NewInserter(pool *pgxpool.Pool) (Inserter, error) {
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{FetchCooldown: FetchCooldown})
	if err != nil {
		return nil, fmt.Errorf("creating the job client: %w", err)
	}
	return c, nil
}
