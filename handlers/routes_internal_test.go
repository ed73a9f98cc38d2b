package handlers

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/authz"
)

// publicRoutes is every route that may be called without signing in. A new
// public route must be added here on purpose.
var publicRoutes = map[string]bool{
	"healthz": true, "readyz": true, "metrics": true, "static": true,
	"login": true, "login.submit": true, "auth.start": true, "auth.callback": true,
}

var knownPermissions = map[authz.Permission]bool{
	authz.ViewConsole: true, authz.ViewMembers: true, authz.ManageMappings: true, authz.ManageTenants: true,
	authz.ViewCatalog: true, authz.ManageCatalog: true, authz.CreateRequests: true, authz.DecideRequests: true,
	authz.ManageSettings: true, authz.UseBreakGlass: true, authz.ViewBreakGlass: true, authz.ReviewBreakGlass: true,
	authz.UseGrants: true, authz.ViewShares: true, authz.ManageShares: true, authz.DecideShares: true, authz.ManageRevocations: true, authz.ViewAudit: true, authz.ViewSecurity: true, authz.ManageSecurity: true, authz.ManageReviews: true, authz.ManageStores: true,
}

func TestEveryRouteDeclaresAPermission(t *testing.T) {
	s := &Server{}
	seen := map[string]bool{}
	for _, r := range s.routes() {
		key := r.Method + " " + r.Path
		if seen[key] {
			t.Errorf("%s is listed twice", key)
		}
		seen[key] = true
		switch {
		case r.Perm == "":
			t.Errorf("%s (%s) declares no permission", key, r.Name)
		case r.Perm == Public && !publicRoutes[r.Name]:
			t.Errorf("%s (%s) is public but not in the test's list of public routes", key, r.Name)
		case r.Perm != Public && !knownPermissions[authz.Permission(r.Perm)]:
			t.Errorf("%s (%s) requires unknown permission %q", key, r.Name, r.Perm)
		case r.Perm != Public && publicRoutes[r.Name]:
			t.Errorf("%s (%s) is listed as public but requires %q", key, r.Name, r.Perm)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodDelete && r.Method != http.MethodPut {
			t.Errorf("%s: unexpected method", key)
		}
	}
	for name := range publicRoutes {
		found := false
		for _, r := range s.routes() {
			found = found || (r.Name == name && r.Perm == Public)
		}
		if !found {
			t.Errorf("public route %q no longer exists: drop it from the list", name)
		}
	}
}
