package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
)

// ErrNotIssuable is returned by GrantStore.FinishIssuing when the grant
// may no longer be issued — its share ended, or an emergency revocation
// blocks its scope: the request is then failed with that reason, and Issue
// removes the policy it wrote.
var ErrNotIssuable = errors.New("the grant may no longer be issued")

// EndShareArgs ends every access under a share: enqueued when a side ends
// it, and scheduled at its term end when it becomes active (AtTerm).
type EndShareArgs struct {
	ShareID string `json:"share_id"`
	AtTerm  bool   `json:"at_term,omitempty"`
}

// Kind names the job in River's tables.
func (EndShareArgs) Kind() string { return "end_share" }

// InsertOpts retries while Vault is unreachable, for about a day.
func (EndShareArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAccess, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ShareStore ends shares and lists what ends with them (implemented by the
// postgres adapter).
type ShareStore interface {
	// EndShareAtTerm ends an active share whose term has ended, audited and
	// notified on both sides; ErrSettled when it is not (or no longer) due.
	EndShareAtTerm(ctx context.Context, shareID string) error
	// ShareGrantsToEnd lists the active grants under an ended share.
	ShareGrantsToEnd(ctx context.Context, shareID string) ([]string, error)
	// ShareAccessEnded records, on both sides, that every grant under the
	// ended share was revoked and verified dead.
	ShareAccessEnded(ctx context.Context, shareID string, revoked int) error
	// GrantsHeldBy lists the active grants held by members of the tenant.
	GrantsHeldBy(ctx context.Context, tenantID string) ([]string, error)
}

// EndShareWorker revokes every grant under an ended share and verifies each
// dead (jobs.End), then records it on both sides. Running it again is safe.
type EndShareWorker struct {
	river.WorkerDefaults[EndShareArgs]
	Shares ShareStore
	Grants GrantStore
	Vault  GrantVault
}

// Work ends the share's access.
func (w *EndShareWorker) Work(ctx context.Context, job *river.Job[EndShareArgs]) error {
	if job.Args.AtTerm {
		if err := w.Shares.EndShareAtTerm(ctx, job.Args.ShareID); errors.Is(err, ErrSettled) {
			return nil // ended already by a side (whose job revokes), or not due
		} else if err != nil {
			return err
		}
	}
	ids, err := w.Shares.ShareGrantsToEnd(ctx, job.Args.ShareID)
	if err != nil {
		return err
	}
	n, err := endAll(ctx, w.Grants, w.Vault, ids, "system (share ended)")
	if err != nil {
		return err
	}
	return w.Shares.ShareAccessEnded(ctx, job.Args.ShareID, n)
}

// endAll ends each active grant of ids as revoked by actor and returns how
// many it ended; the first failure stops it (the job retries the rest).
func endAll(ctx context.Context, store GrantStore, v GrantVault, ids []string, actor string) (int, error) {
	n := 0
	for _, id := range ids {
		t, err := store.Ending(ctx, id)
		if errors.Is(err, ErrSettled) {
			continue
		}
		if err != nil {
			return n, err
		}
		if err := End(ctx, store, v, t, true, actor); err != nil {
			return n, fmt.Errorf("ending grant %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

// RevokeTenantGrantsArgs ends every grant held by a suspended tenant's
// members, in its own catalog and under shares alike.
type RevokeTenantGrantsArgs struct {
	TenantID string `json:"tenant_id"`
}

// Kind names the job in River's tables.
func (RevokeTenantGrantsArgs) Kind() string { return "revoke_tenant_grants" }

// InsertOpts retries while Vault is unreachable.
func (RevokeTenantGrantsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAccess, MaxAttempts: 25}
}

// RevokeTenantGrantsWorker ends them.
type RevokeTenantGrantsWorker struct {
	river.WorkerDefaults[RevokeTenantGrantsArgs]
	Shares ShareStore
	Grants GrantStore
	Vault  GrantVault
}

// Work ends the grants.
func (w *RevokeTenantGrantsWorker) Work(ctx context.Context, job *river.Job[RevokeTenantGrantsArgs]) error {
	ids, err := w.Shares.GrantsHeldBy(ctx, job.Args.TenantID)
	if err != nil {
		return err
	}
	_, err = endAll(ctx, w.Grants, w.Vault, ids, "system (organization suspended)")
	return err
}
