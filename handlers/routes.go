package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/static"
)

// Permission is what a route requires of the caller: Public, or an
// authz.Permission checked against the session's roles in its tenant.
type Permission string

// Public marks a route anyone may call, signed in or not.
const Public Permission = "public"

// needs returns the route permission for an authz permission.
func needs(p authz.Permission) Permission { return Permission(p) }

// Route is one entry of the routes list. Routes with a NavLabel appear in
// the navigation of people whose roles allow them.
//
// Rate limits (ratelimit.go) follow from the entry: a handler written
// s.signIn(h) is a sign-in step, limited per client address; every other
// route that changes state for a signed-in person is limited per session
// (limitedPerSession).
type Route struct {
	Method   string
	Path     string
	Name     string
	Perm     Permission
	NavLabel string
	Handler  echo.HandlerFunc
}

// limitedPerSession reports whether r falls under the per-session limit on
// changes: a signed-in route with a method other than GET or HEAD.
func (r Route) limitedPerSession() bool {
	return r.Perm != Public && r.Method != http.MethodGet && r.Method != http.MethodHead
}

// routes is every route Gatehouse serves, in one list.
func (s *Server) routes() []Route {
	return []Route{
		{http.MethodGet, "/healthz", "healthz", Public, "", s.healthz},
		{http.MethodGet, "/readyz", "readyz", Public, "", s.readyz},
		{http.MethodGet, "/metrics", "metrics", Public, "", s.metrics},
		{http.MethodGet, "/static/*", "static", Public, "", echo.StaticDirectoryHandler(static.FS, false)},
		{http.MethodGet, "/login", "login", Public, "", s.loginPage},
		{http.MethodPost, "/login", "login.submit", Public, "", s.signIn(s.loginSubmit)},
		{http.MethodGet, "/auth/:tenant/start", "auth.start", Public, "", s.signIn(s.authStart)},
		{http.MethodGet, "/auth/:tenant/callback", "auth.callback", Public, "", s.signIn(s.authCallback)},
		{http.MethodGet, "/", "dashboard", needs(authz.ViewConsole), "Dashboard", s.dashboard},
		{http.MethodPost, "/logout", "logout", needs(authz.ViewConsole), "", s.logout},
		{http.MethodGet, "/sessions", "sessions", needs(authz.ViewConsole), "", s.mySessions},
		{http.MethodPost, "/sessions/end-others", "sessions.end_others", needs(authz.ViewConsole), "", s.endOtherSessions},
		{http.MethodPost, "/sessions/:ref/end", "sessions.end", needs(authz.ViewConsole), "", s.endSession},
		{http.MethodGet, "/auth/:tenant/reauth", "auth.reauth", needs(authz.ViewConsole), "", s.signIn(s.reauth)},
		{http.MethodGet, "/catalog", "catalog", needs(authz.ViewCatalog), "Catalog", s.catalog},
		{http.MethodGet, "/catalog/:id", "catalog.request", needs(authz.CreateRequests), "", s.requestForm},
		{http.MethodPost, "/catalog/:id/requests", "requests.submit", needs(authz.CreateRequests), "", s.submitRequest},
		{http.MethodPost, "/catalog/:id/check", "requests.check", needs(authz.CreateRequests), "", s.checkRequest},
		{http.MethodGet, "/requests", "requests", needs(authz.CreateRequests), "My requests", s.myRequests},
		{http.MethodGet, "/requests/:id", "requests.show", needs(authz.ViewCatalog), "", s.requestDetail},
		{http.MethodPost, "/requests/:id/decide", "requests.decide", needs(authz.DecideRequests), "", s.decide},
		{http.MethodPost, "/requests/:id/cancel", "requests.cancel", needs(authz.CreateRequests), "", s.cancelRequest},
		{http.MethodPost, "/requests/:id/retry", "requests.retry", needs(authz.ViewCatalog), "", s.retryRequest},
		{http.MethodGet, "/approvals", "approvals", needs(authz.DecideRequests), "Approvals", s.inbox},
		{http.MethodGet, "/approvals/count", "approvals.count", needs(authz.DecideRequests), "", s.inboxCount},
		{http.MethodGet, "/grants", "grants", needs(authz.UseGrants), "My grants", s.grants},
		{http.MethodPost, "/grants/:id/:action", "grants.action", needs(authz.UseGrants), "", s.grantAction},
		{http.MethodGet, "/breakglass", "breakglass", needs(authz.ViewBreakGlass), "Break glass", s.breakGlassList},
		{http.MethodGet, "/breakglass/new", "breakglass.new", needs(authz.UseBreakGlass), "", s.breakGlassForm},
		{http.MethodPost, "/breakglass", "breakglass.submit", needs(authz.UseBreakGlass), "", s.breakGlassSubmit},
		{http.MethodGet, "/breakglass/:id", "breakglass.show", needs(authz.ViewBreakGlass), "", s.breakGlassDetail},
		{http.MethodPost, "/breakglass/:id/review", "breakglass.review", needs(authz.ReviewBreakGlass), "", s.breakGlassReview},
		{http.MethodGet, "/shares", "shares", needs(authz.ViewShares), "Shares", s.shares},
		{http.MethodGet, "/shares/new", "shares.new", needs(authz.ManageShares), "", s.shareForm},
		{http.MethodPost, "/shares", "shares.propose", needs(authz.ManageShares), "", s.shareSubmit},
		{http.MethodPost, "/shares/policy", "shares.policy", needs(authz.ManageShares), "", s.sharePolicySave},
		{http.MethodGet, "/shares/:id", "shares.show", needs(authz.ViewShares), "", s.shareDetail},
		{http.MethodPost, "/shares/:id/decide", "shares.decide", needs(authz.DecideShares), "", s.shareDecide},
		{http.MethodPost, "/shares/:id/accept", "shares.accept", needs(authz.ManageShares), "", s.shareAccept},
		{http.MethodPost, "/shares/:id/end", "shares.end", needs(authz.ManageShares), "", s.shareEnd},
		{http.MethodGet, "/shares/:id/resources/:rid", "shares.request", needs(authz.CreateRequests), "", s.sharedRequestForm},
		{http.MethodPost, "/shares/:id/resources/:rid", "shares.request.submit", needs(authz.CreateRequests), "", s.sharedRequestSubmit},
		{http.MethodGet, "/revocations", "revocations", needs(authz.ManageRevocations), "Revocations", s.revocations},
		{http.MethodGet, "/revocations/preview", "revocations.preview", needs(authz.ManageRevocations), "", s.revocationPreview},
		{http.MethodPost, "/revocations", "revocations.start", needs(authz.ManageRevocations), "", s.revocationStart},
		{http.MethodGet, "/revocations/:id", "revocations.show", needs(authz.ManageRevocations), "", s.revocation},
		{http.MethodGet, "/revocations/:id/progress", "revocations.progress", needs(authz.ManageRevocations), "", s.revocationProgress},
		{http.MethodGet, "/revocations/:id/report.json", "revocations.report", needs(authz.ManageRevocations), "", s.revocationReport},
		{http.MethodPost, "/revocations/:id/lift", "revocations.lift", needs(authz.ManageRevocations), "", s.revocationLift},
		{http.MethodGet, "/audit", "audit", needs(authz.ViewAudit), "Audit", s.auditViewer},
		{http.MethodGet, "/audit/export", "audit.export", needs(authz.ViewAudit), "", s.auditExport},
		{http.MethodPost, "/audit/verify", "audit.verify", needs(authz.ViewAudit), "", s.auditVerify},
		{http.MethodGet, "/security", "security", needs(authz.ViewSecurity), "Security", s.security},
		{http.MethodPost, "/security/alerts/:id/ack", "security.ack", needs(authz.ViewSecurity), "", s.alertAck},
		{http.MethodPost, "/security/settings", "security.settings", needs(authz.ManageSecurity), "", s.securitySettings},
		{http.MethodGet, "/reviews", "reviews", needs(authz.ManageReviews), "Access reviews", s.reviews},
		{http.MethodPost, "/reviews", "reviews.start", needs(authz.ManageReviews), "", s.reviewStart},
		{http.MethodGet, "/reviews/:id", "reviews.show", needs(authz.ManageReviews), "", s.campaign},
		{http.MethodGet, "/reviews/:id/report.csv", "reviews.report", needs(authz.ManageReviews), "", s.reviewReport},
		{http.MethodPost, "/reviews/:id/items/:item", "reviews.decide", needs(authz.ManageReviews), "", s.reviewDecide},
		{http.MethodGet, "/admin/breakglass", "admin.breakglass", needs(authz.ManageCatalog), "Break-glass settings", s.breakGlassSettings},
		{http.MethodPost, "/admin/breakglass/limits", "admin.breakglass.limits", needs(authz.ManageSettings), "", s.breakGlassLimitsSave},
		{http.MethodPost, "/admin/breakglass/:id", "admin.breakglass.resource", needs(authz.ManageCatalog), "", s.breakGlassResourceSave},
		{http.MethodGet, "/admin/catalog", "admin.catalog", needs(authz.ManageCatalog), "Catalog management", s.adminCatalog},
		{http.MethodPost, "/admin/catalog", "admin.catalog.add", needs(authz.ManageCatalog), "", s.adminCatalogAdd},
		{http.MethodGet, "/admin/catalog/classes/:class", "admin.catalog.class", needs(authz.ManageCatalog), "", s.classPolicyEditor},
		{http.MethodPost, "/admin/catalog/classes/:class/policy", "admin.catalog.class.save", needs(authz.ManageCatalog), "", s.classPolicySave},
		{http.MethodGet, "/admin/catalog/:id", "admin.catalog.policy", needs(authz.ManageCatalog), "", s.policyEditor},
		{http.MethodPost, "/admin/catalog/:id/policy", "admin.catalog.policy.save", needs(authz.ManageCatalog), "", s.policySave},
		{http.MethodPost, "/admin/catalog/:id/details", "admin.catalog.details", needs(authz.ManageCatalog), "", s.resourceDetailsSave},
		{http.MethodPost, "/admin/catalog/:id/retire", "admin.catalog.retire", needs(authz.ManageCatalog), "", s.resourceRetire},
		{http.MethodPost, "/admin/catalog/:id/restore", "admin.catalog.restore", needs(authz.ManageCatalog), "", s.resourceRestore},
		{http.MethodGet, "/admin/stores", "admin.stores", needs(authz.ManageStores), "Secret stores", s.stores},
		{http.MethodPost, "/admin/stores", "admin.stores.bind", needs(authz.ManageStores), "", s.storeBind},
		{http.MethodGet, "/admin/stores/:id", "admin.stores.show", needs(authz.ManageStores), "", s.store},
		{http.MethodPost, "/admin/stores/:id/test", "admin.stores.test", needs(authz.ManageStores), "", s.storeTest},
		{http.MethodGet, "/admin/replicas", "admin.replicas", needs(authz.ManageStores), "Replicas", s.replicas},
		{http.MethodPost, "/admin/replicas", "admin.replicas.add", needs(authz.ManageStores), "", s.replicaAdd},
		{http.MethodPost, "/admin/replicas/:id/:action", "admin.replicas.action", needs(authz.ManageStores), "", s.replicaAction},
		{http.MethodPost, "/admin/catalog/:id/rotation", "admin.catalog.rotation", needs(authz.ManageStores), "", s.rotationSave},
		{http.MethodPost, "/admin/catalog/:id/rotation/stop", "admin.catalog.rotation.stop", needs(authz.ManageStores), "", s.rotationStop},
		{http.MethodPost, "/admin/stores/:id/rotate", "admin.stores.rotate", needs(authz.ManageStores), "", s.storeRotate},
		{http.MethodGet, "/admin/notifications", "admin.notifications", needs(authz.ManageSettings), "Notifications", s.channels},
		{http.MethodPost, "/admin/notifications", "admin.notifications.save", needs(authz.ManageSettings), "", s.channelsSave},
		{http.MethodPost, "/admin/notifications/email", "admin.notifications.email", needs(authz.ManageSettings), "", s.channelsEmailSave},
		{http.MethodPost, "/admin/notifications/test", "admin.notifications.test", needs(authz.ManageSettings), "", s.channelsTest},
		{http.MethodGet, "/admin/members", "admin.members", needs(authz.ViewMembers), "Members", s.members},
		{http.MethodGet, "/admin/mappings", "admin.mappings", needs(authz.ManageMappings), "Role mappings", s.mappings},
		{http.MethodPost, "/admin/mappings", "admin.mappings.add", needs(authz.ManageMappings), "", s.mappingAdd},
		{http.MethodPost, "/admin/mappings/remove", "admin.mappings.remove", needs(authz.ManageMappings), "", s.mappingRemove},
		{http.MethodGet, "/platform/onboard", "platform.onboard", needs(authz.ManageTenants), "Onboard", s.onboardNew},
		{http.MethodPost, "/platform/onboard", "platform.onboard.start", needs(authz.ManageTenants), "", s.onboardStart},
		{http.MethodGet, "/platform/onboard/:tenant", "platform.onboard.show", needs(authz.ManageTenants), "", s.onboardShow},
		{http.MethodGet, "/platform/onboard/:tenant/test", "platform.onboard.test", needs(authz.ManageTenants), "", s.onboardTest},
		{http.MethodPost, "/platform/onboard/:tenant/:step", "platform.onboard.step", needs(authz.ManageTenants), "", s.onboardStep},
		{http.MethodGet, "/platform/tenants", "platform.tenants", needs(authz.ManageTenants), "Organizations", s.platformTenants},
		{http.MethodPost, "/platform/tenants/:tenant/:action", "platform.killswitch", needs(authz.ManageTenants), "", s.platformKillSwitch},
	}
}
