package postgres_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

func TestCasbinPoliciesLoadFromPostgresPerTenant(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	// A grant only acme has, and a role link only in acme.
	if _, err := pool.Exec(ctx, `INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
		('p', 'approver', 'acme', 'reports', 'view'), ('g', 'responder', 'approver', 'acme', '')`); err != nil {
		t.Fatal(err)
	}
	e, err := authz.New(postgres.NewCasbinAdapter(pool))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		role   tenants.Role
		tenant string
		perm   authz.Permission
		want   bool
	}{
		{tenants.RoleRequester, "acme", authz.ViewConsole, true}, // migrated "*" default
		{tenants.RoleTenantAdmin, "globex", authz.ManageMappings, true},
		{tenants.RoleRequester, "globex", authz.ManageMappings, false},
		{tenants.RolePlatformOperator, "gatehouse", authz.ManageTenants, true},
		{tenants.RolePlatformOperator, "acme", authz.ManageTenants, false},
		{tenants.RoleApprover, "acme", "reports:view", true},
		{tenants.RoleApprover, "globex", "reports:view", false},
		{tenants.RoleResponder, "acme", "reports:view", true},
		{tenants.RoleResponder, "globex", "reports:view", false},
	}
	for _, c := range cases {
		if got := e.Allowed([]tenants.Role{c.role}, c.tenant, c.perm); got != c.want {
			t.Errorf("Allowed(%s, %s, %s) = %v, want %v", c.role, c.tenant, c.perm, got, c.want)
		}
	}

	// New rules are seen after Reload.
	if _, err := pool.Exec(ctx, `INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', 'approver', 'globex', 'reports', 'view')`); err != nil {
		t.Fatal(err)
	}
	e.Reload()
	if !e.Allowed([]tenants.Role{tenants.RoleApprover}, "globex", "reports:view") {
		t.Fatal("rule added in PostgreSQL not seen after Reload")
	}
}
