// Package access is the just-in-time access service a grant's holder uses:
// take the grant's Vault token (response-wrapped, shown once), reveal its
// secret once, or relinquish it early. It orchestrates the request store
// and Vault; the rules of requests and decisions live in approvals.
package access

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// Store is what the service needs of the request store.
type Store interface {
	jobs.GrantStore
	Detail(ctx context.Context, tenantID, id string) (approvals.Detail, error)
	HandOverToken(ctx context.Context, tenantID, requestID, holder, accessor string, meta audit.Meta) ([]string, time.Time, error)
	ForgetRevokedTokens(ctx context.Context, tenantID, requestID, holder string, dead []string, meta audit.Meta) error
	BreakGlass(ctx context.Context, tenantID, resourceID string, who approvals.Person, e approvals.Emergency, fresh bool, meta audit.Meta) (jobs.GrantTarget, error)
	BreakGlassShared(ctx context.Context, tenantID, shareID, resourceID string, who approvals.Person, e approvals.Emergency, fresh bool, meta audit.Meta) (jobs.GrantTarget, error)
	RequestShared(ctx context.Context, tenantID, shareID, resourceID string, who approvals.Person, sub approvals.Submission, meta audit.Meta) (string, *jobs.GrantTarget, error)
	CheckNotBlocked(ctx context.Context, d approvals.Detail) error
	// RecordReveal audits a reveal after the read, or returns
	// approvals.ErrBlocked (nothing recorded) when a revocation now covers it.
	RecordReveal(ctx context.Context, d approvals.Detail, evs ...audit.Event) error
}

// Vault is what the service needs of Vault.
type Vault interface {
	jobs.GrantVault
	MintGrantToken(ctx context.Context, g vault.GrantSpec, wrapTTL time.Duration) (vault.Issued, error)
	RevealWithGrant(ctx context.Context, g vault.GrantSpec, path string) (map[string]any, error)
}

// Service serves grant holders.
type Service struct {
	Store Store
	Vault Vault
	Now   func() time.Time
	Log   *slog.Logger // optional
}

// WrapTTL is how long a handed-out wrapping token can be redeemed.
const WrapTTL = 10 * time.Minute

// Holder identifies the person acting and their tenant.
type Holder struct {
	TenantID   string
	TenantSlug string
	Person     approvals.Person
}

var errNoGrant = apperr.New(apperr.NotFound, "There is no active grant of yours with that ID.")

// activeGrant returns the request when it is the holder's own and active.
func (s *Service) activeGrant(ctx context.Context, h Holder, requestID string) (approvals.Detail, error) {
	d, err := s.Store.Detail(ctx, h.TenantID, requestID)
	if err != nil {
		return d, err
	}
	if d.Requester.Subject != h.Person.Subject || d.RequesterTenant != h.TenantID || d.State != approvals.Active {
		return d, errNoGrant
	}
	return d, nil
}

func spec(h Holder, d approvals.Detail, ttl time.Duration) vault.GrantSpec {
	return vault.GrantSpec{GrantID: d.ID, Tenant: h.TenantSlug, Subject: h.Person.Subject, Mount: d.Mount, Path: d.Path,
		Write: d.Level == approvals.ReadWrite, TTL: ttl}
}

// Token is a grant token as handed to its holder: the minted token,
// response-wrapped, and how many tokens handed out before it are still
// alive because revoking them failed just now. Gatehouse keeps their
// accessors: they are revoked when the holder takes a token again, and
// with the grant when it ends (relinquish, expiry, emergency revocation).
type Token struct {
	vault.Issued
	PreviousAlive int
}

// TakeToken mints the grant's Vault token for the rest of the grant,
// response-wrapped for WrapTTL, and replaces (revokes) any token handed out
// before. Gatehouse keeps only accessors: the new token's is recorded
// before any previous token is revoked, and a previous one stays recorded
// until verified dead, so no token it minted is ever lost track of. A
// failure to revoke a previous token does not withhold the new one (see
// Token.PreviousAlive). It returns apperr.Unavailable when Vault cannot
// mint, and the store's error (nothing handed out) when the grant is not
// the holder's active one or a revocation blocks it.
func (s *Service) TakeToken(ctx context.Context, h Holder, requestID string, meta audit.Meta) (Token, error) {
	d, err := s.activeGrant(ctx, h, requestID)
	if err != nil {
		return Token{}, err
	}
	if d.BindingID != "" {
		return Token{}, apperr.New(apperr.Invalid, "This grant is on a cloud secret: there is no Vault token for it.")
	}
	left := d.ExpiresAt.Sub(s.Now()).Truncate(time.Second)
	if left < time.Minute {
		return Token{}, apperr.New(apperr.Conflict, "Less than a minute of this grant is left: no new token is handed out.")
	}
	issued, err := s.Vault.MintGrantToken(ctx, spec(h, d, left), WrapTTL)
	if err != nil {
		return Token{}, apperr.Wrap(apperr.Unavailable, "Vault could not mint the token right now. Try again in a moment.", err)
	}
	retired, _, err := s.Store.HandOverToken(ctx, h.TenantID, requestID, h.Person.Subject, issued.Accessor, meta)
	if err != nil {
		_ = s.Vault.RevokeToken(context.WithoutCancel(ctx), issued.Accessor)
		return Token{}, err
	}
	return Token{Issued: issued, PreviousAlive: s.revokeRetired(ctx, h, requestID, retired, meta)}, nil
}

