// Package handlers is Gatehouse's HTTP layer: the echo server, its
// middleware, every route (routes.go) and the one mapping from application
// errors to HTTP status (errors.go). Handlers parse input, call a service and
// render a templ component; they hold no business rules.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/channels"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/monitor"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/reviews"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/tenants"
)

// Pinger reports whether a dependency is reachable: nil when it is.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc adapts a function to Pinger.
type PingFunc func(ctx context.Context) error

// Ping calls f.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }

// KeyLister lists secret names (never values) in a Vault KV v2 mount.
type KeyLister interface {
	ListKV2(ctx context.Context, mount, prefix string) ([]string, error)
}

// ChannelStore keeps, tests and reports on a tenant's notification
// channels (channels.Service).
type ChannelStore interface {
	Webhook(ctx context.Context, tenantID string) (string, error)
	SetWebhook(ctx context.Context, tenantID, url, actor string, meta audit.Meta) error
	Email(ctx context.Context, tenantID string) (tenants.EmailChannel, error)
	SetEmail(ctx context.Context, tenantID string, ch tenants.EmailChannel, password, actor string, meta audit.Meta) error
	RelayEnabled() bool
	Test(ctx context.Context, tenantID, to, actor string, meta audit.Meta) ([]channels.TestOutcome, error)
	// Notices returns one page of the tenant's notices as q asks, newest
	// first, and where the next older page starts; an invalid q is
	// apperr.Invalid.
	Notices(ctx context.Context, tenantID string, q jobs.NoticeQuery) (jobs.NoticePage, error)
}

// BreakGlassStore keeps break-glass settings, reviews and their records.
type BreakGlassStore interface {
	// BreakGlassList returns one page of the tenant's break-glasses as q
	// asks, newest first; an invalid q is apperr.Invalid.
	BreakGlassList(ctx context.Context, tenantID string, q paging.Query) (paging.Page[approvals.BreakGlassRow], error)
	ActiveBreakGlass(ctx context.Context, tenantID string) ([]approvals.Summary, error)
	ReviewBreakGlass(ctx context.Context, tenantID, requestID string, reviewer approvals.Person, v approvals.Verdict, notes string, meta audit.Meta) error
	BreakGlassLimits(ctx context.Context, tenantID string) (approvals.Limits, error)
	SetBreakGlassLimits(ctx context.Context, tenantID string, l approvals.Limits, actor string, meta audit.Meta) error
	SetBreakGlass(ctx context.Context, tenantID, resourceID string, b approvals.BreakGlass, actor string, meta audit.Meta) error
	ResponderFlags(ctx context.Context, tenantID string) ([]approvals.Flag, error)
}

// ShareStore keeps cross-organization shares.
type ShareStore interface {
	ShareTargets(ctx context.Context, tenantID string) ([]approvals.Org, error)
	ProposeShare(ctx context.Context, ownerTenantID string, who approvals.Person, recipientSlug string, resourceIDs []string, t approvals.ShareTerms, meta audit.Meta) (string, error)
	// Shares returns one page of the tenant's shares as q asks, outgoing
	// and incoming, newest first; an invalid q is apperr.Invalid.
	Shares(ctx context.Context, tenantID string, q paging.Query) (paging.Page[approvals.ShareSummary], error)
	ShareDetail(ctx context.Context, tenantID, id string) (approvals.ShareDetail, error)
	// ShareRequests returns one page of the requests under a share the
	// tenant may see as q asks (the owner's every one, the recipient's its
	// own people's), newest first; a share it may not see is
	// apperr.NotFound, an invalid q apperr.Invalid.
	ShareRequests(ctx context.Context, tenantID, id string, q paging.Query) (paging.Page[approvals.Summary], error)
	DecideShare(ctx context.Context, tenantID, id string, who approvals.Person, approve bool, comment string, meta audit.Meta) (approvals.ShareState, error)
	AcceptShare(ctx context.Context, tenantID, id string, who approvals.Person, accept bool, comment string, meta audit.Meta) error
	EndShare(ctx context.Context, tenantID, id string, who approvals.Person, reason string, meta audit.Meta) error
	SharedCatalog(ctx context.Context, tenantID string) ([]approvals.SharedItem, error)
	SharePolicy(ctx context.Context, tenantID string) (approvals.SharePolicy, error)
	SetSharePolicy(ctx context.Context, tenantID string, p approvals.SharePolicy, actor string, meta audit.Meta) error
}

// NoticeReader reads who was told of one object (postgres.RequestStore).
type NoticeReader interface {
	// Deliveries returns the notices about the tenant's object ref — who
	// was told, on which channel, how delivery went — the latest and how
	// many there are in all; apperr.Unavailable when they cannot be read.
	Deliveries(ctx context.Context, tenantID, ref string) (jobs.ObjectNotices, error)
}

// RevocationStore runs emergency revocations.
type RevocationStore interface {
	RevocationImpact(ctx context.Context, sc approvals.Scope, v approvals.Viewer, w tenants.SessionWindow) (approvals.Impact, error)
	StartRevocation(ctx context.Context, sc approvals.Scope, v approvals.Viewer, reason, actor string, rotate bool, meta audit.Meta) (string, error)
	Revocation(ctx context.Context, id string, v approvals.Viewer) (approvals.Revocation, error)
	// Revocations returns one page of the revocations v may see as q
	// asks, newest first; an invalid q is apperr.Invalid.
	Revocations(ctx context.Context, v approvals.Viewer, q paging.Query) (paging.Page[approvals.Revocation], error)
	LiftRevocation(ctx context.Context, id string, v approvals.Viewer, actor string, meta audit.Meta) error
}

