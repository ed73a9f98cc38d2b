package approvals

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

func TestBreakGlassUnderAShare(t *testing.T) {
	sh := proposed()
	sh.State = ShareActive
	sh.Terms.Recipients = Audience{Roles: []tenants.Role{tenants.RoleResponder}}
	res := sh.Terms.Resources[0]
	res.BreakGlass = BreakGlass{Enabled: true, MaxDuration: 2 * time.Hour}
	recipResponder := Person{Tenant: recipT, Subject: "rr", Roles: []tenants.Role{tenants.RoleResponder}}
	thirdResponder := Person{Tenant: thirdT, Subject: "tr", Roles: []tenants.Role{tenants.RoleResponder}}
	unflagged := res
	unflagged.BreakGlass.Enabled = false
	unshared := res
	unshared.ID = "res-2"
	ended := sh
	ended.State = ShareEnded
	for _, tc := range []struct {
		name string
		who  Person
		sh   Share
		res  Resource
		code apperr.Code
	}{
		{"a recipient who is no responder", recipUser, sh, res, apperr.Forbidden},
		{"a responder of a third organization", thirdResponder, sh, res, apperr.Forbidden},
		{"a resource the owner did not flag", recipResponder, sh, unflagged, apperr.Forbidden},
		{"a resource outside the share", recipResponder, sh, unshared, apperr.NotFound},
		{"an ended share", recipResponder, ended, res, apperr.Conflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d, err := CheckSharedBreakGlass(tc.who, tc.sh, tc.res, emergency, true, InForce{}, DefaultLimits(), t0); apperr.CodeOf(err) != tc.code || d != 0 {
				t.Fatalf("got %s %v, want %s", d, err, tc.code)
			}
		})
	}
	if _, err := CheckSharedBreakGlass(recipResponder, sh, res, emergency, false, InForce{}, DefaultLimits(), t0); err != ErrStaleAuth {
		t.Fatalf("stale authentication: %v", err)
	}
	// By default the window is the shorter of the resource's maximum and the share's longest grant.
	if d, err := CheckSharedBreakGlass(recipResponder, sh, res, emergency, true, InForce{}, DefaultLimits(), t0); err != nil || d != time.Hour {
		t.Fatalf("default window: %s %v", d, err)
	}
	long := emergency
	long.Duration = 2 * time.Hour
	if _, err := CheckSharedBreakGlass(recipResponder, sh, res, long, true, InForce{}, DefaultLimits(), t0); apperr.As(err).Fields["duration"] == "" {
		t.Fatalf("a window over the share's longest grant: %v", err)
	}
	short := emergency
	short.Duration = 30 * time.Minute
	if d, err := CheckSharedBreakGlass(recipResponder, sh, res, short, true, InForce{}, DefaultLimits(), t0); err != nil || d != 30*time.Minute {
		t.Fatalf("eligible: %s %v", d, err)
	}
	// Near the term end the window ends with the share.
	if d, err := CheckSharedBreakGlass(recipResponder, sh, res, short, true, InForce{}, DefaultLimits(), sh.Terms.TermEnd.Add(-10*time.Minute)); err != nil || d != 10*time.Minute {
		t.Fatalf("near the term end: %s %v", d, err)
	}
}
