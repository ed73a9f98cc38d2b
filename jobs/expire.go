package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"
)

// ExpiryCheckEvery is how often the expiry sweep looks for grants whose
// time is up. The sweep ends grants within about a second of their end
// without waiting for River's scheduler (which moves due jobs in batches
// every few seconds). Each grant also has its own expiry job, scheduled
// ExpiryBackstop after its end: the durable backstop should no sweep run
// (a job missed while Gatehouse was down runs at start-up). Ending a grant
// twice is safe (the second finds it settled), and Vault's TTL ends the
// token on time regardless.
const (
	ExpiryCheckEvery = time.Second
	ExpiryBackstop   = 30 * time.Second
)

// sweepConcurrency bounds the grants one sweep ends at once, and sweepFor
// how long one sweep keeps going.
const (
	sweepConcurrency = 48
	sweepFor         = 30 * time.Second
)

// DueGrantLister lists active grants whose time is up (the request store).
type DueGrantLister interface {
	DueGrants(ctx context.Context, max int) ([]string, error)
}

// ExpireDueArgs is the periodic expiry sweep.
type ExpireDueArgs struct{}

// Kind names the job in River's tables.
func (ExpireDueArgs) Kind() string { return "expire_due" }

// InsertOpts keeps one sweep waiting or running at a time.
func (ExpireDueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: nonFinalStates}}
}

// ExpireDueWorker ends every grant whose time is up (see End),
// sweepConcurrency at a time. A grant it cannot end now is left to the
// next sweep and to its own expiry job.
type ExpireDueWorker struct {
	river.WorkerDefaults[ExpireDueArgs]
	Due   DueGrantLister
	Store GrantStore
	Vault GrantVault
}

// Work sweeps: it keeps taking the grants that are due (500 at a time)
// until none are left, for at most sweepFor, so grants falling due while
// it works do not wait for the next sweep.
func (w *ExpireDueWorker) Work(ctx context.Context, _ *river.Job[ExpireDueArgs]) error {
	start := time.Now()
	for time.Since(start) < sweepFor {
		ids, err := w.Due.DueGrants(ctx, 500)
		if err != nil || len(ids) == 0 {
			return err
		}
		ended := w.end(ctx, ids)
		if ended == 0 {
			return nil // none could be ended now: left to the next sweep and their own jobs
		}
	}
	return nil
}

// end ends the grants of ids, sweepConcurrency at a time, and returns how
// many it ended.
func (w *ExpireDueWorker) end(ctx context.Context, ids []string) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ended := 0
	sem := make(chan struct{}, sweepConcurrency)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			t, err := w.Store.Ending(ctx, id)
			if errors.Is(err, ErrSettled) || err != nil {
				return // settled already, or left to the next sweep and the grant's own job
			}
			if End(ctx, w.Store, w.Vault, t, false, "system") == nil {
				mu.Lock()
				ended++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ended
}
