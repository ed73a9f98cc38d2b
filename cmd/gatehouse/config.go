package main

import (
	"flag"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/jobs"
)

// config is Gatehouse's whole configuration, parsed once here from the
// environment with command-line flags overriding, then passed down.
type config struct {
	Listen         string
	PublicURL      string
	DatabaseURL    string
	VaultAddr      string
	AWSEndpoint    string
	VaultToken     string // from the environment only: a flag would show in ps
	LogLevel       string
	RequestTimeout time.Duration
	ShutdownGrace  time.Duration
	SessionIdle    time.Duration
	SessionMax     time.Duration
	SMTPAddr       string
	SMTPFrom       string
	// CheckpointFile, when set, also receives the audit checkpoints (one
	// JSON line each; ship it off the machine).
	CheckpointFile string
	SMTPUsername   string
	SMTPPassword   string // from the environment only
	SMTPPlaintext  bool
	// LocalChannels lets tenants' chat webhooks and mail relays be on
	// loopback or private addresses: local development only.
	LocalChannels bool
	// RevokeConcurrency is how many grants an emergency revocation ends at
	// once (serve's workers and `gatehouse revoke`).
	RevokeConcurrency int
	// NoticeRetention is how long the record of who was told of what is
	// kept (jobs.DefaultNoticeRetention, 400 days, unless set; at least
	// jobs.MinNoticeRetention). Notices still being delivered, and those of
	// a break-glass whose review is open, are kept however old.
	NoticeRetention time.Duration
	// Limits are the rate limits: sign-in steps per client address, changes
	// per session (see handlers/ratelimit.go for the defaults' reasons).
	Limits handlers.Limits
	// RateLimitStore is where the limits' buckets are kept: postgres
	// (shared by every replica; the default) or memory (each process its
	// own: one replica only).
	RateLimitStore app.RateLimitStore
	// TrustedProxies are the load balancers in front of Gatehouse, whose
	// X-Forwarded-For is believed for the client's address (rate limits,
	// audit); none means each connection's peer is the client.
	TrustedProxies []netip.Prefix
	// ChannelNetworks are private networks tenants' chat webhooks and mail
	// relays may be in, besides public addresses (parseChannelNetworks).
	ChannelNetworks []netip.Prefix
}

