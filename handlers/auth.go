package handlers

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/web"
)

// authStart sends the browser to the tenant's IdP, binding state, nonce and
// the PKCE verifier to a short-lived pre-auth cookie.
func (s *Server) authStart(c echo.Context) error {
	slug := c.Param("tenant")
	dest, token, err := s.deps.Federation.Begin(c.Request().Context(), slug, c.QueryParam("return_to"), identity.Normal)
	if err != nil {
		return err
	}
	s.setCookie(c, s.preauthCookieName(), token, "/auth/"+slug+"/", identity.AttemptTTL)
	return c.Redirect(http.StatusFound, dest)
}

// authCallback completes the sign-in: the attempt is consumed once, the ID
// token verified against exactly this tenant's issuer, and a new session
// (a new ID) replaces any previous one. Every refusal is audited.
func (s *Server) authCallback(c echo.Context) error {
	slug := c.Param("tenant")
	ctx := c.Request().Context()
	attempt := cookieValue(c, s.preauthCookieName())
	s.setCookie(c, s.preauthCookieName(), "", "/auth/"+slug+"/", 0)

	if idpErr := c.QueryParam("error"); idpErr != "" {
		s.refused(c, slug, "", "identity provider returned "+idpErr, audit.Failure)
		return apperr.New(apperr.Forbidden, "Your organization's sign-in did not complete ("+safeOAuthError(idpErr)+"). Start again from the sign-in page.")
	}
	id, err := s.deps.Federation.Complete(ctx, slug, attempt, c.QueryParam("state"), c.QueryParam("code"))
	if id.Test && (err == nil || err == identity.ErrNoRoles) {
		return s.recordTestSignIn(c, id)
	}
	if err == identity.ErrNoRoles {
		s.refused(c, slug, id.Actor(), "no IdP group maps to a Gatehouse role", audit.Denied)
		return err
	}
	if err != nil {
		if code := apperr.CodeOf(err); code == apperr.Invalid || code == apperr.Forbidden {
			s.refused(c, slug, "", apperr.As(err).Message, audit.Failure)
		}
		return err
	}
	if old := cookieValue(c, s.sessionCookieName()); old != "" {
		if err := s.deps.Sessions.End(ctx, old, nil, meta(c)); err != nil {
			return err
		}
	}
	token, err := s.deps.Sessions.Start(ctx, id, meta(c))
	if apperr.CodeOf(err) == apperr.Forbidden {
		s.refused(c, slug, id.Actor(), "revoked by an emergency revocation", audit.Denied)
	}
	if err != nil {
		return err
	}
	s.setCookie(c, s.sessionCookieName(), token, "/", s.deps.SessionAbsolute)
	return c.Redirect(http.StatusSeeOther, id.ReturnTo)
}

func (s *Server) refused(c echo.Context, slug, actor, reason string, outcome audit.Outcome) {
	if err := s.deps.Federation.RecordRefusal(c.Request().Context(), slug, actor, reason, outcome, meta(c)); err != nil {
		s.deps.Log.Error("auditing a refused sign-in", slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	}
}

// safeOAuthError returns the OAuth error code when it is one of the
// registered ones, so arbitrary text from the query string is never shown.
func safeOAuthError(code string) string {
	switch code {
	case "access_denied", "login_required", "interaction_required", "consent_required",
		"invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope",
		"server_error", "temporarily_unavailable":
		return code
	}
	return "unknown error"
}

// logout ends the session, then ends the IdP's session too when the IdP
// announces an end_session_endpoint, coming back to the sign-in page.
func (s *Server) logout(c echo.Context) error {
	sess := currentSession(c)
	if err := s.deps.Sessions.End(c.Request().Context(), cookieValue(c, s.sessionCookieName()), sess, meta(c)); err != nil {
		return err
	}
	s.setCookie(c, s.sessionCookieName(), "", "/", 0)
	back := "/login?signed_out=1"
	if dest, ok := s.deps.Federation.EndSessionURL(c.Request().Context(), sess.TenantSlug, s.deps.Federation.PublicURL()+back); ok {
		return c.Redirect(http.StatusSeeOther, dest)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// dashboard is the signed-in home page: who you are, where, with which roles.
func (s *Server) dashboard(c echo.Context) error {
	sess := currentSession(c)
	m := web.DashboardPage{Page: s.page(c, "Dashboard"), Email: sess.Email, Issuer: sess.Issuer}
	for _, r := range sess.Roles {
		m.Roles = append(m.Roles, string(r))
	}
	m.Groups = sess.Groups
	return render(c, http.StatusOK, web.Dashboard(m))
}

// reauth forces a fresh sign-in at the signed-in person's own IdP
// (prompt=login, max_age=0, and the tenant's acr values if it has any); the
// callback checks auth_time is within identity.StepUpMaxAge. Another
// tenant's slug answers 404.
func (s *Server) reauth(c echo.Context) error {
	sess := currentSession(c)
	slug := c.Param("tenant")
	if slug != sess.TenantSlug {
		return s.crossTenant(c, "reauth of tenant "+slug)
	}
	dest, token, err := s.deps.Federation.Begin(c.Request().Context(), slug, c.QueryParam("return_to"), identity.StepUp)
	if err != nil {
		return err
	}
	s.setCookie(c, s.preauthCookieName(), token, "/auth/"+slug+"/", identity.AttemptTTL)
	return c.Redirect(http.StatusFound, dest)
}

// crossTenant answers a request for another tenant's object: 404, exactly
// as if it did not exist, and an audit event in the requester's tenant. A
// GET probe spends a token of the session's change limit first (other
// methods spent theirs on the way in), so a loop of probes cannot write
// audit rows faster than changes: over the limit it is refused with 429
// and writes nothing.
func (s *Server) crossTenant(c echo.Context, what string) error {
	if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
		if err := s.limits.change.spend(c); err != nil {
			return err
		}
	}
	sess := currentSession(c)
	err := s.deps.Audit.RecordEvent(c.Request().Context(), meta(c).Stamp(audit.Event{
		TenantID: sess.TenantID, Actor: sess.Actor(), Action: "access.cross_tenant", Target: what, Outcome: audit.Denied,
	}))
	if err != nil {
		s.deps.Log.Error("auditing a cross-tenant request", slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	}
	return apperr.New(apperr.NotFound, "There is no page at this address.")
}
