package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// ExpireGrantArgs ends a grant at its expiry (scheduled at issuance).
type ExpireGrantArgs struct {
	TenantID  string `json:"tenant_id"`
	RequestID string `json:"request_id"`
}

// Kind names the job in River's tables.
func (ExpireGrantArgs) Kind() string { return "expire_grant" }

// InsertOpts keeps one expiry per grant.
func (ExpireGrantArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAccess, MaxAttempts: 50, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// GrantTarget is what the workers need to mint or end one grant.
type GrantTarget struct {
	RequestID  string
	TenantID   string
	TenantSlug string
	Subject    string
	Mount      string
	Path       string
	BindingID  string // a cloud store binding; "" for the tenant's Vault mount
	Write      bool
	Duration   time.Duration
	Accessor   string // the current token's, "" before the holder took one
	// Retired are the accessors of tokens the holder's later ones replaced
	// whose revocation is not verified yet: ending the grant revokes them too.
	Retired    []string
	Email      string // the holder's
	Resource   string // the resource's name
	ExpiresAt  time.Time
	BreakGlass bool // an emergency grant (reviewed afterwards)
	Drill      bool // a break-glass drill
	Rotate     bool // rotate the secret when the window ends (break-glass only)
	Rotated    bool // the rotation is done
}

// Spec returns the Vault grant spec of t.
func (t GrantTarget) Spec() vault.GrantSpec {
	return vault.GrantSpec{GrantID: t.RequestID, Tenant: t.TenantSlug, Subject: t.Subject, Mount: t.Mount, Path: t.Path, Write: t.Write, TTL: t.Duration}
}

// Accessors returns the accessors of every token of t that may live: the
// current one and the retired ones.
func (t GrantTarget) Accessors() []string {
	out := make([]string, 0, len(t.Retired)+1)
	if t.Accessor != "" {
		out = append(out, t.Accessor)
	}
	return append(out, t.Retired...)
}

// ErrSettled is returned by a GrantStore when the job has nothing left to
// do (the grant is issued or ended already): the job then succeeds.
var ErrSettled = errors.New("grant already settled")

// GrantStore moves grants through their lifecycle, each step with its audit
// event in one transaction (implemented by the postgres adapter).
type GrantStore interface {
	// StartIssuing moves an approved (or failed) request to issuing.
	StartIssuing(ctx context.Context, requestID string) (GrantTarget, error)
	// FinishIssuing makes the grant active until expiresAt and schedules
	// its expiry job in the same transaction.
	FinishIssuing(ctx context.Context, requestID string, expiresAt time.Time) error
	// FailIssuing moves the request to failed with reason.
	FailIssuing(ctx context.Context, requestID, reason string) error
	// Ending returns an active grant's target, or ErrSettled.
	Ending(ctx context.Context, requestID string) (GrantTarget, error)
	// FinishEnding records the grant ended as expired (or revoked).
	FinishEnding(ctx context.Context, requestID string, revoked bool, actor string) error
	// RecordRotation records the secret rotated to version when a
	// break-glass window ended (version 0: the rotation failed for good).
	RecordRotation(ctx context.Context, requestID string, version string) error
}

// GrantVault is what the workers need of Vault.
type GrantVault interface {
	WriteGrantPolicy(ctx context.Context, g vault.GrantSpec) error
	RevokeGrant(ctx context.Context, grantID, accessor string) error
	RevokeToken(ctx context.Context, accessor string) error
	VerifyGrantDead(ctx context.Context, grantID, accessor string) error
	VerifyTokenDead(ctx context.Context, grantID, accessor string) error
	LiveGrantPolicies(ctx context.Context, grantIDs []string) ([]string, error)
	RevokeMountTokens(ctx context.Context, mount string) error
	RotateSecret(ctx context.Context, grantID, tenant, mount, path string) (int, error)
}

// Issue makes the grant of t (a request in issuing) active: its
// path-confined Vault policy, then the grant recorded active until now +
// its duration with its expiry scheduled. It is shared by the issue job and
// break-glass, which issues at once. A grant issued already is not an error.
func Issue(ctx context.Context, store GrantStore, v GrantVault, t GrantTarget, now time.Time) error {
	if t.BindingID != "" {
		if err := prepareCloud(ctx, v, t); err != nil {
			return err
		}
	} else if err := v.WriteGrantPolicy(ctx, t.Spec()); err != nil {
		return err
	}
	err := store.FinishIssuing(ctx, t.RequestID, now.Add(t.Duration))
	if errors.Is(err, ErrNotIssuable) {
		if t.BindingID != "" {
			return endCloud(ctx, v, t)
		}
		return v.RevokeGrant(ctx, t.RequestID, "") // no token was minted; the policy goes
	}
	if errors.Is(err, ErrSettled) {
		return nil
	}
	return err
}

// End ends the active grant of t (cut), then records it expired, or
// revoked by actor. Shared by the expiry job and early
// relinquish; running it again is safe.
func End(ctx context.Context, store GrantStore, v GrantVault, t GrantTarget, revoked bool, actor string) error {
	if err := cut(ctx, store, v, t, v.VerifyGrantDead); err != nil {
		return err
	}
	err := store.FinishEnding(ctx, t.RequestID, revoked, actor)
	if errors.Is(err, ErrSettled) {
		return nil
	}
	return err
}

// cut ends the credentials of the grant of t, leaving the grant's record
// to the caller: every token revoked (the retired ones too, each verified
// dead) and the policy deleted, then verify run on them (a cloud grant: its
// own credentials ended and verified), then
// the secret rotated when the grant asks for it — once: a permanent
// rotation failure is recorded, not retried. Running it again is safe.
//
// verify is v.VerifyGrantDead (token and policy), or, in a revocation,
// v.VerifyTokenDead: the revocation verifies its batches' policies gone
// with one listing each (recordDead).
func cut(ctx context.Context, store GrantStore, v GrantVault, t GrantTarget, verify func(ctx context.Context, grantID, accessor string) error) error {
	if t.BindingID != "" {
		if err := endCloud(ctx, v, t); err != nil {
			return err
		}
	} else {
		if err := revokeRetired(ctx, v, t); err != nil {
			return err
		}
		if err := v.RevokeGrant(ctx, t.RequestID, t.Accessor); err != nil {
			return err
		}
		if err := verify(ctx, t.RequestID, t.Accessor); err != nil {
			return err
		}
	}
	return rotateIfAsked(ctx, store, v, t)
}

// revokeRetired revokes the retired tokens of t's Vault grant and verifies
// each dead (an already revoked one is not an error).
func revokeRetired(ctx context.Context, v GrantVault, t GrantTarget) error {
	for _, a := range t.Retired {
		if err := v.RevokeToken(ctx, a); err != nil {
			return fmt.Errorf("grant %s: revoking a replaced token: %w", t.RequestID, err)
		}
		if err := v.VerifyTokenDead(ctx, t.RequestID, a); err != nil {
			return err
		}
	}
	return nil
}

// rotateIfAsked rotates the secret of t's grant, its credentials verified
// dead, when the grant asks for it and it is not rotated yet (see cut).
func rotateIfAsked(ctx context.Context, store GrantStore, v GrantVault, t GrantTarget) error {
	if !t.Rotate || t.Rotated {
		return nil
	}
	version, err := rotate(ctx, v, t)
	if err != nil && !vault.IsPermanent(err) && !isPermanent(err) {
		return fmt.Errorf("rotating the secret: %w", err)
	}
	if err != nil {
		version = "0"
	}
	return store.RecordRotation(ctx, t.RequestID, version)
}

// IssueGrantWorker makes an approved request's grant: its path-confined
// Vault policy, then the active grant with its expiry scheduled. While Vault
// is unreachable the request stays "issuing" and River retries with
// backoff; a permanent error (or the last attempt) marks it failed with
// the reason.
type IssueGrantWorker struct {
	river.WorkerDefaults[IssueGrantArgs]
	Store GrantStore
	Vault GrantVault
	Now   func() time.Time
	Log   *slog.Logger // optional: the full error of a grant that failed
}

// failureReason is what the requester, the audit trail and the notice say
// when a grant cannot be issued: plain words with the store's reason,
// never a URL or an address (the full error goes to the log).
func failureReason(err error) string {
	switch {
	case vault.Refusal(err) != "":
		return "Vault refused the grant (" + vault.Refusal(err) + "). Ask your organization's admins to check Gatehouse's access to Vault."
	case errors.Is(err, ErrNoCloudStores):
		return "This Gatehouse is not connected to cloud secret stores."
	case errors.Is(err, secretstores.ErrPermission):
		return "The cloud secret store refused Gatehouse (permission denied). Ask your organization's admins to check Gatehouse's access."
	case errors.Is(err, secretstores.ErrNotFound):
		return "The secret is no longer in the cloud secret store."
	case errors.Is(err, secretstores.ErrInvalid), errors.Is(err, secretstores.ErrBrokered):
		return "The cloud secret store cannot grant access to this secret."
	}
	return "The secret store did not answer after repeated attempts."
}

// Work issues one grant.
func (w *IssueGrantWorker) Work(ctx context.Context, job *river.Job[IssueGrantArgs]) error {
	t, err := w.Store.StartIssuing(ctx, job.Args.RequestID)
	if errors.Is(err, ErrSettled) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := Issue(ctx, w.Store, w.Vault, t, w.Now()); err != nil {
		if vault.IsPermanent(err) || isPermanent(err) || job.Attempt >= job.MaxAttempts {
			if w.Log != nil {
				w.Log.Warn("grant not issued", slog.String("request", t.RequestID), slog.String("error", err.Error()))
			}
			return w.Store.FailIssuing(ctx, t.RequestID, failureReason(err))
		}
		return fmt.Errorf("issuing the grant (attempt %d): %w", job.Attempt, err)
	}
	return nil
}

// ExpireGrantWorker ends a grant at its expiry (see End). It retries while
// Vault is unreachable; Vault's own TTL ends the token anyway.
type ExpireGrantWorker struct {
	river.WorkerDefaults[ExpireGrantArgs]
	Store GrantStore
	Vault GrantVault
}

// Work ends one grant.
func (w *ExpireGrantWorker) Work(ctx context.Context, job *river.Job[ExpireGrantArgs]) error {
	t, err := w.Store.Ending(ctx, job.Args.RequestID)
	if errors.Is(err, ErrSettled) {
		return nil
	}
	if err != nil {
		return err
	}
	return End(ctx, w.Store, w.Vault, t, false, "system")
}

// TimeoutRequestsArgs is the periodic sweep closing requests nobody decided in time.
type TimeoutRequestsArgs struct{}

// Kind names the job in River's tables.
func (TimeoutRequestsArgs) Kind() string { return "timeout_requests" }

// PendingSweeper closes timed-out requests (implemented by the postgres adapter).
type PendingSweeper interface {
	TimeOutPending(ctx context.Context) (int, error)
}

// TimeoutRequestsWorker runs the sweep.
type TimeoutRequestsWorker struct {
	river.WorkerDefaults[TimeoutRequestsArgs]
	Sweeper PendingSweeper
}

// Work closes the requests past their pending timeout.
func (w *TimeoutRequestsWorker) Work(ctx context.Context, _ *river.Job[TimeoutRequestsArgs]) error {
	_, err := w.Sweeper.TimeOutPending(ctx)
	return err
}

// RemindArgs reminds a holder that their grant ends soon (scheduled at issuance).
type RemindArgs struct {
	TenantID  string `json:"tenant_id"`
	RequestID string `json:"request_id"`
}

// Kind names the job in River's tables.
func (RemindArgs) Kind() string { return "remind_expiry" }

// RemindBefore is how long before the end a holder is reminded: a quarter
// of the grant, at most 15 minutes.
func RemindBefore(d time.Duration) time.Duration { return min(d/4, 15*time.Minute) }

// RemindWorker reminds the holder, if the grant is still active.
type RemindWorker struct {
	river.WorkerDefaults[RemindArgs]
	Store    GrantStore
	Channels Channels
}

// Work sends the reminder.
func (w *RemindWorker) Work(ctx context.Context, job *river.Job[RemindArgs]) error {
	t, err := w.Store.Ending(ctx, job.Args.RequestID)
	if errors.Is(err, ErrSettled) {
		return nil
	}
	if err != nil {
		return err
	}
	m, notSent, err := w.Channels.MailerFor(ctx, job.Args.TenantID)
	if err != nil || notSent != "" {
		return err // nowhere to send: nothing to retry
	}
	return m.Send(ctx, []string{t.Email}, notify.Message{Subject: "Access ends soon: " + t.Resource,
		Text: "Your access ends at " + t.ExpiresAt.UTC().Format(time.RFC1123) + ".", Link: "/grants"})
}

// SweepSessionsArgs is the periodic deletion of ended sessions.
type SweepSessionsArgs struct{}

// Kind names the job in River's tables.
func (SweepSessionsArgs) Kind() string { return "sweep_sessions" }

// SessionSweeper deletes ended sessions (implemented by the postgres adapter).
type SessionSweeper interface {
	SweepSessions(ctx context.Context, idle time.Duration) (int64, error)
}

// SweepSessionsWorker runs the sweep.
type SweepSessionsWorker struct {
	river.WorkerDefaults[SweepSessionsArgs]
	Sweeper SessionSweeper
	Idle    time.Duration
}

// Work deletes the sessions that have ended.
func (w *SweepSessionsWorker) Work(ctx context.Context, _ *river.Job[SweepSessionsArgs]) error {
	_, err := w.Sweeper.SweepSessions(ctx, w.Idle)
	return err
}

// EscalateReviewsArgs is the periodic escalation of overdue break-glass reviews.
type EscalateReviewsArgs struct{}

// Kind names the job in River's tables.
func (EscalateReviewsArgs) Kind() string { return "escalate_reviews" }

// ReviewEscalator escalates overdue reviews (implemented by the postgres adapter).
type ReviewEscalator interface {
	EscalateOverdue(ctx context.Context) (int, error)
}

// EscalateReviewsWorker runs the escalation.
type EscalateReviewsWorker struct {
	river.WorkerDefaults[EscalateReviewsArgs]
	Escalator ReviewEscalator
}

// Work escalates the overdue reviews.
func (w *EscalateReviewsWorker) Work(ctx context.Context, _ *river.Job[EscalateReviewsArgs]) error {
	_, err := w.Escalator.EscalateOverdue(ctx)
	return err
}
