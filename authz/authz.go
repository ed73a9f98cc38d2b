// Package authz decides what a signed-in person may do, with casbin (RBAC
// with domains; the domain is the tenant slug). Policies live in PostgreSQL
// (table casbin_rules, seeded by migrations) and are loaded at start.
package authz

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

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
	ViewConsole       Permission = "console:view"
	ViewMembers       Permission = "tenant.members:view"
	ManageMappings    Permission = "tenant.mappings:manage"
	ManageTenants     Permission = "platform.tenants:manage"
	ViewCatalog       Permission = "catalog:view"
	ManageCatalog     Permission = "catalog:manage"
	CreateRequests    Permission = "requests:create"
	DecideRequests    Permission = "requests:decide"
	ManageSettings    Permission = "tenant.settings:manage"
	UseBreakGlass     Permission = "breakglass:use"
	ViewBreakGlass    Permission = "breakglass:view"
	ReviewBreakGlass  Permission = "breakglass:review"
	UseGrants         Permission = "grants:use" // hold, reveal and relinquish one's own grants
	ViewShares        Permission = "shares:view"
	ManageShares      Permission = "shares:manage" // propose, accept, decline, end
	DecideShares      Permission = "shares:decide" // the owner's approvers
	ManageRevocations Permission = "revocations:manage"
	ViewAudit         Permission = "audit:view"
	ViewSecurity      Permission = "security:view"
	ManageSecurity    Permission = "security:manage"
	ManageReviews     Permission = "reviews:manage"
	ManageStores      Permission = "stores:manage" // bind cloud secret stores, test, rotate
)

// Split returns the permission's object and action.
func (p Permission) Split() (obj, act string) {
	obj, act, _ = strings.Cut(string(p), ":")
	return obj, act
}

// Domains is the filter Gatehouse passes to LoadFilteredPolicy: load the
// rules whose domain is one of these (p rules by their domain field, g rules
// by theirs).
type Domains []string

// Enforcer answers permission checks. Casbin evaluates every loaded rule on
// each check, so rules are partitioned: each tenant gets its own cached
// enforcer holding only that tenant's rules and the "*" rules, loaded on
// first use. Checks then cost the same with 10 tenants or 10,000.
type Enforcer struct {
	model   model.Model
	adapter persist.FilteredAdapter

	mu       sync.Mutex
	byTenant map[string]*casbin.SyncedCachedEnforcer
}

// New parses the model and loads the "*" rules from adapter to prove it
// works. It fails when the rules cannot be read.
func New(adapter persist.FilteredAdapter) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authorization model: %w", err)
	}
	a := &Enforcer{model: m, adapter: adapter, byTenant: map[string]*casbin.SyncedCachedEnforcer{}}
	if _, err := a.forTenant("*"); err != nil {
		return nil, err
	}
	return a, nil
}

// Allowed reports whether any of roles grants perm in tenant. It fails
// closed: when the tenant's rules cannot be loaded, nothing is allowed.
func (a *Enforcer) Allowed(roles []tenants.Role, tenant string, perm Permission) bool {
	e, err := a.forTenant(tenant)
	if err != nil {
		return false
	}
	obj, act := perm.Split()
	for _, r := range roles {
		ok, err := e.Enforce(string(r), tenant, obj, act)
		if err == nil && ok {
			return true
		}
	}
	return false
}

// Reload forgets every loaded rule; the next checks load them afresh.
func (a *Enforcer) Reload() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.byTenant)
}

func (a *Enforcer) forTenant(tenant string) (*casbin.SyncedCachedEnforcer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.byTenant[tenant]; ok {
		return e, nil
	}
	e, err := casbin.NewSyncedCachedEnforcer(a.model.Copy())
	if err != nil {
		return nil, fmt.Errorf("authorization enforcer: %w", err)
	}
	e.SetAdapter(a.adapter)
	if err := e.LoadFilteredPolicy(Domains{tenant, "*"}); err != nil {
		return nil, fmt.Errorf("loading authorization policies of %s: %w", tenant, err)
	}
	a.byTenant[tenant] = e
	return e, nil
}