// envDefault returns the environment variable name's value, or def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// parseConfig reads the environment, then args as flags of the named
// subcommand. It returns a clear error for any invalid value.
func parseConfig(cmd string, args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("gatehouse "+cmd, flag.ContinueOnError)
	fs.StringVar(&c.Listen, "listen", envDefault("GATEHOUSE_LISTEN", "127.0.0.1:8080"), "address to serve HTTP on")
	fs.StringVar(&c.PublicURL, "public-url", envDefault("GATEHOUSE_PUBLIC_URL", "http://127.0.0.1:8080"), "URL people use to reach the console")
	fs.StringVar(&c.DatabaseURL, "database-url", envDefault("GATEHOUSE_DATABASE_URL", ""), "PostgreSQL connection URL")
	fs.StringVar(&c.VaultAddr, "vault-addr", envDefault("GATEHOUSE_VAULT_ADDR", "http://127.0.0.1:8200"), "Vault address")
	fs.StringVar(&c.AWSEndpoint, "aws-endpoint", os.Getenv("GATEHOUSE_AWS_ENDPOINT"), "AWS endpoint override for an emulator such as moto (empty: AWS itself)")
	fs.StringVar(&c.LogLevel, "log-level", envDefault("GATEHOUSE_LOG_LEVEL", "info"), "debug, info, warn or error")
	timeout := fs.String("request-timeout", envDefault("GATEHOUSE_REQUEST_TIMEOUT", "30s"), "deadline for one request")
	grace := fs.String("shutdown-grace", envDefault("GATEHOUSE_SHUTDOWN_GRACE", "15s"), "time given to in-flight requests at shutdown")
	idle := fs.String("session-idle", envDefault("GATEHOUSE_SESSION_IDLE", "30m"), "a session ends after this long without activity")
	maxAge := fs.String("session-max", envDefault("GATEHOUSE_SESSION_MAX", "12h"), "a session ends this long after sign-in, active or not")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", envDefault("GATEHOUSE_SMTP_ADDR", ""), "SMTP relay host:port for email notifications (empty: no email)")
	fs.StringVar(&c.CheckpointFile, "audit-checkpoint-file", os.Getenv("GATEHOUSE_AUDIT_CHECKPOINT_FILE"), "file the audit checkpoints are appended to (optional; Vault always gets them)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", envDefault("GATEHOUSE_SMTP_FROM", "gatehouse@localhost"), "sender address of notifications")
	fs.StringVar(&c.SMTPUsername, "smtp-username", envDefault("GATEHOUSE_SMTP_USERNAME", ""), "SMTP username (PLAIN over TLS)")
	concurrency := fs.String("revoke-concurrency", envDefault("GATEHOUSE_REVOKE_CONCURRENCY", strconv.Itoa(jobs.RevokeConcurrency)),
		"how many grants an emergency revocation ends at once (more for a Vault far away)")
	retention := fs.String("notice-retention-days", envDefault("GATEHOUSE_NOTICE_RETENTION_DAYS", strconv.Itoa(int(jobs.DefaultNoticeRetention/day))),
		"days the record of who was told of what is kept (notices still being delivered, or of a break-glass not yet reviewed, are kept longer)")
	signInRate := fs.String("signin-rate", envDefault("GATEHOUSE_SIGNIN_RATE", formatRate(handlers.DefaultSignInRate)),
		"sign-in requests a second allowed per client address (off: no limit)")
	signInBurst := fs.String("signin-burst", envDefault("GATEHOUSE_SIGNIN_BURST", strconv.Itoa(handlers.DefaultSignInBurst)),
		"sign-in requests allowed at once per client address")
	changeRate := fs.String("change-rate", envDefault("GATEHOUSE_CHANGE_RATE", formatRate(handlers.DefaultChangeRate)),
		"state-changing requests a second allowed per session (off: no limit)")
	changeBurst := fs.String("change-burst", envDefault("GATEHOUSE_CHANGE_BURST", strconv.Itoa(handlers.DefaultChangeBurst)),
		"state-changing requests allowed at once per session")
	rateStore := fs.String("rate-limit-store", envDefault("GATEHOUSE_RATE_LIMIT_STORE", string(app.RateLimitsInPostgres)),
		"where the rate limits' buckets are kept: postgres (shared by every replica) or memory (this process only: one replica)")
	proxies := fs.String("trusted-proxies", envDefault("GATEHOUSE_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDR ranges of the load balancers in front of Gatehouse, whose X-Forwarded-For is believed")
	channelNets := fs.String("channel-networks", envDefault("GATEHOUSE_CHANNEL_NETWORKS", ""),
		"comma-separated private CIDR ranges where organizations' chat webhooks and mail relays may be, besides public addresses")
	fs.BoolVar(&c.SMTPPlaintext, "smtp-plaintext", envDefault("GATEHOUSE_SMTP_PLAINTEXT", "") == "true", "talk to a loopback relay without TLS")
	fs.BoolVar(&c.LocalChannels, "local-channels", envDefault("GATEHOUSE_LOCAL_CHANNELS", "") == "true",
		"let tenants' webhooks and mail relays be on loopback or private addresses (local development only)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.VaultToken = os.Getenv("GATEHOUSE_VAULT_TOKEN")
	c.SMTPPassword = os.Getenv("GATEHOUSE_SMTP_PASSWORD")
	var err error
	if c.RequestTimeout, err = time.ParseDuration(*timeout); err != nil || c.RequestTimeout <= 0 {
		return c, fmt.Errorf("request timeout %q is not a positive duration like 30s", *timeout)
	}
	if c.ShutdownGrace, err = time.ParseDuration(*grace); err != nil || c.ShutdownGrace < 0 {
		return c, fmt.Errorf("shutdown grace %q is not a duration like 15s", *grace)
	}
	if c.SessionIdle, err = time.ParseDuration(*idle); err != nil || c.SessionIdle < time.Minute {
		return c, fmt.Errorf("session idle timeout %q is not a duration of at least 1m", *idle)
	}
	if c.SessionMax, err = time.ParseDuration(*maxAge); err != nil || c.SessionMax < c.SessionIdle {
		return c, fmt.Errorf("session maximum %q is not a duration at least as long as the idle timeout", *maxAge)
	}
	if c.RevokeConcurrency, err = strconv.Atoi(*concurrency); err != nil || c.RevokeConcurrency < 1 || c.RevokeConcurrency > jobs.MaxRevokeConcurrency {
		return c, fmt.Errorf("revoke concurrency %q is not a whole number from 1 to %d", *concurrency, jobs.MaxRevokeConcurrency)
	}
	days, err := strconv.Atoi(*retention)
	if minDays := int(jobs.MinNoticeRetention / day); err != nil || days < minDays || days > maxRetentionDays {
		return c, fmt.Errorf("notice retention %q is not a whole number of days from %d to %d", *retention, minDays, maxRetentionDays)
	}
	c.NoticeRetention = time.Duration(days) * day
	if c.Limits.SignIn, err = parseLimit("sign-in", *signInRate, *signInBurst); err != nil {
		return c, err
	}
	if c.Limits.Change, err = parseLimit("change", *changeRate, *changeBurst); err != nil {
		return c, err
	}
	if c.RateLimitStore, err = parseRateLimitStore(*rateStore); err != nil {
		return c, err
	}
	if c.TrustedProxies, err = parseProxies(*proxies); err != nil {
		return c, err
	}
	if c.ChannelNetworks, err = parseChannelNetworks(*channelNets); err != nil {
		return c, err
	}
	return c, nil
}

// day is a calendar day as the retention settings count it.
const day = 24 * time.Hour

// maxRetentionDays bounds retention settings (100 years) well inside a
// time.Duration.
const maxRetentionDays = 36500

// maxBurst bounds a configured burst: beyond it the limit means nothing.
// minRate is the slowest refill accepted: one request in about 17 minutes.
const (
	maxBurst = 100000
	minRate  = 0.001
)

// parseLimit reads a rate limit: rate is a number of requests a second of
// at least minRate, or "off" (the only way to switch the class off: 0 is refused,
// not taken as unlimited); burst a whole number from 1 to maxBurst. It
// returns a clear error naming the class otherwise.
func parseLimit(class, rateText, burstText string) (handlers.Limit, error) {
	if rateText == "off" {
		return handlers.Limit{Off: true}, nil
	}
	r, err := strconv.ParseFloat(rateText, 64)
	if err != nil || r < minRate || math.IsInf(r, 0) || math.IsNaN(r) {
		return handlers.Limit{}, fmt.Errorf("%s rate %q is not a number of requests a second of at least %g (or off, for no limit)", class, rateText, minRate)
	}
	b, err := strconv.Atoi(burstText)
	if err != nil || b < 1 || b > maxBurst {
		return handlers.Limit{}, fmt.Errorf("%s burst %q is not a whole number from 1 to %d", class, burstText, maxBurst)
	}
	return handlers.Limit{Rate: r, Burst: b}, nil
}

// parseRateLimitStore reads where the rate limits' buckets are kept:
// postgres or memory. It returns an error naming the setting otherwise.
func parseRateLimitStore(text string) (app.RateLimitStore, error) {
	switch s := app.RateLimitStore(text); s {
	case app.RateLimitsInPostgres, app.RateLimitsInMemory:
		return s, nil
	}
	return "", fmt.Errorf("rate limit store %q (GATEHOUSE_RATE_LIMIT_STORE, --rate-limit-store) is not postgres (shared by every replica) or memory (this process only)", text)
}

// parsePrefixes reads a comma-separated list of addresses (one host each)
// and CIDR ranges, masked to their network, refusing with the entry named
// (what says what the entries are) anything else and a range holding every
// address.
func parsePrefixes(what, text string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, entry := range strings.Split(text, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			a, aerr := netip.ParseAddr(entry)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%s %q is not an IP address or a CIDR range like 10.0.0.0/8", what, entry)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			return nil, fmt.Errorf("%s %q is an IPv4 range in IPv6 form: write it as IPv4, like 10.0.0.0/8", what, entry)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%s %q would take in every address: list the networks themselves", what, entry)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// parseProxies reads the trusted proxies (parsePrefixes). A range of every
// address is refused: it would believe any client's X-Forwarded-For, so
// anyone could pick the address they are counted and audited under.
func parseProxies(text string) ([]netip.Prefix, error) {
	return parsePrefixes("trusted proxy", text)
}

// metadataEndpoints are the cloud instance-metadata addresses (AWS, GCP,
// Azure: 169.254.169.254; AWS over IPv6: fd00:ec2::254), which hand out the
// machine's own cloud credentials.
func metadataEndpoints() []netip.Addr {
	return []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254")}
}

// loopbackRanges are Gatehouse's own machine.
func loopbackRanges() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// parseChannelNetworks reads the private networks opened to tenants'
// webhooks and relays (parsePrefixes). Besides a range of every address it
// refuses ranges taking in loopback (Gatehouse's own machine:
// GATEHOUSE_LOCAL_CHANNELS is the development switch for that) and any
// range holding a cloud metadata endpoint, whatever else it holds.
func parseChannelNetworks(text string) ([]netip.Prefix, error) {
	nets, err := parsePrefixes("channel network", text)
	if err != nil {
		return nil, err
	}
	for _, p := range nets {
		for _, lo := range loopbackRanges() {
			if p.Overlaps(lo) {
				return nil, fmt.Errorf("channel network %s takes in loopback, Gatehouse's own machine: use GATEHOUSE_LOCAL_CHANNELS=true for local development", p)
			}
		}
		for _, m := range metadataEndpoints() {
			if p.Contains(m) {
				return nil, fmt.Errorf("channel network %s holds the cloud metadata endpoint %s, which hands out this machine's cloud credentials", p, m)
			}
		}
	}
	return nets, nil
}

// formatRate writes a default rate as its flag's default text.
func formatRate(r float64) string { return strconv.FormatFloat(r, 'g', -1, 64) }

// validateServe checks what serve needs beyond parsing.
func (c config) validateServe() error {
	if c.DatabaseURL == "" {
		return fmt.Errorf("GATEHOUSE_DATABASE_URL (or --database-url) is required")
	}
	if c.VaultToken == "" {
		return fmt.Errorf("GATEHOUSE_VAULT_TOKEN is required: Gatehouse's own Vault token")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen address %q is not host:port", c.Listen)
	}
	if err := c.channelNetworksSpareGatehouse(); err != nil {
		return err
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("public URL %q is not an http(s) URL", c.PublicURL)
	}
	if c.SMTPPlaintext {
		host, _, err := net.SplitHostPort(c.SMTPAddr)
		if err != nil || !isLoopback(host) || c.SMTPUsername != "" {
			return fmt.Errorf("plaintext SMTP is only allowed to a loopback relay without a username")
		}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("public URL %q uses plain HTTP on a non-loopback host: serve the console over HTTPS", c.PublicURL)
	}
	return nil
}

// channelNetworksSpareGatehouse refuses channel networks that hold
// Gatehouse's own Vault or PostgreSQL, where their addresses are written as
// IP addresses (names are not resolved here: keep the networks apart).
func (c config) channelNetworksSpareGatehouse() error {
	own := map[string]string{"Vault": c.VaultAddr, "PostgreSQL": c.DatabaseURL}
	for _, name := range []string{"Vault", "PostgreSQL"} {
		u, err := url.Parse(own[name])
		if err != nil {
			continue // connecting reports it
		}
		ip, err := netip.ParseAddr(u.Hostname())
		if err != nil {
			continue
		}
		for _, p := range c.ChannelNetworks {
			if p.Contains(ip.Unmap()) {
				return fmt.Errorf("channel network %s holds Gatehouse's own %s at %s: tenants' webhooks and relays could reach it", p, name, ip)
			}
		}
	}
	return nil
}

// secureCookies reports whether cookies must carry Secure: always, except
// for plain-HTTP local development on a loopback address.
func (c config) secureCookies() bool {
	u, err := url.Parse(c.PublicURL)
	return err != nil || u.Scheme != "http" || !isLoopback(u.Hostname())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
