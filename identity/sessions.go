package identity

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
)

// Sessions creates, resumes and ends server-side sessions.
type Sessions struct {
	store    Store
	now      func() time.Time
	idle     time.Duration
	absolute time.Duration
}

// NewSessions returns a session manager with the given idle and absolute timeouts.
func NewSessions(store Store, now func() time.Time, idle, absolute time.Duration) *Sessions {
	return &Sessions{store: store, now: now, idle: idle, absolute: absolute}
}

// Idle returns the idle timeout: a session not used for longer ends.
func (s *Sessions) Idle() time.Duration { return s.idle }

// Start creates a session for id and returns its token for the cookie. A
// fresh token is made every time (the session ID rotates at login); the
// previous session, if any, is ended by the caller with End. The login is
// audited in the same transaction.
func (s *Sessions) Start(ctx context.Context, id Identity, meta audit.Meta) (string, error) {
	token, idHash := newToken()
	now := s.now()
	sess := Session{Identity: id, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.absolute)}
	action := "login.succeeded"
	if id.StepUp {
		action = "login.step_up"
	}
	ev := meta.Stamp(audit.Event{TenantID: id.TenantID, Actor: id.Actor(), Action: action, Target: id.TenantSlug,
		Outcome: audit.Success, Detail: map[string]string{"issuer": id.Issuer, "roles": joinRoles(id)}})
	if err := s.store.CreateSession(ctx, idHash, sess, meta, ev); err != nil {
		return "", err
	}
	return token, nil
}

// errSignIn is returned when a request has no usable session.
var errSignIn = apperr.New(apperr.Unauthenticated, "Please sign in to continue.")

// Resume returns the session of token, used now from the client address
// from. It fails with apperr.Unauthenticated — and deletes the session
// where one exists — when the token is unknown, the session is past its
// idle or absolute timeout, or its tenant is suspended or its IdP disabled.
// It records the activity (time and address) at most once a minute, and
// at once when the address differs from the last one recorded, so the
// session's owner sees where it was last used from.
func (s *Sessions) Resume(ctx context.Context, token, from string) (Session, error) {
	if token == "" {
		return Session{}, errSignIn
	}
	idHash := hashToken(token)
	sess, allowed, err := s.store.LookupSession(ctx, idHash)
	if apperr.CodeOf(err) == apperr.NotFound {
		return Session{}, errSignIn
	}
	if err != nil {
		return Session{}, err
	}
	now := s.now()
	if !allowed || now.After(sess.ExpiresAt) || now.Sub(sess.LastSeen) > s.idle {
		if err := s.store.DeleteSession(ctx, idHash, nil); err != nil {
			return Session{}, err
		}
		if !allowed {
			return Session{}, apperr.New(apperr.Unauthenticated, sess.TenantName+" is not accepting sign-ins right now. Your session has ended.")
		}
		return Session{}, apperr.New(apperr.Unauthenticated, "Your session has ended. Please sign in again.")
	}
	// Refresh last-seen at most once a minute to spare the database, and
	// the address whenever it changes.
	if from == "" {
		from = sess.LastIP
	}
	if now.Sub(sess.LastSeen) > time.Minute || from != sess.LastIP {
		if err := s.store.TouchSession(ctx, idHash, now, from); err != nil {
			return Session{}, err
		}
		sess.LastSeen, sess.LastIP = now, from
	}
	return sess, nil
}

// End deletes the session of token, auditing a logout when sess is given.
func (s *Sessions) End(ctx context.Context, token string, sess *Session, meta audit.Meta) error {
	if token == "" {
		return nil
	}
	var ev *audit.Event
	if sess != nil {
		e := meta.Stamp(audit.Event{TenantID: sess.TenantID, Actor: sess.Actor(), Action: "logout", Target: sess.TenantSlug, Outcome: audit.Success})
		ev = &e
	}
	return s.store.DeleteSession(ctx, hashToken(token), ev)
}

func joinRoles(id Identity) string {
	out := ""
	for i, r := range id.Roles {
		if i > 0 {
			out += ","
		}
		out += string(r)
	}
	return out
}

// FreshWithin reports whether the person authenticated at their IdP within
// d before now (the auth_time of their last sign-in).
func (s Session) FreshWithin(d time.Duration, now time.Time) bool {
	return !s.AuthTime.IsZero() && now.Sub(s.AuthTime) <= d
}
