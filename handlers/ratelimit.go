package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/identity"
)

// Rate limits. Two classes, each a token bucket per key, kept in
// Deps.RateStore — in production PostgreSQL (postgres.RateLimitStore), so
// every replica on the database spends from the same bucket and N replicas
// behind a balancer hold a client to one limit, not N. With no RateStore
// (GATEHOUSE_RATE_LIMIT_STORE=memory: one replica, development) the buckets
// are echo's memory store in the Server (golang.org/x/time/rate), per
// process: each replica then limits on its own. Both decide alike: same
// rate, same burst, a new key starts full. In PostgreSQL a bucket that has
// filled up again is deleted by a job every minute
// (jobs.SweepRateLimitsArgs): a full bucket and no bucket mean the same.
//
//   - sign-in: the unauthenticated steps of signing in (the email form, the
//     start and callback at the IdP) and the step-up start, per client
//     address (c.RealIP(), read as clientIP says; IPv6 addresses by their
//     /64, which one client usually holds whole). Each start writes a login
//     attempt row and sends the browser to the IdP; each callback costs an
//     IdP round trip.
//   - change: every POST, PUT or DELETE of a signed-in person, per session,
//     once the session is resumed (so only real sessions hold a bucket) and
//     before the roles are checked (a refusal by role writes an audit row);
//     and every GET that writes an audit row, a probe for another tenant's
//     object (crossTenant), from the same bucket, before the row is written.
//     The key is the session's ID, the SHA-256 of its cookie: the store
//     never sees the cookie.
//
// A refusal is 429 with Retry-After, rendered by handleError like every
// other error, before the handler runs: nothing is written, nobody is
// redirected. It is logged (class, route, client address, request ID; for
// sessions the person, never the cookie) and counted in
// gatehouse_rate_limited_total. It is not written to the audit trail: a
// row per refusal would let a flood write rows at the rate it is refused,
// the very load the limit is there to stop.
//
// A check the store cannot answer (PostgreSQL down, the request's deadline
// passed) fails closed, for both classes: 503 (apperr.Unavailable), and the
// handler does not run. The request could not have done its work anyway —
// sessions, login attempts and tenants live in the same PostgreSQL — and
// letting requests through unchecked while PostgreSQL struggles would lift
// the limit at the moment it protects PostgreSQL and the IdPs most. The
// failure is logged by handleError (class and cause, never the key) and
// counted in gatehouse_rate_limit_check_failures_total, to alert on.
//
// echo's RateLimiter middleware is not used: its store interface carries no
// context, so a database check could not have the request's deadline, and
// it hands a store's error to the deny handler as if it were a refusal.
//
// The defaults, and why:
//
//   - sign-in, 3 a second with a burst of 20 per address: one sign-in is two
//     or three such requests (a step-up two more), so 20 at once lets several
//     people behind one NAT address sign in at the same moment, and 3 a
//     second sustains some 60 sign-ins a minute from one office, while one
//     address can create no more than 3 login attempts a second.
//   - change, 10 a second with a burst of 30 per session: a person makes a
//     few changes a second at most (deciding inbox rows in place, the request
//     form's inline checks); a stolen cookie or a runaway script is held to
//     10 writes a second.
const (
	DefaultSignInRate  = 3.0 // sign-in requests a second per client address
	DefaultSignInBurst = 20  // sign-in requests at once per client address
	DefaultChangeRate  = 10.0
	DefaultChangeBurst = 30
)

// Limit is one class's token bucket: Rate requests a second refill it, up
// to Burst at once. A zero Rate or Burst takes the class's default — zero
// never means unlimited; Off is the one, explicit, way to switch the class
// off.
type Limit struct {
	Rate  float64
	Burst int
	Off   bool
}

// Limits are the two classes' limits (see the Default constants).
type Limits struct {
	SignIn Limit // per client address, on the routes marked signIn in routes()
	Change Limit // per session, on every signed-in POST, PUT and DELETE
}

// RateStore keeps the rate limits' buckets where every replica spends from
// them (postgres.RateLimitStore).
type RateStore interface {
	// Take spends one request from the bucket key of class, which refills
	// at rate requests a second up to burst (a key never seen has a full
	// bucket). It returns whether the request is within the limit, or an
	// error when the store cannot tell: the request is then neither allowed
	// nor refused, and the caller fails closed.
	Take(ctx context.Context, class, key string, rate float64, burst int) (bool, error)
}

// limiter is one class's limit, built once in New.
type limiter struct {
	// take spends one of the request's tokens: nil while within the limit,
	// the refusal (logged, counted) over it, Unavailable when the store
	// failed. nil when the class is off.
	take func(echo.Context) error
}

// spend takes one token for c from the class, for a request that writes
// without passing through wrap (nil when the class is off).
func (l *limiter) spend(c echo.Context) error {
	if l == nil || l.take == nil {
		return nil
	}
	return l.take(c)
}

// wrap returns h behind the limit (h itself when the class is off).
func (l *limiter) wrap(h echo.HandlerFunc) echo.HandlerFunc {
	if l == nil || l.take == nil {
		return h
	}
	return func(c echo.Context) error {
		if err := l.take(c); err != nil {
			return err
		}
		return h(c)
	}
}

