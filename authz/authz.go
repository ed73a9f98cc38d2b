// Package authz decides what a signed-in person may do, with casbin (RBAC
// with domains; the domain is the tenant slug). Policies live in PostgreSQL
// (table casbin_rules, seeded by migrations) and are loaded at start.
package authz

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/gatehouse/gatehouse/tenants"
)

//go:embed model.conf
var modelText string

// Permission is "object:action", e.g. "tenant.mappings:manage".
type Permission string

// The permissions routes require.
const (
	ViewConsole    Permission = "console:view"
	ViewMembers    Permission = "tenant.members:view"
	ManageMappings Permission = "tenant.mappings:manage"
	ManageTenants  Permission = "platform.tenants:manage"
)

// Split returns the permission's object and action.
func (p Permission) Split() (obj, act string) {
	obj, act, _ = strings.Cut(string(p), ":")
	return obj, act
}

// Enforcer answers permission checks from policies loaded once.
type Enforcer struct {
	e *casbin.SyncedEnforcer
}

// New loads the model and every policy from adapter. It fails when the
// policies cannot be read.
func New(adapter persist.Adapter) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authorization model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, adapter)
	if err != nil {
		return nil, fmt.Errorf("loading authorization policies: %w", err)
	}
	return &Enforcer{e: e}, nil
}

// Allowed reports whether any of roles grants perm in tenant.
func (a *Enforcer) Allowed(roles []tenants.Role, tenant string, perm Permission) bool {
	obj, act := perm.Split()
	for _, r := range roles {
		ok, err := a.e.Enforce(string(r), tenant, obj, act)
		if err == nil && ok {
			return true
		}
	}
	return false
}

// Reload re-reads the policies from the adapter.
func (a *Enforcer) Reload() error { return a.e.LoadPolicy() }
