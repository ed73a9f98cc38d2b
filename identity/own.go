package identity

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
)

// OwnSession is one of a person's active sessions as that person may see
// it: when and from where it was used, never its token or the token's hash.
type OwnSession struct {
	// Ref names the session in forms. It is random (unrelated to the
	// token, so it reveals nothing about it) and the store resolves it
	// only for the session's own tenant and subject: to anyone else it is
	// useless.
	Ref       string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	AuthTime  time.Time
	StepUp    bool   // began with a forced fresh authentication
	IP        string // the client address at sign-in
	LastIP    string // the client address it was last used from
	UserAgent string // as the browser sent it at sign-in: for display only, never trusted
	Current   bool   // the session asking
}

// Window is when a session counts as active (tenants.SessionWindow).
type Window = tenants.SessionWindow

// SessionEndedReason is the reason recorded when a person ends one of
// their sessions from another one.
const SessionEndedReason = "ended by its owner from another session"

// errNoSuchSession answers a reference that is not one of the asker's
// other active sessions: the same words whatever the reason, so nothing
// is learnt about other people's sessions.
var errNoSuchSession = apperr.New(apperr.NotFound, "That is not one of your active sessions. It may have ended already.")

// Window is the activity window Resume applies, at now: what counts as an
// active session for every count and list of sessions.
func (s *Sessions) Window() Window {
	now := s.now()
	return Window{Now: now, IdleSince: now.Add(-s.idle)}
}

// Own returns the active sessions (by the timeouts Resume applies) of
// sess's person in sess's tenant, newest first, with sess's own marked
// Current. It fails with apperr.Unavailable when they cannot be read.
func (s *Sessions) Own(ctx context.Context, sess Session) ([]OwnSession, error) {
	own, err := s.store.OwnSessions(ctx, sess.TenantID, sess.Subject, s.Window())
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "Your sessions cannot be listed right now.", err)
	}
	for i := range own {
		own[i].Current = own[i].Ref == sess.Ref
	}
	return own, nil
}

// EndOther ends the session ref of sess's person in sess's tenant, from
// sess, auditing it as session.ended (with the ended session's address and
// user agent, never its token or hash) in the same transaction; that
// session's browser is signed out on its next request. It fails with
// apperr.Conflict (nothing ended) when ref is sess itself — signing out
// ends that — and with apperr.NotFound (nothing ended) when ref is not
// one of the person's other active sessions there.
func (s *Sessions) EndOther(ctx context.Context, sess Session, ref string, meta audit.Meta) error {
	if sess.Ref == "" {
		return apperr.New(apperr.Internal, "Your session has no reference.")
	}
	if ref == sess.Ref {
		return apperr.New(apperr.Conflict, "This is the session you are using. To end it, sign out.")
	}
	if !validRef(ref) {
		return errNoSuchSession
	}
	ended, err := s.store.EndOwnSessions(ctx, sess.TenantID, sess.Subject, sess.Ref, ref, s.Window(), s.endedEvent(sess, meta, false))
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The session could not be ended right now. Nothing was changed.", err)
	}
	if len(ended) == 0 {
		return errNoSuchSession
	}
	return nil
}

// EndOthers ends every other active session of sess's person in sess's
// tenant ("sign out everywhere else"), each audited as session.ended in
// the one transaction that deletes them, and returns how many it ended
// (0 when there were none). It fails with apperr.Unavailable, nothing
// ended, when the database refuses.
func (s *Sessions) EndOthers(ctx context.Context, sess Session, meta audit.Meta) (int, error) {
	if sess.Ref == "" {
		return 0, apperr.New(apperr.Internal, "Your session has no reference.")
	}
	ended, err := s.store.EndOwnSessions(ctx, sess.TenantID, sess.Subject, sess.Ref, "", s.Window(), s.endedEvent(sess, meta, true))
	if err != nil {
		return 0, apperr.Wrap(apperr.Unavailable, "Your other sessions could not be ended right now. Nothing was changed.", err)
	}
	return len(ended), nil
}

// endedEvent returns the audit event of sess ending one of its person's
// other sessions; everyElse marks "sign out everywhere else".
func (s *Sessions) endedEvent(sess Session, meta audit.Meta, everyElse bool) func(OwnSession) audit.Event {
	return func(o OwnSession) audit.Event {
		detail := map[string]string{
			"reason":             SessionEndedReason,
			"session_started":    o.CreatedAt.UTC().Format(time.RFC3339),
			"session_ip":         o.IP,
			"session_last_ip":    o.LastIP,
			"session_user_agent": o.UserAgent,
		}
		if everyElse {
			detail["via"] = "sign out everywhere else"
		}
		return meta.Stamp(audit.Event{TenantID: sess.TenantID, Actor: sess.Actor(), Action: "session.ended",
			Target: sess.TenantSlug, Outcome: audit.Success, Detail: detail})
	}
}

// validRef reports whether ref has the form of a session reference (a
// UUID in its canonical lowercase text form); anything else names no
// session and is not worth a query.
func validRef(ref string) bool {
	u, err := uuid.Parse(ref)
	return err == nil && u.String() == ref
}
