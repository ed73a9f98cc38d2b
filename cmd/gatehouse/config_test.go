package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/handlers"
)

// TestNoticeRetentionSetting: notices are kept 400 days unless
// GATEHOUSE_NOTICE_RETENTION_DAYS (or the flag, which wins) says
// otherwise; a retention under 30 days, or not a whole number of days, is
// refused with the reason.
func TestNoticeRetentionSetting(t *testing.T) {
	const day = 24 * time.Hour
	t.Setenv("GATEHOUSE_NOTICE_RETENTION_DAYS", "")
	c, err := parseConfig("serve", nil)
	if err != nil || c.NoticeRetention != 400*day {
		t.Fatalf("default notice retention = %s (%v), want 400 days", c.NoticeRetention, err)
	}
	t.Setenv("GATEHOUSE_NOTICE_RETENTION_DAYS", "90")
	if c, err = parseConfig("serve", nil); err != nil || c.NoticeRetention != 90*day {
		t.Fatalf("GATEHOUSE_NOTICE_RETENTION_DAYS=90: %s (%v)", c.NoticeRetention, err)
	}
	if c, err = parseConfig("serve", []string{"--notice-retention-days", "730"}); err != nil || c.NoticeRetention != 730*day {
		t.Fatalf("--notice-retention-days 730 over the environment's 90: %s (%v)", c.NoticeRetention, err)
	}
	for _, bad := range []string{"29", "0", "-400", "400d", "9600h", "36501"} {
		if _, err := parseConfig("serve", []string{"--notice-retention-days", bad}); err == nil || !strings.Contains(err.Error(), "notice retention") {
			t.Errorf("notice retention %q: %v, want it refused", bad, err)
		}
	}
}

func TestRateLimitsAreConfiguredAndZeroIsNotOff(t *testing.T) {
	c, err := parseConfig("serve", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := handlers.Limits{SignIn: handlers.Limit{Rate: handlers.DefaultSignInRate, Burst: handlers.DefaultSignInBurst},
		Change: handlers.Limit{Rate: handlers.DefaultChangeRate, Burst: handlers.DefaultChangeBurst}}
	if c.Limits != want {
		t.Fatalf("defaults %+v, want %+v", c.Limits, want)
	}

	t.Setenv("GATEHOUSE_SIGNIN_RATE", "0.5")
	t.Setenv("GATEHOUSE_SIGNIN_BURST", "5")
	t.Setenv("GATEHOUSE_CHANGE_RATE", "off")
	if c, err = parseConfig("serve", []string{"--change-burst", "7"}); err != nil {
		t.Fatal(err)
	}
	if c.Limits.SignIn != (handlers.Limit{Rate: 0.5, Burst: 5}) || !c.Limits.Change.Off {
		t.Fatalf("configured limits %+v", c.Limits)
	}

	for _, bad := range []struct{ env, value, want string }{
		{"GATEHOUSE_SIGNIN_RATE", "0", "sign-in rate"},
		{"GATEHOUSE_SIGNIN_RATE", "-1", "sign-in rate"},
		{"GATEHOUSE_SIGNIN_RATE", "1e-9", "sign-in rate"},
		{"GATEHOUSE_CHANGE_RATE", "Inf", "change rate"},
		{"GATEHOUSE_CHANGE_RATE", "fast", "change rate"},
		{"GATEHOUSE_SIGNIN_BURST", "0", "sign-in burst"},
		{"GATEHOUSE_CHANGE_BURST", "2.5", "change burst"},
	} {
		t.Run(bad.env+"="+bad.value, func(t *testing.T) {
			t.Setenv("GATEHOUSE_CHANGE_RATE", "10")
			t.Setenv(bad.env, bad.value)
			if _, err := parseConfig("serve", nil); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Fatalf("parseConfig = %v, want an error about the %s", err, bad.want)
			}
		})
	}
}

// TestTrustedProxiesSetting: no proxy is trusted unless
// GATEHOUSE_TRUSTED_PROXIES (or the flag, which wins) lists addresses or
// ranges; an entry that is neither, or a range trusting every address, is
// refused with the entry named.
func TestTrustedProxiesSetting(t *testing.T) {
	t.Setenv("GATEHOUSE_TRUSTED_PROXIES", "")
	c, err := parseConfig("serve", nil)
	if err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("default trusted proxies %v (%v), want none", c.TrustedProxies, err)
	}
	t.Setenv("GATEHOUSE_TRUSTED_PROXIES", " 10.1.2.3/16, 192.0.2.7 ,2001:db8::1,,")
	if c, err = parseConfig("serve", nil); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::1/128")}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Errorf("trusted proxies %v, want %v", c.TrustedProxies, want)
	}
	if c, err = parseConfig("serve", []string{"--trusted-proxies", "172.16.0.0/12"}); err != nil || !slices.Equal(c.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}) {
		t.Errorf("--trusted-proxies over the environment: %v (%v)", c.TrustedProxies, err)
	}
	for _, bad := range []struct{ value, want string }{
		{"0.0.0.0/0", "would take in every address"},
		{"::/0", "would take in every address"},
		{"::ffff:10.0.0.0/104", "IPv4 range in IPv6 form"},
		{"10.0.0.0/8,lb.internal", `"lb.internal" is not an IP address`},
		{"10.0.0.0/33", `"10.0.0.0/33" is not an IP address`},
		{"fe80::1%eth0", `"fe80::1%eth0" is not an IP address`},
	} {
		if _, err := parseConfig("serve", []string{"--trusted-proxies", bad.value}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("trusted proxies %q: %v, want an error containing %q", bad.value, err, bad.want)
		}
	}
}

