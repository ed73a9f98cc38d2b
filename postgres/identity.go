package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// IdentityStore keeps login attempts and sessions. It implements
// identity.Store and identity.Directory.
type IdentityStore struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewIdentityStore returns a store over pool; now stamps audit events.
func NewIdentityStore(pool *pgxpool.Pool, now func() time.Time) *IdentityStore {
	return &IdentityStore{pool: pool, now: now}
}

// SignInConfig returns the tenant slug's sign-in configuration, or apperr.NotFound.
func (s *IdentityStore) SignInConfig(ctx context.Context, slug string) (identity.TenantConfig, error) {
	q := db.New(s.pool)
	r, err := q.GetSignInConfig(ctx, slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.TenantConfig{}, apperr.New(apperr.NotFound, "There is no organization called "+slug+" on Gatehouse.")
	}
	if err != nil {
		return identity.TenantConfig{}, apperr.Wrap(apperr.Unavailable, "Sign-in is unavailable right now.", err)
	}
	rows, err := q.ListRoleMappings(ctx, r.ID)
	if err != nil {
		return identity.TenantConfig{}, apperr.Wrap(apperr.Unavailable, "Sign-in is unavailable right now.", err)
	}
	tc := identity.TenantConfig{
		TenantID: r.ID.String(), Slug: r.Slug, Name: r.DisplayName, Status: tenants.Status(r.Status),
		IdP: tenants.IdentityProvider{
			IssuerURL: r.IssuerUrl, ClientID: r.ClientID, ClientSecretRef: r.ClientSecretRef, Scopes: r.Scopes,
			GroupsClaim: r.GroupsClaim, RequireEmailVerified: r.RequireEmailVerified, StepUpACR: r.StepUpAcr,
			Enabled: r.IdpStatus == "enabled",
		},
	}
	for _, m := range rows {
		tc.Mappings = append(tc.Mappings, tenants.RoleMapping{Group: m.IdpGroup, Role: tenants.Role(m.Role)})
	}
	return tc, nil
}

// SaveAttempt stores a new login attempt.
func (s *IdentityStore) SaveAttempt(ctx context.Context, a identity.Attempt) error {
	tid, err := uuid.Parse(a.TenantID)
	if err != nil {
		return fmt.Errorf("tenant id: %w", err)
	}
	q := db.New(s.pool)
	if err := q.DeleteExpiredLoginAttempts(ctx, a.CreatedAt); err != nil { // housekeeping: attempts are single-use and short-lived
		return err
	}
	return q.InsertLoginAttempt(ctx, db.InsertLoginAttemptParams{
		IDHash: a.IDHash, TenantID: tid, State: a.State, Nonce: a.Nonce, PkceVerifier: a.Verifier,
		ReturnTo: a.ReturnTo, StepUp: a.StepUp, Test: a.Test, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt,
	})
}

// ConsumeAttempt marks the attempt used and returns it, or apperr.NotFound
// when it is unknown, used or expired. Two concurrent callbacks with the
// same attempt cannot both succeed: the update is conditional.
func (s *IdentityStore) ConsumeAttempt(ctx context.Context, idHash []byte, now time.Time) (identity.Attempt, error) {
	r, err := db.New(s.pool).ConsumeLoginAttempt(ctx, db.ConsumeLoginAttemptParams{IDHash: idHash, Now: now})
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Attempt{}, apperr.New(apperr.NotFound, "no such login attempt")
	}
	if err != nil {
		return identity.Attempt{}, err
	}
	return identity.Attempt{
		IDHash: r.IDHash, TenantID: r.TenantID.String(), State: r.State, Nonce: r.Nonce, Verifier: r.PkceVerifier,
		ReturnTo: r.ReturnTo, StepUp: r.StepUp, Test: r.Test, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
	}, nil
}

