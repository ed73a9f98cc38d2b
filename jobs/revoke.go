package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/sync/errgroup"
)

// RevokeScopeArgs runs an emergency revocation: enqueued in the
// transaction that blocked the scope, and again at start-up for any
// revocation a crash left unfinished.
type RevokeScopeArgs struct {
	RevocationID string `json:"revocation_id"`
}

// Kind names the job in River's tables.
func (RevokeScopeArgs) Kind() string { return "revoke_scope" }

// InsertOpts retries (a grant Vault could not revoke yet) for about a day:
// NextRetry waits at most 30 s between attempts.
func (RevokeScopeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAccess, MaxAttempts: revokeAttempts}
}

// revokeAttempts is a day of attempts at NextRetry's 30 s cap.
const revokeAttempts = 24 * 60 * 2

// RevocationPlan is what is left of a revocation.
type RevocationPlan struct {
	Pending []GrantTarget // the active grants not yet verified dead
	Rotate  *GrantTarget  // the secret to rotate afterwards (resource scope), or nil
	// Mounts are Vault mounts whose every token is in the scope (a tenant
	// freeze: the tenant's mount), swept with one call each
	// (GrantVault.RevokeMountTokens) instead of one revocation per token.
	Mounts []string
}

// RevocationStore keeps revocations' progress (implemented by the postgres adapter).
type RevocationStore interface {
	// PrepareRevocation records the scope's active grants as items and
	// returns what is left; ErrSettled for a completed revocation.
	PrepareRevocation(ctx context.Context, id string) (RevocationPlan, error)
	// RecordRevoked records grants whose credentials were verified dead:
	// each one still active is ended as revoked by actor (audited) and
	// every one's item marked verified, in one transaction. Holders are
	// told when the revocation completes.
	RecordRevoked(ctx context.Context, id string, requestIDs []string, actor string) error
	// RecordRevocationItem records a grant's failure to be verified dead.
	RecordRevocationItem(ctx context.Context, id, requestID, failure string) error
	// FinishRevocation completes it, tells and audits every organization affected.
	FinishRevocation(ctx context.Context, id string, rotated []string) error
	// RunningRevocations lists the unfinished ones.
	RunningRevocations(ctx context.Context) ([]string, error)
}

// RevokeConcurrency is how many grants a revocation ends at once unless
// configured otherwise (GATEHOUSE_REVOKE_CONCURRENCY): enough to keep a
// local Vault busy; a Vault far away, where each call waits on the
// network, is served better by more.
const RevokeConcurrency = 8

// MaxRevokeConcurrency bounds the configured concurrency.
const MaxRevokeConcurrency = 256

// recordBatch bounds how many grants one policy listing verifies and one
// transaction records, and recordWindow how long a batch waits to fill
// (progress shows at most that much late). A listing costs the same for one
// grant as for a thousand, so batches are large.
const (
	recordBatch  = 1024
	recordWindow = 250 * time.Millisecond
)

// RevokeScopeWorker revokes every credential of a revocation's scope in
// parallel (bounded), verifying each dead, recording each outcome;
// failures are retried with backoff (capped at 30 s) until all are dead,
// then the secret is rotated where asked and the revocation completed.
// Interrupted anywhere, a later run resumes with what is left.
type RevokeScopeWorker struct {
	river.WorkerDefaults[RevokeScopeArgs]
	Revocations RevocationStore
	Grants      GrantStore
	Vault       GrantVault
	Concurrency int // grants ended at once (at least 1)
}

// NextRetry retries soon: an emergency must not wait minutes for backoff.
func (w *RevokeScopeWorker) NextRetry(job *river.Job[RevokeScopeArgs]) time.Time {
	return time.Now().Add(min(time.Duration(1<<min(job.Attempt, 5))*time.Second, 30*time.Second))
}

// Work runs the revocation.
func (w *RevokeScopeWorker) Work(ctx context.Context, job *river.Job[RevokeScopeArgs]) error {
	return RunRevocation(ctx, w.Revocations, w.Grants, w.Vault, w.Concurrency, job.Args.RevocationID)
}

