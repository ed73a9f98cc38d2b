package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/web"
)

// mySessions shows "Your sessions": the signed-in person's active sessions
// in their own tenant (always the session's, never the request's), this one
// marked. After an end it confirms how many sessions ended.
func (s *Server) mySessions(c echo.Context) error {
	sess := currentSession(c)
	own, err := s.deps.Sessions.Own(c.Request().Context(), *sess)
	if err != nil {
		return err
	}
	m := web.SessionsPage{Page: s.page(c, "Your sessions"), Idle: inWords(s.deps.Sessions.Idle())}
	for _, o := range own {
		m.Sessions = append(m.Sessions, web.SessionRow{
			Ref: o.Ref, SignedIn: o.CreatedAt.UTC().Format("2006-01-02 15:04 MST"), LastActive: o.LastSeen.UTC().Format("2006-01-02 15:04 MST"),
			Address: o.LastIP, SignedInFrom: signedInFrom(o), Browser: identity.DescribeUserAgent(o.UserAgent), UserAgent: o.UserAgent, StepUp: o.StepUp, Current: o.Current,
		})
		if !o.Current {
			m.Others++
		}
	}
	if msg := sessionsEnded(c.QueryParam("ended")); msg != "" {
		m.Flashes = append(m.Flashes, web.Flash{Kind: web.FlashSuccess, Message: msg})
	}
	return render(c, http.StatusOK, web.Sessions(m))
}

// endSession ends one of the person's other sessions, named by its ref.
// A ref that is not one of their other active sessions answers 404 (this
// one: 409, sign out instead) and ends nothing.
func (s *Server) endSession(c echo.Context) error {
	sess := currentSession(c)
	if err := s.deps.Sessions.EndOther(c.Request().Context(), *sess, c.Param("ref"), meta(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/sessions?ended=1")
}

// endOtherSessions ends every other session of the person in their tenant
// ("sign out everywhere else").
func (s *Server) endOtherSessions(c echo.Context) error {
	sess := currentSession(c)
	n, err := s.deps.Sessions.EndOthers(c.Request().Context(), *sess, meta(c))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/sessions?ended="+strconv.Itoa(n))
}

// sessionsEnded is the confirmation after ending sessions, built from fixed
// words and the number in the query string (anything else shows nothing).
func sessionsEnded(ended string) string {
	n, err := strconv.Atoi(ended)
	switch {
	case err != nil || n < 0:
		return ""
	case n == 0:
		return "You were not signed in anywhere else: nothing was ended."
	case n == 1:
		return "1 session ended. That browser is signed out at its next request."
	}
	return strconv.Itoa(n) + " sessions ended. Those browsers are signed out at their next request."
}

// inWords writes a timeout in whole hours when it is some, else in whole
// minutes: "1 hour", "30 minutes".
func inWords(d time.Duration) string {
	n, unit := int(d/time.Minute), "minute"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// signedInFrom is o's sign-in address when it was last used from another
// one, else "".
func signedInFrom(o identity.OwnSession) string {
	if o.IP == o.LastIP {
		return ""
	}
	return o.IP
}