// revokeRetired revokes the holder's retired tokens (accessors), verifies
// each dead, and drops those from the grant's record; it returns how many
// may still live (their accessors stay recorded). Failures are logged
// without the accessors.
func (s *Service) revokeRetired(ctx context.Context, h Holder, requestID string, retired []string, meta audit.Meta) int {
	var dead []string
	var failure error
	for _, a := range retired {
		err := s.Vault.RevokeToken(ctx, a)
		if err == nil {
			err = s.Vault.VerifyTokenDead(ctx, requestID, a)
		}
		if err != nil {
			failure = err
			continue
		}
		dead = append(dead, a)
	}
	if len(dead) > 0 {
		if err := s.Store.ForgetRevokedTokens(context.WithoutCancel(ctx), h.TenantID, requestID, h.Person.Subject, dead, meta); err != nil {
			failure = errors.Join(failure, err) // dead all the same; revoking them again later is harmless
		}
	}
	if failure != nil && s.Log != nil {
		s.Log.Warn("a replaced grant token is not revoked yet; it stays recorded", slog.String("request", requestID),
			slog.Int("alive", len(retired)-len(dead)), slog.String("error", failure.Error()))
	}
	return len(retired) - len(dead)
}

// Reveal reads the grant's secret once for the holder, through a
// throwaway token confined to the grant, audited without the value. The
// block is checked before the read and again, with the audit, after it: a
// revocation that commits while the value is read keeps it from the holder.
func (s *Service) Reveal(ctx context.Context, h Holder, requestID string, meta audit.Meta) (map[string]any, error) {
	d, err := s.activeGrant(ctx, h, requestID)
	if err != nil {
		return nil, err
	}
	if err := s.Store.CheckNotBlocked(ctx, d); err != nil {
		return nil, err
	}
	if strings.HasSuffix(d.Path, "/") {
		return nil, apperr.New(apperr.Invalid, "This grant covers a folder of secrets: take the token and read them with Vault.")
	}
	var data map[string]any
	if d.BindingID != "" {
		data, err = s.revealCloud(ctx, d)
	} else if data, err = s.Vault.RevealWithGrant(ctx, spec(h, d, time.Minute), d.Path); err != nil {
		err = apperr.Wrap(apperr.Unavailable, "Vault could not read the secret right now. Try again in a moment.", err)
	}
	if err != nil {
		return nil, err
	}
	ev := meta.Stamp(audit.Event{TenantID: h.TenantID, Actor: h.Person.Email + " (" + h.Person.Subject + ")",
		Action: "grant.revealed", Target: requestID, Outcome: audit.Success, Detail: map[string]string{"secret": d.Mount + "/" + d.Path}})
	evs := []audit.Event{ev}
	if d.TenantID != h.TenantID { // a shared secret: the owner sees the access on its side too
		ev.TenantID, ev.Detail = d.TenantID, map[string]string{"secret": d.Mount + "/" + d.Path, "share": d.ShareID}
		evs = append(evs, ev)
	}
	if err := s.Store.RecordReveal(ctx, d, evs...); err != nil {
		return nil, err // blocked meanwhile: the value read is dropped, never shown
	}
	return data, nil
}

// Relinquish ends the holder's grant now (see jobs.End: tokens and policy
// revoked and verified dead, the secret rotated where asked, then the grant
// recorded revoked).
func (s *Service) Relinquish(ctx context.Context, h Holder, requestID string) error {
	if _, err := s.activeGrant(ctx, h, requestID); err != nil {
		return err
	}
	t, err := s.Store.Ending(ctx, requestID)
	if err != nil {
		return err
	}
	if err := jobs.End(ctx, s.Store, s.Vault, t, true, h.Person.Email+" ("+h.Person.Subject+")"); err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return err
		}
		return apperr.Wrap(apperr.Unavailable, "Vault could not end the grant right now; it still ends on time. Try again in a moment.", err)
	}
	return nil
}

// IssueApproved issues the credential of a request the caller's vote just
// approved, at once on the approver's request path, so the holder does not
// wait for a worker to pick up the grant job. That job, enqueued with the
// approval, stays the durable path: it finds the grant issued and does
// nothing, or — when this attempt fails (Vault unreachable) or the process
// dies mid-way — issues it with retries. It reports whether the grant is
// active now.
func (s *Service) IssueApproved(ctx context.Context, requestID string) bool {
	t, err := s.Store.StartIssuing(ctx, requestID)
	if err == nil {
		err = jobs.Issue(ctx, s.Store, s.Vault, t, s.Now())
	}
	if err != nil && !errors.Is(err, jobs.ErrSettled) && s.Log != nil {
		s.Log.Warn("grant issuance left to its job", slog.String("request", requestID), slog.String("error", err.Error()))
	}
	return err == nil
}
