package authz

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/tenants"
)

// defaultPolicy mirrors migrations/0003_default_policies.sql; the postgres
// tests load the real table through the real adapter.
const defaultPolicy = `
p, requester, *, console, view
p, tenant-admin, *, console, view
p, auditor, *, console, view
p, platform-operator, *, console, view
p, tenant-admin, *, tenant.members, view
p, auditor, *, tenant.members, view
p, tenant-admin, *, tenant.mappings, manage
p, platform-operator, gatehouse, platform.tenants, manage
p, approver, acme, special, view
g, responder, approver, acme
`

func newEnforcer(t testing.TB, policy string) *Enforcer {
	t.Helper()
	e, err := New(newLinesAdapter(policy))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestAllowed(t *testing.T) {
	e := newEnforcer(t, defaultPolicy)
	tests := []struct {
		roles  []tenants.Role
		tenant string
		perm   Permission
		want   bool
	}{
		{[]tenants.Role{tenants.RoleRequester}, "acme", ViewConsole, true},
		{[]tenants.Role{tenants.RoleRequester}, "acme", ManageMappings, false},
		{[]tenants.Role{tenants.RoleRequester, tenants.RoleTenantAdmin}, "acme", ManageMappings, true},
		{[]tenants.Role{tenants.RoleAuditor}, "globex", ViewMembers, true},
		{[]tenants.Role{tenants.RoleAuditor}, "globex", ManageMappings, false},
		// platform permissions exist only in the platform tenant
		{[]tenants.Role{tenants.RolePlatformOperator}, "gatehouse", ManageTenants, true},
		{[]tenants.Role{tenants.RolePlatformOperator}, "acme", ManageTenants, false},
		{[]tenants.Role{tenants.RoleTenantAdmin}, "gatehouse", ManageTenants, false},
		// tenant-specific grants and inheritance stay in their tenant
		{[]tenants.Role{tenants.RoleApprover}, "acme", "special:view", true},
		{[]tenants.Role{tenants.RoleApprover}, "globex", "special:view", false},
		{[]tenants.Role{tenants.RoleResponder}, "acme", "special:view", true},
		{[]tenants.Role{tenants.RoleResponder}, "globex", "special:view", false},
		{nil, "acme", ViewConsole, false},
	}
	for _, tc := range tests {
		if got := e.Allowed(tc.roles, tc.tenant, tc.perm); got != tc.want {
			t.Errorf("Allowed(%v, %s, %s) = %v, want %v", tc.roles, tc.tenant, tc.perm, got, tc.want)
		}
	}
}

// bigPolicy returns per-tenant policies for n tenants × 6 roles (4 grants
// each), the scale issue 3 asks the check to be measured at.
func bigPolicy(n int) string {
	var b strings.Builder
	b.WriteString(defaultPolicy)
	for i := range n {
		for _, r := range tenants.Roles() {
			for _, obj := range []string{"requests", "grants", "audit", "catalog"} {
				fmt.Fprintf(&b, "p, %s, tenant-%04d, %s, view\n", r, i, obj)
			}
		}
	}
	return b.String()
}

func TestBigPolicyStillIsolatesTenants(t *testing.T) {
	e := newEnforcer(t, bigPolicy(1000))
	roles := []tenants.Role{tenants.RoleApprover}
	if !e.Allowed(roles, "tenant-0999", "audit:view") {
		t.Fatal("own tenant's grant denied")
	}
	if e.Allowed(roles, "tenant-1000", "audit:view") {
		t.Fatal("grant in an unknown tenant")
	}
}

func TestRulesLoadOncePerTenantAndReloadForgetsThem(t *testing.T) {
	a := newLinesAdapter(defaultPolicy)
	e, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.Allowed([]tenants.Role{tenants.RoleRequester}, "acme", ViewConsole)
		e.Allowed([]tenants.Role{tenants.RoleRequester}, "globex", ViewConsole)
	}
	if a.loads != 3 { // "*" at New, then acme and globex once each
		t.Fatalf("%d loads, want 3", a.loads)
	}
	e.Reload()
	e.Allowed([]tenants.Role{tenants.RoleRequester}, "acme", ViewConsole)
	if a.loads != 4 {
		t.Fatalf("%d loads after Reload, want 4", a.loads)
	}
}

// BenchmarkAllowed measures one permission check of a session holding two
// roles, with 1,000 tenants × 6 roles of policy loaded (24,000+ rules).
// The worst case is a denial: every role is tried.
func BenchmarkAllowed(b *testing.B) {
	e := newEnforcer(b, bigPolicy(1000))
	roles := []tenants.Role{tenants.RoleRequester, tenants.RoleApprover}
	b.Run("first-check-of-a-tenant", func(b *testing.B) {
		i := 0
		for b.Loop() {
			e.Reload()
			if !e.Allowed(roles, fmt.Sprintf("tenant-%04d", i%1000), "grants:view") {
				b.Fatal("denied")
			}
			i++
		}
	})
	b.Run("allowed", func(b *testing.B) {
		for b.Loop() {
			if !e.Allowed(roles, "tenant-0500", "grants:view") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("denied", func(b *testing.B) {
		for b.Loop() {
			if e.Allowed(roles, "tenant-0500", ManageMappings) {
				b.Fatal("allowed")
			}
		}
	})
}
