package handlers

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/identity"
)

const sessionKey = "gatehouse.session"

// sessionCookieName and preauthCookieName use the __Host-/__Secure-
// prefixes when cookies are Secure.
func (s *Server) sessionCookieName() string {
	if s.deps.SecureCookies {
		return "__Host-gatehouse_session"
	}
	return "gatehouse_session"
}

func (s *Server) preauthCookieName() string {
	if s.deps.SecureCookies {
		return "__Secure-gatehouse_preauth"
	}
	return "gatehouse_preauth"
}

func (s *Server) setCookie(c echo.Context, name, value, path string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: path, HttpOnly: true, Secure: s.deps.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds()),
	}
	if value == "" {
		ck.MaxAge = -1
	}
	c.SetCookie(ck)
}

func cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}

// currentSession returns the request's session, or nil when not signed in.
func currentSession(c echo.Context) *identity.Session {
	s, _ := c.Get(sessionKey).(*identity.Session)
	return s
}

// meta returns the audit metadata of the request.
func meta(c echo.Context) audit.Meta {
	return audit.Meta{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: requestID(c)}
}

// require wraps h so it runs only for a signed-in person whose roles grant
// perm in their tenant. The session is re-checked against the tenant's and
// IdP's status on every request. Without a session, page requests are sent
// to sign in and come back afterwards. limit, when not nil, is applied once
// the session is known and before the roles are checked, so refusals by
// role (each audited) are limited too.
func (s *Server) require(perm authz.Permission, limit *limiter, h echo.HandlerFunc) echo.HandlerFunc {
	checked := limit.wrap(func(c echo.Context) error {
		sess := currentSession(c)
		if !s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, perm) {
			if c.Request().Method != http.MethodGet {
				s.denied(c, perm)
			}
			return apperr.New(apperr.Forbidden, "Your roles in "+sess.TenantName+" do not allow this.")
		}
		return h(c)
	})
	return func(c echo.Context) error {
		token := cookieValue(c, s.sessionCookieName())
		sess, err := s.deps.Sessions.Resume(c.Request().Context(), token, c.RealIP())
		if err != nil {
			if apperr.CodeOf(err) != apperr.Unauthenticated {
				return err
			}
			if token != "" {
				s.setCookie(c, s.sessionCookieName(), "", "/", 0)
			}
			if c.Request().Method == http.MethodGet && wantsHTML(c) {
				q := url.Values{"return_to": {c.Request().URL.RequestURI()}}
				if token != "" {
					q.Set("ended", "1")
				}
				return c.Redirect(http.StatusSeeOther, "/login?"+q.Encode())
			}
			return err
		}
		c.Set(sessionKey, &sess)
		return checked(c)
	}
}

// denied audits an attempt to change something the session's roles do not
// allow (a non-responder breaking glass, say) in the session's tenant, as
// access.denied naming the route and the permission lacking. A failure to
// audit is logged; the refusal stands either way.
func (s *Server) denied(c echo.Context, perm authz.Permission) {
	sess := currentSession(c)
	err := s.deps.Audit.RecordEvent(c.Request().Context(), meta(c).Stamp(audit.Event{
		TenantID: sess.TenantID, Actor: sess.Actor(), Action: "access.denied", Target: c.Path(), Outcome: audit.Denied,
		Detail: map[string]string{"permission": string(perm)},
	}))
	if err != nil {
		s.deps.Log.Error("auditing a refused action", slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	}
}