// CreateSession stores a session and its audit event in one transaction,
// or refuses (apperr.Forbidden, nothing stored) a person an unlifted user
// revocation covers in the tenant.
func (s *IdentityStore) CreateSession(ctx context.Context, idHash []byte, sess identity.Session, meta audit.Meta, ev audit.Event) error {
	tid, err := uuid.Parse(sess.TenantID)
	if err != nil {
		return fmt.Errorf("tenant id: %w", err)
	}
	roles := make([]string, len(sess.Roles))
	for i, r := range sess.Roles {
		roles[i] = string(r)
	}
	// Ordered against revocations: a person revoked in the tenant gets
	// no new session once the revocation (which ends theirs) commits.
	return accessTx(ctx, s.pool, func(q *db.Queries, _ pgx.Tx) error {
		blocked, err := q.UserBlocked(ctx, db.UserBlockedParams{Email: sess.Email, TenantID: tid})
		if err != nil {
			return err
		}
		if blocked {
			return errRevokedPerson
		}
		if err := q.InsertSession(ctx, db.InsertSessionParams{
			IDHash: idHash, TenantID: tid, Subject: sess.Subject, Email: sess.Email, DisplayName: sess.Name,
			Groups: nonNil(sess.Groups), Roles: roles, Issuer: sess.Issuer, AuthTime: sess.AuthTime, StepUp: sess.StepUp,
			CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeen, ExpiresAt: sess.ExpiresAt,
			Ip: meta.IP, UserAgent: meta.UserAgent,
		}); err != nil {
			return err
		}
		if err := q.UpsertMember(ctx, db.UpsertMemberParams{
			TenantID: tid, Subject: sess.Subject, Email: sess.Email, DisplayName: sess.Name,
			Groups: nonNil(sess.Groups), Roles: roles, At: sess.CreatedAt,
		}); err != nil {
			return err
		}
		return s.insertEvent(ctx, q, ev)
	})
}

var errRevokedPerson = apperr.New(apperr.Forbidden,
	"Your access here was cut by an emergency revocation, so you cannot sign in. Ask your security team.")

// LookupSession returns the session, and whether its tenant is active and
// its IdP enabled, or apperr.NotFound.
func (s *IdentityStore) LookupSession(ctx context.Context, idHash []byte) (identity.Session, bool, error) {
	r, err := db.New(s.pool).GetSession(ctx, idHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Session{}, false, apperr.New(apperr.NotFound, "no such session")
	}
	if err != nil {
		return identity.Session{}, false, apperr.Wrap(apperr.Unavailable, "Gatehouse cannot check your session right now.", err)
	}
	roles := make([]tenants.Role, len(r.Roles))
	for i, x := range r.Roles {
		roles[i] = tenants.Role(x)
	}
	return identity.Session{
		Identity: identity.Identity{
			TenantID: r.TenantID.String(), TenantSlug: r.TenantSlug, TenantName: r.TenantName, Subject: r.Subject,
			Email: r.Email, Name: r.DisplayName, Groups: r.Groups, Roles: roles, Issuer: r.Issuer, AuthTime: r.AuthTime,
			StepUp: r.StepUp,
		},
		Ref: r.Ref.String(), CreatedAt: r.CreatedAt, LastSeen: r.LastSeenAt, LastIP: r.LastIp, ExpiresAt: r.ExpiresAt,
	}, r.Allowed, nil
}

// TouchSession records activity on the session at now, from the client
// address ip.
func (s *IdentityStore) TouchSession(ctx context.Context, idHash []byte, now time.Time, ip string) error {
	return db.New(s.pool).TouchSession(ctx, db.TouchSessionParams{IDHash: idHash, Now: now, Ip: ip})
}

// DeleteSession deletes the session, writing ev (if any) in the same transaction.
func (s *IdentityStore) DeleteSession(ctx context.Context, idHash []byte, ev *audit.Event) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.DeleteSession(ctx, idHash); err != nil {
			return err
		}
		if ev != nil {
			return s.insertEvent(ctx, q, *ev)
		}
		return nil
	})
}