// RunRevocation does one pass of revocation id: it is what the job runs,
// and what `gatehouse revoke` runs in the foreground. concurrency workers
// (at least 1) cut the grants' credentials, each token verified dead by lookup
// (see cutAll); the policies are verified gone by listing them, once for a
// freeze's swept grants and once per recorder batch for the others, and one
// recorder writes the grants verified dead in batches (recordDead), so
// neither Vault nor PostgreSQL needs a call per grant for it. A failure is recorded per grant. It
// returns an error while any grant is not yet verified dead and recorded
// (run it again to resume: what is left is done again, safely).
func RunRevocation(ctx context.Context, rs RevocationStore, gs GrantStore, v GrantVault, concurrency int, id string) error {
	plan, err := rs.PrepareRevocation(ctx, id)
	if errors.Is(err, ErrSettled) {
		return nil
	}
	if err != nil {
		return err
	}
	actor := "system (revocation " + id + ")"
	dead := make(chan deadGrant, recordBatch)
	type recording struct {
		failed []error
		err    error
	}
	recorded := make(chan recording, 1)
	go func() {
		failed, err := recordDead(context.WithoutCancel(ctx), rs, v, id, actor, dead)
		recorded <- recording{failed, err}
	}()
	var mu sync.Mutex
	var failed []error
	settle := func(t GrantTarget, policyGone bool, err error) {
		if err == nil {
			dead <- deadGrant{RequestID: t.RequestID, PolicyGone: policyGone}
			return
		}
		if rerr := rs.RecordRevocationItem(context.WithoutCancel(ctx), id, t.RequestID, err.Error()); rerr != nil {
			err = errors.Join(err, rerr)
		}
		mu.Lock()
		failed = append(failed, err)
		mu.Unlock()
	}
	cutAll(ctx, gs, v, plan, concurrency, settle)
	close(dead)
	rec := <-recorded
	if rec.err != nil {
		return fmt.Errorf("recording grants verified dead: %w", rec.err)
	}
	failed = append(failed, rec.failed...)
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d grants not yet verified dead (retrying): %w", len(failed), len(plan.Pending), failed[0])
	}
	var rotated []string
	if t := plan.Rotate; t != nil {
		version, err := rotate(ctx, v, *t)
		if err != nil {
			return fmt.Errorf("rotating %s/%s: %w", t.Mount, t.Path, err)
		}
		rotated = append(rotated, fmt.Sprintf("%s/%s@%s", t.Mount, t.Path, version))
	}
	return rs.FinishRevocation(ctx, id, rotated)
}

// cutAll ends the credentials of every pending grant of plan, at most
// concurrency (at least 1) at once, and passes each grant's outcome to
// settle, saying whether its policy is verified gone already. The tokens of
// the plan's Mounts are revoked by Vault in one call per mount while the
// workers delete those grants' policies and cut the other grants; while the
// sweep still runs, one listing verifies the deleted policies gone (so the
// recorder need not list for them). Then each swept token is looked up, and
// cut on its own (revoked, its policy deleted again) only if it still lives
// (minted without the mount's role, or the sweep failed) or its policy was
// not verified gone. The sweep saves calls; it is never what verifies a
// token dead.
func cutAll(ctx context.Context, gs GrantStore, v GrantVault, plan RevocationPlan, concurrency int, settle func(t GrantTarget, policyGone bool, err error)) {
	swept, rest := partitionSwept(plan)
	sweeping := make(chan struct{})
	go func() {
		defer close(sweeping)
		for _, m := range plan.Mounts {
			_ = v.RevokeMountTokens(ctx, m) // any token it missed is revoked on its own below
		}
	}()
	unpolicied := make([]error, len(swept))
	each(concurrency, len(swept)+len(rest), func(i int) {
		if i < len(swept) {
			unpolicied[i] = v.RevokeGrant(ctx, swept[i].RequestID, "") // the policy only
			return
		}
		t := rest[i-len(swept)]
		settle(t, false, cut(ctx, gs, v, t, v.VerifyTokenDead))
	})
	gone := policiesGone(ctx, v, swept, unpolicied)
	<-sweeping
	each(concurrency, len(swept), func(i int) {
		t := swept[i]
		if gone[i] && tokensDead(ctx, v, t) {
			settle(t, true, rotateIfAsked(ctx, gs, v, t))
			return
		}
		settle(t, gone[i], cut(ctx, gs, v, t, v.VerifyTokenDead))
	})
}

