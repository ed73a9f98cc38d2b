package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"
)

// ExpiryCheckEvery is how often the expiry sweep looks for grants whose
// time is up. Each grant also has its own expiry job scheduled at
// issuance: the sweep ends grants within about a second of their end
// without waiting for River's scheduler (which moves due jobs in batches
// every few seconds), and the job remains the durable backstop. Ending a
// grant twice is safe (the second finds it settled).
const ExpiryCheckEvery = time.Second

// sweepConcurrency bounds the grants one sweep ends at once.
const sweepConcurrency = 32

// DueGrantLister lists active grants whose time is up (the request store).
type DueGrantLister interface {
	DueGrants(ctx context.Context, now time.Time, max int) ([]string, error)
}

// ExpireDueArgs is the periodic expiry sweep.
type ExpireDueArgs struct{}

// Kind names the job in River's tables.
func (ExpireDueArgs) Kind() string { return "expire_due" }

// InsertOpts keeps one sweep waiting or running at a time.
func (ExpireDueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: nonFinalStates}}
}

// ExpireDueWorker ends every grant whose time is up (see End), up to 2,000
// a sweep, sweepConcurrency at a time. A grant it cannot end now is left
// to the next sweep and to its own expiry job.
type ExpireDueWorker struct {
	river.WorkerDefaults[ExpireDueArgs]
	Due   DueGrantLister
	Store GrantStore
	Vault GrantVault
	Now   func() time.Time
}

// Work sweeps.
func (w *ExpireDueWorker) Work(ctx context.Context, _ *river.Job[ExpireDueArgs]) error {
	ids, err := w.Due.DueGrants(ctx, w.Now(), 2000)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
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
			_ = End(ctx, w.Store, w.Vault, t, false, "system")
		}()
	}
	wg.Wait()
	return nil
}