// OwnSessions returns subject's sessions in tenantID active in w, newest
// first, each named by its opaque ref (never its id_hash). It fails when
// tenantID is not a UUID or the database cannot be read.
func (s *IdentityStore) OwnSessions(ctx context.Context, tenantID, subject string, w identity.Window) ([]identity.OwnSession, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenant id: %w", err)
	}
	rows, err := db.New(s.pool).ListOwnSessions(ctx, db.ListOwnSessionsParams{TenantID: tid, Subject: subject, Now: w.Now, IdleSince: w.IdleSince})
	if err != nil {
		return nil, err
	}
	out := make([]identity.OwnSession, len(rows))
	for i, r := range rows {
		out[i] = ownSession(r)
	}
	return out, nil
}

// EndOwnSessions deletes subject's sessions in tenantID active in w other
// than keep — only ref, or every one when ref is "" — and writes ev of each
// in the same transaction; see identity.Store. The tenant and subject are
// part of every delete, so a ref resolves only for its own person. A ref
// or keep that is not a UUID matches nothing.
func (s *IdentityStore) EndOwnSessions(ctx context.Context, tenantID, subject, keep, ref string, w identity.Window, ev func(identity.OwnSession) audit.Event) ([]identity.OwnSession, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenant id: %w", err)
	}
	keepID, err := uuid.Parse(keep)
	if err != nil {
		return nil, nil
	}
	var one pgtype.UUID // null: every other session
	if ref != "" {
		u, err := uuid.Parse(ref)
		if err != nil {
			return nil, nil
		}
		one = pgtype.UUID{Bytes: u, Valid: true}
	}
	var ended []identity.OwnSession
	err = InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.DeleteOwnSessions(ctx, db.DeleteOwnSessionsParams{TenantID: tid, Subject: subject, Keep: keepID, Ref: one, Now: w.Now, IdleSince: w.IdleSince})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		slices.SortFunc(rows, func(a, b db.DeleteOwnSessionsRow) int { // the audit trail lists them in a stable order
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Ref.String(), b.Ref.String()))
		})
		evs := make([]audit.Event, len(rows))
		ended = make([]identity.OwnSession, len(rows))
		for i, r := range rows {
			ended[i] = ownSession(db.ListOwnSessionsRow(r))
			evs[i] = ev(ended[i])
		}
		return appendAudit(ctx, q, s.now(), evs...)
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

func ownSession(r db.ListOwnSessionsRow) identity.OwnSession {
	return identity.OwnSession{Ref: r.Ref.String(), CreatedAt: r.CreatedAt, LastSeen: r.LastSeenAt, ExpiresAt: r.ExpiresAt,
		AuthTime: r.AuthTime, StepUp: r.StepUp, IP: r.Ip, LastIP: r.LastIp, UserAgent: r.UserAgent}
}

// RecordEvent writes audit events on their own (refused sign-ins, a
// reveal: where nothing else changes), all in one transaction.
func (s *IdentityStore) RecordEvent(ctx context.Context, evs ...audit.Event) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error { return appendAudit(ctx, db.New(tx), s.now(), evs...) })
}

func (s *IdentityStore) insertEvent(ctx context.Context, q *db.Queries, ev audit.Event) error {
	return appendAudit(ctx, q, s.now(), ev)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// SweepSessions deletes sessions past their absolute timeout or idle for
// longer than idle, and expired login attempts. It returns how many
// sessions it deleted.
func (s *IdentityStore) SweepSessions(ctx context.Context, idle time.Duration) (int64, error) {
	now := s.now()
	q := db.New(s.pool)
	if err := q.DeleteExpiredLoginAttempts(ctx, now); err != nil {
		return 0, err
	}
	return q.DeleteEndedSessions(ctx, db.DeleteEndedSessionsParams{Now: now, IdleBefore: now.Add(-idle)})
}
