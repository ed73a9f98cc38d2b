// Package identity signs people in through their own organization's OpenID
// Connect provider and keeps their server-side sessions.
//
// Federation runs the authorization code flow with PKCE (S256), state and
// nonce per tenant: the state, nonce and verifier live server-side in a
// one-time login attempt whose random token is the browser's short-lived
// pre-auth cookie. The ID token must come from exactly the tenant's issuer
// (mix-up defence); a token of another tenant's IdP never signs anyone in.
//
// Sessions are rows keyed by the SHA-256 of a random token; every lookup
// checks idle and absolute timeouts and that the tenant is active and its
// IdP enabled, so a suspension ends sessions on their next request.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
)

// TenantConfig is what sign-in needs to know about one tenant.
type TenantConfig struct {
	TenantID string
	Slug     string
	Name     string
	Status   tenants.Status
	IdP      tenants.IdentityProvider
	Mappings []tenants.RoleMapping
}

// Directory finds a tenant's sign-in configuration.
type Directory interface {
	// SignInConfig returns the configuration of the tenant slug, or an
	// apperr.NotFound error.
	SignInConfig(ctx context.Context, slug string) (TenantConfig, error)
}

// SecretReader reads Gatehouse's own secrets (IdP client secrets) by
// reference ("mount/path"). It returns an error when the secret is missing.
type SecretReader interface {
	ReadClientSecret(ctx context.Context, ref string) (string, error)
}

// Attempt is one pending sign-in: created by Begin, consumed once by Complete.
type Attempt struct {
	IDHash    []byte
	TenantID  string
	State     string
	Nonce     string
	Verifier  string
	ReturnTo  string
	StepUp    bool
	Test      bool // an onboarding test sign-in: never creates a session
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Identity is a person as their IdP vouched for them at sign-in.
type Identity struct {
	TenantID   string
	TenantSlug string
	TenantName string
	Subject    string
	Email      string
	Name       string
	Groups     []string
	Roles      []tenants.Role
	Issuer     string
	AuthTime   time.Time
	StepUp     bool // the sign-in was a forced fresh authentication
	Test       bool // an onboarding test sign-in: record it, never start a session
	ReturnTo   string
}

// Actor returns how the person appears in audit events.
func (i Identity) Actor() string { return i.Email + " (" + i.Subject + ")" }

// Session is a signed-in person's server-side session.
type Session struct {
	Identity
	// Ref is the session's opaque reference (OwnSession.Ref): random,
	// unrelated to the token, never the token or its hash.
	Ref       string
	CreatedAt time.Time
	LastSeen  time.Time
	LastIP    string // the client address it was last used from
	ExpiresAt time.Time
}

// HasRole reports whether the session holds role r.
func (s Session) HasRole(r tenants.Role) bool {
	for _, x := range s.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Store persists login attempts and sessions. Methods that change state
// take the audit event to write in the same transaction.
type Store interface {
	SaveAttempt(ctx context.Context, a Attempt) error
	// ConsumeAttempt marks the attempt used and returns it; apperr.NotFound
	// when it does not exist, was used already or expired before now.
	ConsumeAttempt(ctx context.Context, idHash []byte, now time.Time) (Attempt, error)
	// CreateSession stores the session with its audit event; it refuses
	// (apperr.Forbidden) a person an emergency revocation covers there.
	CreateSession(ctx context.Context, idHash []byte, s Session, meta audit.Meta, ev audit.Event) error
	// LookupSession returns the session and whether its tenant is active
	// and its IdP enabled; apperr.NotFound when there is no such session.
	LookupSession(ctx context.Context, idHash []byte) (s Session, allowed bool, err error)
	// TouchSession records activity on the session at now, from the
	// client address ip.
	TouchSession(ctx context.Context, idHash []byte, now time.Time, ip string) error
	DeleteSession(ctx context.Context, idHash []byte, ev *audit.Event) error
	RecordEvent(ctx context.Context, evs ...audit.Event) error
	// OwnSessions returns subject's sessions in tenantID that are active
	// in w, newest first; an error only when they cannot be read.
	OwnSessions(ctx context.Context, tenantID, subject string, w Window) ([]OwnSession, error)
	// EndOwnSessions deletes subject's sessions in tenantID that are
	// active in w, never the one whose reference is keep: only the one
	// whose reference is ref, or, when ref is "", every other one. For
	// each session it deletes it writes ev(that session) in the same
	// transaction, and it returns them oldest first. A ref that names no
	// such session (another person's, another tenant's, ended, keep
	// itself, malformed) deletes nothing and returns none, without error.
	EndOwnSessions(ctx context.Context, tenantID, subject, keep, ref string, w Window, ev func(OwnSession) audit.Event) ([]OwnSession, error)
}

// newToken returns a random 256-bit URL-safe token and its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

// hashToken returns the SHA-256 of tok: only hashes are stored.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// SessionID returns, in hex, the ID the session of token is stored under
// (the token's SHA-256): a key for per-session state such as rate limits
// that does not hold the token itself. It cannot fail.
func SessionID(token string) string { return hex.EncodeToString(hashToken(token)) }