// TestChannelNetworksSetting: tenants' webhooks and relays reach public
// addresses only unless GATEHOUSE_CHANNEL_NETWORKS opens private networks;
// ranges taking in loopback or a cloud metadata endpoint, or every address,
// are refused with the reason.
func TestChannelNetworksSetting(t *testing.T) {
	t.Setenv("GATEHOUSE_CHANNEL_NETWORKS", "")
	c, err := parseConfig("serve", nil)
	if err != nil || len(c.ChannelNetworks) != 0 {
		t.Fatalf("default channel networks %v (%v), want none", c.ChannelNetworks, err)
	}
	t.Setenv("GATEHOUSE_CHANNEL_NETWORKS", "10.20.0.0/16, 192.168.7.25, fd12:3456::/48")
	if c, err = parseConfig("serve", nil); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("192.168.7.25/32"), netip.MustParsePrefix("fd12:3456::/48")}
	if !slices.Equal(c.ChannelNetworks, want) {
		t.Errorf("channel networks %v, want %v", c.ChannelNetworks, want)
	}
	for _, bad := range []struct{ value, want string }{
		{"127.0.0.0/8", "takes in loopback"},
		{"127.0.0.2", "takes in loopback"},
		{"0.0.0.0/1", "takes in loopback"},
		{"::1", "takes in loopback"},
		{"169.254.0.0/16", "cloud metadata endpoint 169.254.169.254"},
		{"128.0.0.0/1", "cloud metadata endpoint 169.254.169.254"},
		{"fd00::/8", "cloud metadata endpoint fd00:ec2::254"},
		{"::/0", "would take in every address"},
		{"10.0.0.0/8;", `"10.0.0.0/8;" is not an IP address`},
	} {
		if _, err := parseConfig("serve", []string{"--channel-networks", bad.value}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("channel networks %q: %v, want an error containing %q", bad.value, err, bad.want)
		}
	}
}

// Channel networks holding Gatehouse's own Vault or PostgreSQL (written as
// IP addresses) are refused when serve starts.
func TestChannelNetworksMustNotHoldGatehousesOwnServices(t *testing.T) {
	t.Setenv("GATEHOUSE_VAULT_TOKEN", "test-token")
	t.Setenv("GATEHOUSE_DATABASE_URL", "postgres://gatehouse@10.30.0.4:5432/gatehouse")
	t.Setenv("GATEHOUSE_VAULT_ADDR", "https://10.40.0.9:8200")
	for _, tc := range []struct{ nets, want string }{
		{"10.20.0.0/16", ""},
		{"10.30.0.0/16", "holds Gatehouse's own PostgreSQL at 10.30.0.4"},
		{"10.20.0.0/16,10.40.0.9", "holds Gatehouse's own Vault at 10.40.0.9"},
	} {
		c, err := parseConfig("serve", []string{"--channel-networks", tc.nets})
		if err != nil {
			t.Fatal(err)
		}
		err = c.validateServe()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("channel networks %s: %v, want %q", tc.nets, err, tc.want)
		}
	}
}

// TestRateLimitStoreSetting: the rate limits' buckets are in PostgreSQL,
// shared by every replica, unless GATEHOUSE_RATE_LIMIT_STORE (or the flag,
// which wins) says memory; any other value is refused with the setting
// named.
func TestRateLimitStoreSetting(t *testing.T) {
	t.Setenv("GATEHOUSE_RATE_LIMIT_STORE", "")
	c, err := parseConfig("serve", nil)
	if err != nil || c.RateLimitStore != app.RateLimitsInPostgres {
		t.Fatalf("default rate limit store %q (%v), want postgres", c.RateLimitStore, err)
	}
	t.Setenv("GATEHOUSE_RATE_LIMIT_STORE", "memory")
	if c, err = parseConfig("serve", nil); err != nil || c.RateLimitStore != app.RateLimitsInMemory {
		t.Fatalf("GATEHOUSE_RATE_LIMIT_STORE=memory: %q (%v)", c.RateLimitStore, err)
	}
	if c, err = parseConfig("serve", []string{"--rate-limit-store", "postgres"}); err != nil || c.RateLimitStore != app.RateLimitsInPostgres {
		t.Fatalf("--rate-limit-store postgres over the environment's memory: %q (%v)", c.RateLimitStore, err)
	}
	for _, bad := range []string{"redis", "Postgres", "memory ", "off"} {
		_, err := parseConfig("serve", []string{"--rate-limit-store", bad})
		if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_RATE_LIMIT_STORE") || !strings.Contains(err.Error(), "rate limit store") {
			t.Errorf("rate limit store %q: %v, want it refused naming the setting", bad, err)
		}
	}
}
