package tenants

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/apperr"
)

func TestRolesFor(t *testing.T) {
	mappings := []RoleMapping{
		{Group: "admins", Role: RoleTenantAdmin},
		{Group: "approvers", Role: RoleApprover},
		{Group: "sec", Role: RoleApprover},
		{Group: "sec", Role: RoleAuditor},
	}
	tests := []struct {
		groups []string
		want   []Role
	}{
		{nil, nil},
		{[]string{"unmapped"}, nil},
		{[]string{"approvers"}, []Role{RoleApprover}},
		{[]string{"sec", "approvers"}, []Role{RoleApprover, RoleAuditor}},
		{[]string{"sec", "admins"}, []Role{RoleTenantAdmin, RoleApprover, RoleAuditor}},
		{[]string{"Admins"}, nil}, // group names are compared exactly
	}
	for _, tc := range tests {
		if got := RolesFor(tc.groups, mappings); !slices.Equal(got, tc.want) {
			t.Errorf("RolesFor(%v) = %v, want %v", tc.groups, got, tc.want)
		}
	}
}

func TestCheckMappings(t *testing.T) {
	admin := RoleMapping{Group: "admins", Role: RoleTenantAdmin}
	tests := []struct {
		name string
		slug string
		ms   []RoleMapping
		ok   bool
	}{
		{"admin only", "acme", []RoleMapping{admin}, true},
		{"admin and approvers", "acme", []RoleMapping{admin, {Group: "approvers", Role: RoleApprover}}, true},
		{"no admin left", "acme", []RoleMapping{{Group: "approvers", Role: RoleApprover}}, false},
		{"empty", "acme", nil, false},
		{"blank group", "acme", []RoleMapping{admin, {Group: " ", Role: RoleApprover}}, false},
		{"unknown role", "acme", []RoleMapping{admin, {Group: "x", Role: "root"}}, false},
		{"duplicate", "acme", []RoleMapping{admin, admin}, false},
		{"operator outside the platform", "acme", []RoleMapping{admin, {Group: "ops", Role: RolePlatformOperator}}, false},
		{"operator in the platform", PlatformSlug, []RoleMapping{{Group: "ops", Role: RolePlatformOperator}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckMappings(tc.slug, tc.ms)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckMappings = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("code %s", apperr.CodeOf(err))
			}
		})
	}
}