// tokensDead reports whether every token of t (the retired ones too) is
// verified dead by lookup.
func tokensDead(ctx context.Context, v GrantVault, t GrantTarget) bool {
	for _, a := range t.Accessors() {
		if v.VerifyTokenDead(ctx, t.RequestID, a) != nil {
			return false
		}
	}
	return true
}

// policiesGone says, for each grant of ts, whether its policy was deleted
// (deleteErrs[i] is nil) and one listing shows it gone; a failed listing
// verifies none.
func policiesGone(ctx context.Context, v GrantVault, ts []GrantTarget, deleteErrs []error) []bool {
	gone := make([]bool, len(ts))
	if len(ts) == 0 {
		return gone
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.RequestID
	}
	live, err := v.LiveGrantPolicies(ctx, ids)
	if err != nil {
		return gone
	}
	alive := make(map[string]bool, len(live))
	for _, id := range live {
		alive[id] = true
	}
	for i, t := range ts {
		gone[i] = deleteErrs[i] == nil && !alive[t.RequestID]
	}
	return gone
}

// partitionSwept splits the plan's pending grants into those whose tokens
// the sweep of plan.Mounts ends (Vault grants on those mounts) and the rest.
func partitionSwept(plan RevocationPlan) (swept, rest []GrantTarget) {
	for _, t := range plan.Pending {
		if t.BindingID == "" && slices.Contains(plan.Mounts, t.Mount) {
			swept = append(swept, t)
		} else {
			rest = append(rest, t)
		}
	}
	return swept, rest
}

// each runs fn(0) … fn(n-1), at most concurrency (at least 1) at once, and
// returns when all have.
func each(concurrency, n int, fn func(i int)) {
	var g errgroup.Group
	g.SetLimit(max(concurrency, 1))
	for i := range n {
		g.Go(func() error { fn(i); return nil })
	}
	_ = g.Wait()
}

// deadGrant is a grant whose token was verified dead; PolicyGone says its
// policy was verified gone too.
type deadGrant struct {
	RequestID  string
	PolicyGone bool
}

// recordDead records the grants sent on dead as they come, in batches of
// what arrives within recordWindow of a batch's first. For each batch whose
// grants' policies are not all verified gone already, it lists the
// policies once: a grant whose policy still exists (or every such grant,
// when the listing fails) is recorded as failed; the rest are recorded as
// revoked in one transaction. It returns those failures, and the first
// error writing, after which it drains dead without writing.
func recordDead(ctx context.Context, rs RevocationStore, v GrantVault, id, actor string, dead <-chan deadGrant) ([]error, error) {
	var failed []error
	var first error
	batch := make([]deadGrant, 0, recordBatch)
	for g := range dead {
		batch = append(batch[:0], g)
		window := time.After(recordWindow)
	more:
		for len(batch) < recordBatch {
			select {
			case g, ok := <-dead:
				if !ok {
					break more
				}
				batch = append(batch, g)
			case <-window:
				break more
			}
		}
		if first != nil {
			continue
		}
		var ids, unverified []string
		for _, g := range batch {
			ids = append(ids, g.RequestID)
			if !g.PolicyGone {
				unverified = append(unverified, g.RequestID)
			}
		}
		var live []string
		reason := "its policy still exists"
		if len(unverified) > 0 {
			var err error
			if live, err = v.LiveGrantPolicies(ctx, unverified); err != nil {
				live, reason = unverified, "verifying its policy deleted: "+err.Error()
			}
		}
		for _, reqID := range live {
			f := fmt.Errorf("grant %s: %s", reqID, reason)
			failed = append(failed, f)
			if first = rs.RecordRevocationItem(ctx, id, reqID, f.Error()); first != nil {
				break
			}
		}
		ids = slices.DeleteFunc(ids, func(r string) bool { return slices.Contains(live, r) })
		if first == nil && len(ids) > 0 {
			first = rs.RecordRevoked(ctx, id, ids, actor)
		}
	}
	return failed, first
}

// ResumeRevocations enqueues a run of every unfinished revocation (at
// start-up: a run a crash interrupted continues where it stopped; two runs
// of one revocation are safe).
func ResumeRevocations(ctx context.Context, rs RevocationStore, c Inserter) error {
	ids, err := rs.RunningRevocations(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := c.Insert(ctx, RevokeScopeArgs{RevocationID: id}, nil); err != nil {
			return err
		}
	}
	return nil
}