// retryAfter is how long a refused key waits for its next request: a
// refusal leaves less than one token, and one token takes 1/rate to come
// (whole seconds, at most a day).
func retryAfter(r float64) time.Duration {
	return time.Duration(min(max(1, math.Ceil(1/r)), 86400)) * time.Second
}

// memoryTake is a class's buckets in this process's memory: echo's memory
// store, golang.org/x/time/rate underneath. It never fails.
func memoryTake(l Limit) func(context.Context, string) (bool, error) {
	// A bucket forgotten sooner than it refills would hand an idle client
	// a full burst early.
	expires := max(3*time.Minute, time.Duration(min(float64(l.Burst)/l.Rate, 7*86400)*float64(time.Second)))
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(l.Rate), Burst: l.Burst, ExpiresIn: expires,
	})
	return func(_ context.Context, key string) (bool, error) { return store.Allow(key) }
}

// newLimiter builds the class's limiter over s.deps.RateStore, or over its
// own memory store when there is none. who tells a refused person whose
// limit it is ("from your address"); key names the bucket of a request.
func (s *Server) newLimiter(class string, l Limit, def Limit, who string, key func(echo.Context) (string, error), m limitMetrics) *limiter {
	if l.Off {
		return &limiter{}
	}
	if l.Rate <= 0 || math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) {
		l.Rate = def.Rate
	}
	if l.Burst <= 0 {
		l.Burst = def.Burst
	}
	var allow func(ctx context.Context, key string) (bool, error)
	if st := s.deps.RateStore; st != nil {
		allow = func(ctx context.Context, k string) (bool, error) { return st.Take(ctx, class, k, l.Rate, l.Burst) }
	} else {
		allow = memoryTake(l)
	}
	wait := retryAfter(l.Rate)
	msg := fmt.Sprintf("Too many %s; try again in %s.", who, seconds(wait))
	deny := func(c echo.Context) error {
		m.refused.WithLabelValues(class).Inc()
		attrs := []slog.Attr{slog.String("class", class), slog.String("route", c.Path()),
			slog.String("method", c.Request().Method), slog.String("remote_ip", c.RealIP()),
			slog.String("request_id", requestID(c))}
		if sess := currentSession(c); sess != nil {
			attrs = append(attrs, slog.String("tenant", sess.TenantSlug), slog.String("actor", sess.Actor()))
		}
		s.deps.Log.LogAttrs(c.Request().Context(), slog.LevelWarn, "rate limit refused a request", attrs...)
		return apperr.Throttled(msg, wait)
	}
	return &limiter{take: func(c echo.Context) error {
		id, err := key(c)
		if err != nil {
			return apperr.Wrap(apperr.Internal, "Something went wrong on our side.", err)
		}
		ok, err := allow(c.Request().Context(), id)
		if err != nil {
			m.failed.WithLabelValues(class).Inc()
			return apperr.Wrap(apperr.Unavailable, "Gatehouse cannot serve this right now; try again in a moment.", err)
		}
		if !ok {
			return deny(c)
		}
		return nil
	}}
}

// seconds writes d in whole seconds, in words: "1 second", "5 seconds".
func seconds(d time.Duration) string {
	n := int(d / time.Second)
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

// clientKey is the sign-in bucket of a request: its client address, an
// IPv6 address by its /64.
func clientKey(c echo.Context) (string, error) {
	ip := c.RealIP()
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip, nil // not an address (a unix socket, say): its own bucket
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64) // cannot fail for a /64 of an IPv6 address
		return p.String(), nil
	}
	return addr.String(), nil
}

// sessionKey is the change bucket of a request: its session's ID (the
// hash of the session cookie, never the cookie). It fails without a session,
// which require rules out.
func (s *Server) sessionKey(c echo.Context) (string, error) {
	token := cookieValue(c, s.sessionCookieName())
	if currentSession(c) == nil || token == "" {
		return "", errors.New("rate limit per session on a request without one")
	}
	return identity.SessionID(token), nil
}

// rateLimits is the Server's two limiters.
type rateLimits struct {
	signIn, change *limiter
}

// limitMetrics are the limiters' counters, by class.
type limitMetrics struct {
	refused *prometheus.CounterVec // 429s
	failed  *prometheus.CounterVec // checks the store could not answer (503s)
}

// newRateLimits builds both classes' limiters and registers their counters.
func (s *Server) newRateLimits(l Limits) rateLimits {
	m := limitMetrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "gatehouse", Name: "rate_limited_total",
			Help: "Requests refused with 429 by a rate limit, by class (sign-in per address, change per session)."}, []string{"class"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "gatehouse", Name: "rate_limit_check_failures_total",
			Help: "Rate limit checks the store could not answer, each refused with 503 (fail closed), by class."}, []string{"class"}),
	}
	s.reg.MustRegister(m.refused, m.failed)
	return rateLimits{
		signIn: s.newLimiter("sign-in", l.SignIn, Limit{Rate: DefaultSignInRate, Burst: DefaultSignInBurst},
			"attempts from your address", clientKey, m),
		change: s.newLimiter("change", l.Change, Limit{Rate: DefaultChangeRate, Burst: DefaultChangeBurst},
			"changes from this session", s.sessionKey, m),
	}
}

// signIn marks a sign-in step in the routes list: h runs only while the
// client's address is within the sign-in limit (New builds the limits
// before it reads the routes).
func (s *Server) signIn(h echo.HandlerFunc) echo.HandlerFunc { return s.limits.signIn.wrap(h) }
