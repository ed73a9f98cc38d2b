package identity

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// TestStepUpNeedsAFreshSignInAndAnAcceptedACR: Dex (the tests' IdP) issues
// no acr claim, so the acr rule is tested here, on the claims themselves.
func TestStepUpNeedsAFreshSignInAndAnAcceptedACR(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	fresh, stale := now.Add(-time.Minute).Unix(), now.Add(-StepUpMaxAge-time.Second).Unix()
	for _, tc := range []struct {
		name      string
		c         claims
		acrValues string
		ok        bool
	}{
		{"fresh, no acr asked", claims{AuthTime: fresh}, "", true},
		{"fresh, acr ignored when none asked", claims{AuthTime: fresh, ACR: "pwd"}, "", true},
		{"no auth_time", claims{ACR: "mfa"}, "", false},
		{"stale", claims{AuthTime: stale}, "", false},
		{"stale with the right acr", claims{AuthTime: stale, ACR: "mfa"}, "mfa", false},
		{"the one acr asked", claims{AuthTime: fresh, ACR: "mfa"}, "mfa", true},
		{"one of the acr values asked", claims{AuthTime: fresh, ACR: "phrh"}, "phr  phrh", true},
		{"no acr when one is asked", claims{AuthTime: fresh}, "mfa", false},
		{"another acr", claims{AuthTime: fresh, ACR: "pwd"}, "mfa phr", false},
		{"a prefix of an accepted acr", claims{AuthTime: fresh, ACR: "ph"}, "phr", false},
	} {
		err := checkStepUp(tc.c, tc.acrValues, now)
		if tc.ok != (err == nil) || (err != nil && apperr.CodeOf(err) != apperr.Forbidden) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
