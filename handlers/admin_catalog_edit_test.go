package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/testenv"
)

// storedDetails is the resource's row as the details form and its secret
// see it: name|description|owner team|classification|mount|path|policy.
func storedDetails(t *testing.T, f *fixture, id string) string {
	t.Helper()
	var s string
	if err := f.pool.QueryRow(context.Background(), `SELECT concat_ws('|', name, description, owner_team, classification, mount, path, policy::text)
		FROM resources WHERE id = $1::uuid`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func globexResource(t *testing.T, f *fixture) string {
	t.Helper()
	var id string
	if err := f.pool.QueryRow(context.Background(), `SELECT r.id::text FROM resources r JOIN tenants t ON t.id = r.tenant_id
		WHERE t.slug = 'globex' LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTenantAdminsEditAResourcesDetails(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	orders := resourceID(t, f, "Orders database")
	page := console + "/admin/catalog/" + orders
	before := storedDetails(t, f, orders)

	requester, home := signedIn(t, console, "acme", "requester@acme.test")
	if p := requester.Get(page); p.Status != http.StatusForbidden {
		t.Fatalf("a requester on the resource's admin page: %d", p.Status)
	}
	if p := requester.PostForm(page+"/details", url.Values{"_csrf": {testenv.CSRF(t, home)}, "name": {"Mine now"}, "classification": {"low"}}); p.Status != http.StatusForbidden {
		t.Fatalf("a requester editing details: %d", p.Status)
	}

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	p := admin.Get(page)
	form := p.Form(t, `[data-testid="details-form"]`)
	if p.Status != http.StatusOK || form.Get("name") != "Orders database" || form.Get("owner_team") != "payments" || form.Get("classification") != "high" {
		t.Fatalf("the details form: %d, %v", p.Status, form)
	}

	bad := p.Form(t, `[data-testid="details-form"]`)
	bad.Set("name", "  ")
	bad.Set("description", "typed, kept on the form")
	bad.Set("classification", "top-secret")
	r := admin.PostForm(page+"/details", bad)
	if r.Status != http.StatusBadRequest || fieldError(t, r, "name") == "" || fieldError(t, r, "classification") == "" {
		t.Fatalf("bad details: %d, name %q, classification %q", r.Status, fieldError(t, r, "name"), fieldError(t, r, "classification"))
	}
	if got := r.Form(t, `[data-testid="details-form"]`).Get("description"); got != "typed, kept on the form" {
		t.Fatalf("the re-rendered form lost what was typed: description %q", got)
	}
	if storedDetails(t, f, orders) != before || auditCount(t, f, "resource.updated", "success") != 0 {
		t.Fatal("refused details changed the resource or were audited")
	}

	good := p.Form(t, `[data-testid="details-form"]`)
	good.Set("name", "Orders database (primary)")
	good.Set("description", "Primary orders DB, EU region")
	good.Set("owner_team", "orders")
	good.Set("classification", "critical")
	good.Set("path", "payments/stripe-api-key") // not a field of the form: ignored
	good.Set("binding", "00000000-0000-0000-0000-000000000000")
	r = admin.PostForm(page+"/details", good)
	if r.Status != http.StatusOK || r.URL.Path != "/admin/catalog/"+orders {
		t.Fatalf("save details: %d at %s", r.Status, r.URL)
	}
	if v := r.Form(t, `[data-testid="details-form"]`); v.Get("name") != "Orders database (primary)" || v.Get("classification") != "critical" {
		t.Fatalf("the page after saving shows %v", v)
	}
	after := strings.Split(storedDetails(t, f, orders), "|")
	was := strings.Split(before, "|")
	if after[0] != "Orders database (primary)" || after[1] != "Primary orders DB, EU region" || after[2] != "orders" || after[3] != "critical" {
		t.Fatalf("stored details %v", after[:4])
	}
	if after[4] != was[4] || after[5] != was[5] || after[6] != was[6] {
		t.Fatalf("an edit of details moved the secret or changed its own policy: %v, was %v", after[4:], was[4:])
	}
	if n := auditCount(t, f, "resource.updated", "success"); n != 1 {
		t.Fatalf("%d resource.updated events, want 1", n)
	}
	var changed string
	if err := f.pool.QueryRow(context.Background(), `SELECT detail->>'changed' FROM audit_events WHERE action = 'resource.updated'`).Scan(&changed); err != nil ||
		changed != "name,description,owner_team,classification" {
		t.Fatalf("the event says %q changed (%v)", changed, err)
	}
	// The requester's catalog shows the new name.
	if c := requester.Get(console + "/catalog"); c.Doc(t).Find(`[data-resource="Orders database (primary)"]`).Length() != 1 {
		t.Fatal("the catalog does not show the new name")
	}

	// Another organization's resource is not there, and the probe is audited.
	csrf := testenv.CSRF(t, p)
	globex := globexResource(t, f)
	if r := admin.PostForm(console+"/admin/catalog/"+globex+"/details", url.Values{"_csrf": {csrf}, "name": {"Mine"}, "classification": {"low"}}); r.Status != http.StatusNotFound {
		t.Fatalf("editing another tenant's resource: %d", r.Status)
	}
	if auditCount(t, f, "access.cross_tenant", "denied") != 1 || auditCount(t, f, "resource.updated", "success") != 1 {
		t.Fatal("the cross-tenant edit was not audited as a probe, or changed something")
	}
}

func TestRetiringAResourceTakesItOutOfTheCatalog(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ci := resourceID(t, f, "CI deploy token")
	page := console + "/admin/catalog/" + ci
	requester, submitted := submitCI(t, f, console) // a pending request keeps it in use
	inCatalog := func() bool {
		return requester.Get(console+"/catalog").Doc(t).Find(`[data-resource="CI deploy token"]`).Length() == 1
	}

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	p := admin.Get(page)
	inUse := p.Doc(t).Find(`[data-testid="in-use"]`)
	if href := inUse.Find("a").AttrOr("href", ""); !strings.Contains(inUse.Text(), "1 open request(s)") || href != "/revocations/preview?scope=resource%3A"+ci {
		t.Fatalf("the page does not say what keeps it in use, linking the revocation scope: %q, %q", inUse.Text(), href)
	} else if rv := admin.Get(console + href); rv.Status != http.StatusOK || rv.Doc(t).Find(`[data-testid="confirm-form"]`).Length() != 1 {
		t.Fatalf("the link to the revocation center's resource scope: %d", rv.Status)
	}
	retire := url.Values{"_csrf": {testenv.CSRF(t, p)}, "confirm": {"CI deploy token"}, "reason": {"moved to workload identity"}}
	r := admin.PostForm(page+"/retire", retire)
	if msg := r.Doc(t).Find(`[data-testid="retire-error"]`).Text(); r.Status != http.StatusConflict || !strings.Contains(msg, "1 open request") {
		t.Fatalf("retire while a request is pending: %d, %q", r.Status, msg)
	}
	if !inCatalog() || auditCount(t, f, "resource.retired", "success") != 0 {
		t.Fatal("a refused retire took the resource out of the catalog")
	}

	// The requester withdraws the request; now only the confirmation stands in the way.
	cancel := requester.PostForm(console+submitted.URL.Path+"/cancel", url.Values{"_csrf": {testenv.CSRF(t, submitted)}})
	if cancel.Status != http.StatusOK || !strings.Contains(cancel.Body, "cancelled") {
		t.Fatalf("cancel: %d", cancel.Status)
	}
	for name, c := range map[string]struct{ confirm, reason, field string }{
		"no confirmation": {"", "moved to workload identity", "confirm"},
		"another name":    {"Orders database", "moved to workload identity", "confirm"},
		"no reason":       {"CI deploy token", "", "reason"},
	} {
		v := url.Values{"_csrf": retire["_csrf"], "confirm": {c.confirm}, "reason": {c.reason}}
		if r := admin.PostForm(page+"/retire", v); r.Status != http.StatusBadRequest || fieldError(t, r, c.field) == "" {
			t.Fatalf("retire with %s: %d, %s error %q", name, r.Status, c.field, fieldError(t, r, c.field))
		}
	}
	if requester.PostForm(page+"/retire", url.Values{"_csrf": {testenv.CSRF(t, submitted)}, "confirm": {"CI deploy token"}, "reason": {"not mine to retire"}}).Status != http.StatusForbidden {
		t.Fatal("a requester may retire a resource")
	}
	if !inCatalog() {
		t.Fatal("a refused retire took the resource out of the catalog")
	}

	r = admin.PostForm(page+"/retire", retire)
	if r.Status != http.StatusOK || r.URL.Path != "/admin/catalog/"+ci || !strings.Contains(r.Doc(t).Find(`[data-testid="retired"]`).Text(), "moved to workload identity") {
		t.Fatalf("retire: %d at %s", r.Status, r.URL)
	}
	if auditCount(t, f, "resource.retired", "success") != 1 {
		t.Fatal("the retire was not audited")
	}
	list := admin.Get(console + "/admin/catalog").Doc(t)
	if strings.Contains(list.Find(`[data-testid="admin-catalog"]`).Text(), "CI deploy token") ||
		!strings.Contains(list.Find(`[data-testid="retired-resources"]`).Text(), "CI deploy token") {
		t.Fatal("the admin's catalog does not list the resource as retired")
	}

	// Requesters no longer see it, and cannot request it.
	if inCatalog() {
		t.Fatal("the retired resource is still in the requester's catalog")
	}
	n := countRequests(t, f)
	if g := requester.Get(console + "/catalog/" + ci); g.Status != http.StatusNotFound {
		t.Fatalf("the retired resource's request form: %d", g.Status)
	}
	sub := requester.PostForm(console+"/catalog/"+ci+"/requests", url.Values{"_csrf": {testenv.CSRF(t, submitted)}, "level": {"read"}, "justification": {"deploy hotfix 1.2.4"}})
	if sub.Status != http.StatusNotFound || countRequests(t, f) != n {
		t.Fatalf("a request for the retired resource: %d, %d requests (was %d)", sub.Status, countRequests(t, f), n)
	}
	if auditCount(t, f, "access.cross_tenant", "denied") != 0 {
		t.Fatal("a request for the organization's own retired resource was audited as a cross-tenant probe")
	}

	// Restored, it is back in the catalog.
	csrf := testenv.CSRF(t, r)
	if g := admin.PostForm(console+"/admin/catalog/"+globexResource(t, f)+"/retire", url.Values{"_csrf": {csrf}, "confirm": {"Analytics warehouse"},
		"reason": {"probing another organization"}}); g.Status != http.StatusNotFound || auditCount(t, f, "access.cross_tenant", "denied") != 1 {
		t.Fatalf("retiring another tenant's resource: %d", g.Status)
	}
	if r := admin.PostForm(page+"/restore", url.Values{"_csrf": {csrf}, "reason": {" "}}); r.Status != http.StatusBadRequest ||
		fieldError(t, r, "reason") == "" || r.Doc(t).Find(`[data-testid="retired"]`).Length() != 1 || auditCount(t, f, "resource.restored", "success") != 0 {
		t.Fatalf("restore without a reason: %d", r.Status)
	}
	restore := url.Values{"_csrf": {csrf}, "reason": {"the payments migration was rolled back"}}
	if r := admin.PostForm(page+"/restore", restore); r.Status != http.StatusOK || r.Doc(t).Find(`[data-testid="retired"]`).Length() != 0 {
		t.Fatalf("restore: %d", r.Status)
	}
	if r := admin.PostForm(page+"/restore", restore); r.Status != http.StatusConflict {
		t.Fatalf("restoring a resource in the catalog: %d", r.Status)
	}
	if !inCatalog() || auditCount(t, f, "resource.restored", "success") != 1 {
		t.Fatal("the restored resource is not back in the catalog, or the restore was not audited")
	}
}
