package handlers

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/web"
)

// statusOf is the one mapping from application error codes to HTTP status.
func statusOf(code apperr.Code) int {
	switch code {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case apperr.TooManyRequests:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// headings are the titles of error pages by status.
var headings = map[int]string{
	http.StatusBadRequest:            "That request was not valid",
	http.StatusUnauthorized:          "Please sign in",
	http.StatusForbidden:             "You can't do that",
	http.StatusNotFound:              "Not found",
	http.StatusMethodNotAllowed:      "Not allowed",
	http.StatusConflict:              "That conflicts with the current state",
	http.StatusRequestEntityTooLarge: "That request is too large",
	http.StatusTooManyRequests:       "Please wait",
	http.StatusServiceUnavailable:    "Temporarily unavailable",
	http.StatusInternalServerError:   "Something went wrong",
}

// classify returns the application error for err and the status to answer
// with. Errors from echo itself (unknown route, wrong method, body too large)
// keep their status and get a plain message.
func classify(err error) (*apperr.Error, int) {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae, statusOf(ae.Code)
	}
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		e := apperr.As(err)
		return e, statusOf(e.Code)
	}
	switch he.Code {
	case http.StatusNotFound:
		return apperr.Wrap(apperr.NotFound, "There is no page at this address.", err), he.Code
	case http.StatusForbidden: // echo's CSRF check of a cross-site browser request
		return apperr.Wrap(apperr.Forbidden, csrfMessage, err), he.Code
	case http.StatusMethodNotAllowed:
		return apperr.Wrap(apperr.Invalid, "This page does not accept that kind of request.", err), he.Code
	case http.StatusRequestEntityTooLarge:
		return apperr.Wrap(apperr.Invalid, "The request is larger than Gatehouse accepts.", err), he.Code
	case http.StatusServiceUnavailable:
		return apperr.Wrap(apperr.Unavailable, "The request took too long. Try again in a moment.", err), he.Code
	case http.StatusTooManyRequests:
		return apperr.Wrap(apperr.TooManyRequests, "Too many attempts; try again in a moment.", err), he.Code
	}
	if he.Code >= 400 && he.Code < 500 {
		return apperr.Wrap(apperr.Invalid, "The request could not be understood.", err), http.StatusBadRequest
	}
	return apperr.Wrap(apperr.Internal, "Something went wrong on our side.", err), http.StatusInternalServerError
}

// handleError renders every error as a page (or JSON for API clients, or a
// notice for htmx requests) with a message the user can act on and the
// request ID. Internals are logged with the request ID, never shown. An
// error that says when to come back sets Retry-After.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e, status := classify(err)
	rid := requestID(c)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.deps.Log.Log(c.Request().Context(), level, "request failed",
		slog.String("request_id", rid), slog.String("code", string(e.Code)),
		slog.Int("status", status), slog.String("error", e.Error()))

	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if !wantsHTML(c) {
		_ = c.JSON(status, map[string]string{"error": e.Message, "code": string(e.Code), "request_id": rid})
		return
	}
	page := web.ErrorPage{Page: s.page(c, headings[status]), Status: status, Heading: headings[status], Message: e.Message}
	// The request's context may already be cancelled by the timeout
	// middleware; the error page must still be written.
	c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
	view := web.Error(page)
	if c.Request().Header.Get("HX-Request") == "true" {
		// htmx swaps the notice into the layout's notices area, whatever
		// the request targeted (the layout's htmx-config swaps errors).
		h := c.Response().Header()
		h.Set("HX-Retarget", "#"+web.NoticesID)
		h.Set("HX-Reswap", "innerHTML")
		view = web.ErrorNotice(page)
	}
	if err := render(c, status, view); err != nil {
		s.deps.Log.Error("rendering error page", slog.String("request_id", rid), slog.String("error", err.Error()))
	}
}

// wantsHTML reports whether the client asked for a page rather than JSON.
func wantsHTML(c echo.Context) bool {
	accept := c.Request().Header.Get(echo.HeaderAccept)
	return !strings.HasPrefix(accept, echo.MIMEApplicationJSON)
}