// AuditLog reads the audit trail and verifies its chains.
type AuditLog interface {
	Search(ctx context.Context, tenantID string, every bool, f audit.Filter, limit int) ([]audit.Entry, error)
	Verify(ctx context.Context, tenantID string, every bool, by string) (audit.Verification, error)
	LastVerification(ctx context.Context, tenantID string, every bool) (audit.Verification, bool, error)
}

// MonitorStore keeps the access monitor's settings and alerts.
type MonitorStore interface {
	MonitorSettings(ctx context.Context, tenantID string) (monitor.Settings, error)
	SetMonitorSettings(ctx context.Context, tenantID string, st monitor.Settings, actor string, meta audit.Meta) error
	// Alerts returns one page of the tenant's alerts as q asks, open ones
	// first, then newest first; a bad cursor is apperr.Invalid.
	Alerts(ctx context.Context, tenantID string, q paging.Query) (paging.Page[monitor.Raised], error)
	AckAlert(ctx context.Context, tenantID string, id int64, actor string, meta audit.Meta) error
}

// ReviewStore keeps access review campaigns.
type ReviewStore interface {
	StartCampaign(ctx context.Context, tenantID, name string, due time.Time, actor string, meta audit.Meta) (string, error)
	// Campaigns returns one page of the tenant's campaigns as q asks,
	// newest first; an invalid q is apperr.Invalid.
	Campaigns(ctx context.Context, tenantID string, q paging.Query) (paging.Page[approvals.Campaign], error)
	Campaign(ctx context.Context, tenantID, id string) (approvals.Campaign, error)
}

// Deps is everything the HTTP layer needs, passed explicitly from cmd/.
type Deps struct {
	Log             *slog.Logger
	Tenants         tenants.Directory
	Registry        tenants.Registry
	Admin           tenants.Admin
	Onboarder       *tenants.Onboarder
	Requests        approvals.Store
	Access          *access.Service
	Stores          *stores.Service
	BreakGlass      BreakGlassStore
	Shares          ShareStore
	Revocations     RevocationStore
	AuditLog        AuditLog
	Monitor         MonitorStore
	Reviews         ReviewStore
	ReviewService   *reviews.Service
	SecretKeys      KeyLister
	Channels        ChannelStore
	Notices         NoticeReader
	Federation      *identity.Federation
	Sessions        *identity.Sessions
	Authz           *authz.Enforcer
	Audit           audit.Recorder
	SessionAbsolute time.Duration // session cookie lifetime (the absolute timeout)
	Postgres        Pinger
	Vault           Pinger
	SecureCookies   bool          // true unless serving plain HTTP on loopback for local development
	RequestTimeout  time.Duration // deadline put on each request's context
	Limits          Limits        // rate limits (ratelimit.go); the zero value means the defaults
	// RateStore keeps the rate limits' buckets, shared by every replica
	// (postgres.RateLimitStore); nil keeps them in this process's memory,
	// so each replica limits on its own (one replica, development).
	RateStore RateStore
	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed (clientIP); none means the TCP peer is the client.
	TrustedProxies []netip.Prefix
	Version        string
	Now            func() time.Time // the clock rules are checked against
}

// Server holds the handlers' dependencies.
type Server struct {
	deps    Deps
	reg     *prometheus.Registry
	metrics echo.HandlerFunc
	nav     []Route               // GET routes with a NavLabel, in list order
	perms   map[string]Permission // every route's permission, by route name (mayOpen)
	banners bannerCache
	limits  rateLimits
}

// New returns the echo instance with middleware, every route of routes()
// and the error handler installed.
func New(deps Deps) *echo.Echo {
	s := &Server{deps: deps, reg: prometheus.NewRegistry(), perms: map[string]Permission{}}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: s.reg})
	s.limits = s.newRateLimits(deps.Limits)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(deps.TrustedProxies) // X-Forwarded-For only from listed proxies
	e.HTTPErrorHandler = s.handleError

	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(
		middleware.RequestID(),
		s.accessLog(),
		s.recoverPanics(),
		securityHeaders(deps.SecureCookies),
		middleware.BodyLimit("1M"),
		middleware.ContextTimeout(deps.RequestTimeout),
		compress(),
		echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{Subsystem: "gatehouse", Registerer: s.reg}),
		s.csrf(),
	)
	for _, r := range s.routes() {
		if r.Method == http.MethodGet && r.NavLabel != "" && r.Perm != Public {
			s.nav = append(s.nav, r)
		}
		s.perms[r.Name] = r.Perm
		h := r.Handler
		if r.Perm != Public {
			var limit *limiter
			if r.limitedPerSession() {
				limit = s.limits.change
			}
			h = s.require(authz.Permission(r.Perm), limit, h)
		}
		e.Add(r.Method, r.Path, h).Name = r.Name
	}
	return e
}

// compress gzips responses of 1 KiB or more for clients that accept it,
// at the fastest level (klauspost/compress: pages are small and rendered
// thousands of times a second; the fast level costs a fraction of
// compress/gzip's per response and still shrinks HTML about fourfold).
func compress() echo.MiddlewareFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil {
		panic(err) // constant options: cannot fail
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			orig := c.Response().Writer
			defer func() { c.Response().Writer = orig }() // the gzip writer goes back to its pool
			wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				c.Response().Writer = w
				if err := next(c); err != nil {
					c.Error(err) // rendered here, while the gzip writer is still ours
				}
			})).ServeHTTP(orig, c.Request())
			return nil
		}
	}
}
