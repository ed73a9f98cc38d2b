package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

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
		{"0.0.0.0/0", "would trust every address"},
		{"::/0", "would trust every address"},
		{"10.0.0.0/8,lb.internal", `"lb.internal" is not an IP address`},
		{"10.0.0.0/33", `"10.0.0.0/33" is not an IP address`},
		{"fe80::1%eth0", `"fe80::1%eth0" is not an IP address`},
	} {
		if _, err := parseConfig("serve", []string{"--trusted-proxies", bad.value}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("trusted proxies %q: %v, want an error containing %q", bad.value, err, bad.want)
		}
	}
}
