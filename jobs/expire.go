package jobs

import (
	"context"
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
	ExpiryBackstop   = 5 * time.Minute
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
	return river.InsertOpts{Queue: QueueAccess, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: nonFinalStates()}}
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

// Work sweeps: sweepConcurrency workers end grants while a feeder keeps
// handing them the grants falling due, for at most sweepFor. A grant that
// could not be ended is not tried again in this sweep: the next sweep and
// its own job take it.
func (w *ExpireDueWorker) Work(ctx context.Context, _ *river.Job[ExpireDueArgs]) error {
	work := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	busy := map[string]bool{} // handed out and not finished
	for range sweepConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if t, err := w.Store.Ending(ctx, id); err == nil {
					_ = End(ctx, w.Store, w.Vault, t, false, "system")
				}
				mu.Lock()
				delete(busy, id)
				mu.Unlock()
			}
		}()
	}
	defer func() { close(work); wg.Wait() }()
	tried := map[string]bool{}
	for start := time.Now(); time.Since(start) < sweepFor; {
		ids, err := w.Due.DueGrants(ctx, 2*sweepConcurrency)
		if err != nil {
			return err
		}
		handed := 0
		for _, id := range ids {
			if tried[id] {
				continue
			}
			tried[id] = true
			mu.Lock()
			busy[id] = true
			mu.Unlock()
			work <- id // waits for a free worker
			handed++
		}
		if handed == 0 {
			mu.Lock()
			idle := len(busy) == 0
			mu.Unlock()
			if idle {
				return nil // nothing due and nothing in hand
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}
