package tenants

import (
	"testing"

	"github.com/gatehouse/gatehouse/apperr"
)

func TestCheckKillSwitch(t *testing.T) {
	const why = "credential leak INC-42"
	tests := []struct {
		name       string
		k          KillSwitch
		slug       string
		status     Status
		idpEnabled bool
		reason     string
		want       apperr.Code
	}{
		{"suspend active", Suspend, "acme", StatusActive, true, why, ""},
		{"suspend onboarding", Suspend, "acme", StatusOnboarding, true, why, ""},
		{"suspend twice", Suspend, "acme", StatusSuspended, true, why, apperr.Conflict},
		{"suspend without reason", Suspend, "acme", StatusActive, true, "  ", apperr.Invalid},
		{"suspend the platform", Suspend, PlatformSlug, StatusActive, true, why, apperr.Conflict},
		{"reactivate suspended", Reactivate, "acme", StatusSuspended, true, "", ""},
		{"reactivate active", Reactivate, "acme", StatusActive, true, "", apperr.Conflict},
		{"reactivate onboarding", Reactivate, "acme", StatusOnboarding, true, "", apperr.Conflict},
		{"disable enabled IdP", DisableIdP, "acme", StatusActive, true, why, ""},
		{"disable disabled IdP", DisableIdP, "acme", StatusActive, false, why, apperr.Conflict},
		{"disable without reason", DisableIdP, "acme", StatusActive, true, "", apperr.Invalid},
		{"disable the platform IdP", DisableIdP, PlatformSlug, StatusActive, true, why, apperr.Conflict},
		{"enable disabled IdP", EnableIdP, "acme", StatusActive, false, "", ""},
		{"enable enabled IdP", EnableIdP, "acme", StatusActive, true, "", apperr.Conflict},
		{"unknown action", KillSwitch("nuke"), "acme", StatusActive, true, why, apperr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckKillSwitch(tc.k, tc.slug, tc.status, tc.idpEnabled, tc.reason)
			if got := apperr.CodeOf(err); got != tc.want {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}
