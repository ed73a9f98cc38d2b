package main

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/handlers"
)

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
