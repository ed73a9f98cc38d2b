package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/gatehouse/gatehouse/apperr"
)

// contentSecurityPolicy allows only Gatehouse's own scripts, styles and
// images: no inline script or style, no framing, no plugins.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// securityHeaders sets the response headers every page carries. HSTS is
// sent only when the console is served over HTTPS (secure is true).
func securityHeaders(secure bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
			if secure {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// csrfCookieName is the CSRF cookie's name; the __Host- prefix binds it to
// this origin but needs Secure, so plain-HTTP local development uses a plain name.
func csrfCookieName(secure bool) string {
	if secure {
		return "__Host-gatehouse_csrf"
	}
	return "gatehouse_csrf"
}

const csrfMessage = "This form has expired or did not come from Gatehouse. Reload the page and try again."

// csrf protects every unsafe method: browsers that send Sec-Fetch-Site are
// checked on it, others must echo the cookie's token in the _csrf form field
// or the X-CSRF-Token header (htmx does so from the layout's hx-headers).
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		CookieName:     csrfCookieName(s.deps.SecureCookies),
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.deps.SecureCookies,
		CookieSameSite: http.SameSiteStrictMode,
		ErrorHandler: func(err error, c echo.Context) error {
			return apperr.Wrap(apperr.Forbidden, csrfMessage, err)
		},
	})
}

// csrfToken returns the token to embed in forms, or "" when the browser is
// protected by Sec-Fetch-Site instead.
func csrfToken(c echo.Context) string {
	t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	if t == middleware.CSRFUsingSecFetchSite {
		return ""
	}
	return t
}

// accessLog writes one JSON line per request. It logs the path without the
// query string: callbacks carry authorization codes and state there.
func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogRoutePath: true, LogLatency: true,
		LogRequestID: true, LogRemoteIP: true, LogResponseSize: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.deps.Log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("path", v.URIPath), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("remote_ip", v.RemoteIP), slog.Int64("bytes", v.ResponseSize))
			return nil
		},
	})
}

// recoverPanics turns a panic into an Internal error (a 500 page with the
// request ID) and logs the stack.
func (s *Server) recoverPanics() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					stack := make([]byte, 8<<10)
					stack = stack[:runtime.Stack(stack, false)]
					s.deps.Log.Error("panic", slog.String("request_id", requestID(c)),
						slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(stack)))
					err = apperr.Wrap(apperr.Internal, "Something went wrong on our side.", fmt.Errorf("panic: %v", r))
				}
			}()
			return next(c)
		}
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
