package tenants

import (
	"slices"
	"testing"
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
