// Package app is Gatehouse's composition root: it wires the adapters
// (PostgreSQL stores, Vault, OIDC federation, casbin) into the HTTP layer's
// dependencies. `gatehouse serve` and the handler tests both use it, so the
// tests exercise the graph that runs in production.
package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/channels"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/reviews"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/tenants"
)

// Options are the settings the wiring needs from configuration.
type Options struct {
	Log            *slog.Logger
	PublicURL      string
	SessionIdle    time.Duration
	SessionMax     time.Duration
	SecureCookies  bool
	RequestTimeout time.Duration
	Version        string
	Now            func() time.Time
	// Clouds are the server's cloud endpoint overrides (emulators).
	Clouds stores.Endpoints
	// Relay is Gatehouse's own mail relay (nil or Addr "": none).
	Relay *notify.Mailer
	// RelayTLS holds the roots organizations' own relays are checked
	// against (nil: the system's).
	RelayTLS *tls.Config
	// LocalChannels lets tenants' webhooks and relays be on loopback or
	// private addresses (and relays on any port): development and tests.
	LocalChannels bool
	// ChannelNetworks are private networks tenants' webhooks and relays may
	// be in, besides public addresses (checked by the configuration).
	ChannelNetworks []netip.Prefix
	// Limits are the rate limits; the zero value means the defaults.
	Limits handlers.Limits
	// RateLimitStore is where the limits' buckets are kept:
	// RateLimitsInPostgres (the default, "" too) or RateLimitsInMemory.
	RateLimitStore RateLimitStore
	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed; none means each connection's peer is the client.
	TrustedProxies []netip.Prefix
}

// Parts are the wired dependencies, plus the stores the job workers need.
type Parts struct {
	Deps     handlers.Deps
	Requests *postgres.RequestStore
	Identity *postgres.IdentityStore
	// Backends is what grants are minted and ended with: Vault and the
	// tenants' cloud stores (the workers' jobs.GrantVault).
	Backends Backends
	// Bindings keeps cloud bindings, replicas and rotation schedules.
	Bindings *postgres.BindingStore
	// Channels keeps and opens tenants' notification channels (the
	// notify workers' jobs.Channels).
	Channels *channels.Service
	// RateLimits is the rate limits' table, swept by the workers
	// (jobs.RateLimitSweeper) whichever store the limits use: with the
	// memory store it holds only what an earlier configuration left.
	RateLimits *postgres.RateLimitStore
}

// RateLimitStore names where the rate limits' buckets are kept.
type RateLimitStore string

// The rate limit stores.
const (
	// RateLimitsInPostgres keeps the buckets in PostgreSQL: every replica
	// on the database spends from the same bucket. The default.
	RateLimitsInPostgres RateLimitStore = "postgres"
	// RateLimitsInMemory keeps them in each process's memory: with N
	// replicas a client gets up to N times each limit. One replica only.
	RateLimitsInMemory RateLimitStore = "memory"
)

// rateStore returns the handlers' RateStore for choice over limits: limits
// itself for postgres (or ""), nil (each Server's memory) for memory. It
// fails for any other name.
func rateStore(choice RateLimitStore, limits *postgres.RateLimitStore) (handlers.RateStore, error) {
	switch choice {
	case RateLimitsInPostgres, "":
		return limits, nil
	case RateLimitsInMemory:
		return nil, nil
	}
	return nil, fmt.Errorf("rate limit store %q is not %s or %s", choice, RateLimitsInPostgres, RateLimitsInMemory)
}

// Backends is Vault and the cloud stores, as one jobs.GrantVault that is
// also a jobs.CloudStores.
type Backends struct {
	*vault.Client
	*stores.Service
}

var _ jobs.CloudStores = Backends{}

// Wire builds every store and service over pool and vc. It fails when the
// authorization policies or the job client cannot be set up, or when
// o.RateLimitStore names no store.
func Wire(pool *pgxpool.Pool, vc *vault.Client, o Options) (Parts, error) {
	limits := postgres.NewRateLimitStore(pool, o.Now)
	rates, err := rateStore(o.RateLimitStore, limits)
	if err != nil {
		return Parts{}, err
	}
	enforcer, err := authz.New(postgres.NewCasbinAdapter(pool))
	if err != nil {
		return Parts{}, err
	}
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		return Parts{}, err
	}
	ids := postgres.NewIdentityStore(pool, o.Now)
	tenantStore := postgres.NewTenantStore(pool)
	tenantStore.Jobs = inserter
	requests := postgres.NewRequestStore(pool, inserter, o.Now)
	federation := identity.NewFederation(ids, vc, ids, o.PublicURL, o.Now)
	bindings := postgres.NewBindingStore(pool, o.Now)
	clouds := &stores.Service{Bindings: bindings, Secrets: vc, Open: stores.Adapters(o.Clouds), Audit: ids,
		Replicas: bindings, Queue: jobs.SyncQueue{Jobs: inserter}}
	backends := Backends{Client: vc, Service: clouds}
	chat := &notify.Webhook{Client: notify.PublicClient(10*time.Second, o.ChannelNetworks...), PublicURL: o.PublicURL}
	if o.LocalChannels {
		chat.Client = &http.Client{Timeout: 10 * time.Second}
	}
	relay := o.Relay
	if relay == nil {
		relay = &notify.Mailer{PublicURL: o.PublicURL, Now: o.Now}
	}
	chans := &channels.Service{Store: requests, Secrets: vc, Audit: ids, Relay: relay, Chat: chat, TLS: o.RelayTLS, Local: o.LocalChannels,
		Networks: o.ChannelNetworks}
	return Parts{Requests: requests, Identity: ids, Backends: backends, Bindings: bindings, Channels: chans, RateLimits: limits, Deps: handlers.Deps{
		Log:             o.Log,
		Tenants:         tenantStore,
		Registry:        tenantStore,
		Admin:           tenantStore,
		Onboarder:       &tenants.Onboarder{Store: tenantStore, IdP: federation, Vault: vc},
		Requests:        requests,
		SecretKeys:      vc,
		Channels:        chans,
		Notices:         requests,
		BreakGlass:      requests,
		Shares:          requests,
		Revocations:     requests,
		Monitor:         requests,
		Reviews:         requests,
		ReviewService:   &reviews.Service{Store: requests, Tenants: tenantStore},
		AuditLog:        postgres.NewAuditLog(pool, o.Now, vc.ReadCheckpoints),
		Access:          &access.Service{Store: requests, Vault: backends, Now: o.Now, Log: o.Log},
		Stores:          clouds,
		Federation:      federation,
		Sessions:        identity.NewSessions(ids, o.Now, o.SessionIdle, o.SessionMax),
		Authz:           enforcer,
		Audit:           ids,
		SessionAbsolute: o.SessionMax,
		Postgres:        handlers.PingFunc(pool.Ping),
		Vault:           handlers.PingFunc(vc.Health),
		SecureCookies:   o.SecureCookies,
		RequestTimeout:  o.RequestTimeout,
		Limits:          o.Limits,
		RateStore:       rates,
		TrustedProxies:  o.TrustedProxies,
		Version:         o.Version,
		Now:             o.Now,
	}}, nil
}
