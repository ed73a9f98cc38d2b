package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/testenv"
)

// seedInitech registers the demo IdP's third organization, initech, so a
// third party can sign in.
func seedInitech(t *testing.T, f *fixture) {
	t.Helper()
	for _, o := range devstack.DemoOrgs() {
		if o.Slug != "initech" {
			continue
		}
		o.Unseeded = false
		o.Mappings = []tenants.RoleMapping{{Group: "it-admins", Role: tenants.RoleTenantAdmin}, {Group: "developers", Role: tenants.RoleRequester}}
		if err := devstack.Seed(context.Background(), f.pool, stack.VaultClient(t), []devstack.DemoOrg{o}, stack.IdPs.Issuers); err != nil {
			t.Fatal(err)
		}
	}
}

func shareState(t *testing.T, p testenv.Page) string {
	t.Helper()
	return strings.TrimSpace(p.Doc(t).Find(`[data-testid="share-state"]`).Text())
}

func TestAShareFromProposalToRecipientAccessAcrossTwoOrganizations(t *testing.T) {
	f := newFixture(t, nil)
	seedInitech(t, f)
	console := f.serve(t)
	orders := resourceID(t, f, "Orders database")
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	// The owner's share policy: the admins set it; bad values change nothing.
	list := admin.Get(console + "/shares")
	if p := admin.PostForm(console+"/shares/policy", url.Values{"_csrf": {testenv.CSRF(t, list)}, "required": {"0"}, "max_term_days": {"45"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "required") == "" {
		t.Fatalf("a policy needing no approval: %d", p.Status)
	}
	if p := admin.PostForm(console+"/shares/policy", url.Values{"_csrf": {testenv.CSRF(t, list)}, "required": {"1"}, "max_term_days": {"45"}}); p.Status != http.StatusOK {
		t.Fatalf("share policy: %d", p.Status)
	}
	if auditCount(t, f, "share.policy_changed", "success") != 1 {
		t.Fatal("the share policy change is not audited")
	}
	form := admin.Get(console + "/shares/new")
	if form.Status != http.StatusOK {
		t.Fatalf("proposal form: %d", form.Status)
	}
	good := url.Values{"_csrf": {testenv.CSRF(t, form)}, "recipient": {"globex"}, "resource": {orders}, "recipients": {"requester"},
		"level": {"read"}, "term_end": {time.Now().AddDate(0, 0, 30).Format("2006-01-02")}, "purpose": {"joint payments incident response"},
		"max_grant": {"1h"}, "mode": {"pre-approved"}}
	for field, bad := range map[string]string{"recipient": "acme", "term_end": time.Now().AddDate(0, 0, 50).Format("2006-01-02"),
		"resource": "", "level": "read-write", "purpose": "x"} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = vs
		}
		v.Set(field, bad)
		errField := map[string]string{"resource": "resources"}[field]
		if errField == "" {
			errField = field
		}
		if p := admin.PostForm(console+"/shares", v); p.Status != http.StatusBadRequest || fieldError(t, p, errField) == "" {
			t.Errorf("bad %s: %d %q", field, p.Status, fieldError(t, p, errField))
		}
	}
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM shares").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d shares created by bad proposals", n)
	}
	p := admin.PostForm(console+"/shares", good)
	if !strings.HasPrefix(p.URL.Path, "/shares/") || shareState(t, p) != "proposed" {
		t.Fatalf("proposal ended at %s (%d)", p.URL, p.Status)
	}
	share := p.URL.Path

	// The recipient does not see it yet; the owner's approver approves it.
	gadmin, _ := signedIn(t, console, "globex", "admin@globex.test")
	if p := gadmin.Get(console + share); p.Status != http.StatusNotFound {
		t.Fatalf("recipient before the owner's approval: %d", p.Status)
	}
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	page := appr.Get(console + share)
	if page.Doc(t).Find(`[data-testid="share-decide"]`).Length() != 1 {
		t.Fatal("the owner's approver is not offered the decision")
	}
	if p := appr.PostForm(console+share+"/decide", url.Values{"_csrf": {testenv.CSRF(t, page)}, "decision": {"approve"}}); shareState(t, p) != "awaiting-acceptance" {
		t.Fatalf("after approval: %d %q", p.Status, shareState(t, p))
	}
	// The owner cannot accept on the recipient's behalf.
	if p := admin.PostForm(console+share+"/accept", url.Values{"_csrf": {testenv.CSRF(t, admin.Get(console+share))}, "decision": {"accept"}}); p.Status != http.StatusForbidden {
		t.Fatalf("the owner accepting: %d", p.Status)
	}
	gpage := gadmin.Get(console + share)
	if gpage.Doc(t).Find(`[data-testid="share-accept"]`).Length() != 1 || strings.Contains(gpage.Body, "approver1@acme.test") {
		t.Fatal("the recipient admin is not offered acceptance, or sees the owner's approver's email")
	}
	if p := gadmin.PostForm(console+share+"/accept", url.Values{"_csrf": {testenv.CSRF(t, gpage)}, "decision": {"accept"}}); shareState(t, p) != "active" {
		t.Fatalf("after acceptance: %d %q", p.Status, shareState(t, p))
	}
	// Each side sees who was told in its own organization, and only there.
	if told := gpage.Doc(t).Find(`[data-testid="deliveries"]`).Text(); !strings.Contains(told, "admin@globex.test") ||
		!strings.Contains(told, "A share is offered to your organization") || strings.Contains(told, "@acme.test") {
		t.Fatalf("who was told at globex: %q", told)
	}
	if told := admin.Get(console + share).Doc(t).Find(`[data-testid="deliveries"]`).Text(); !strings.Contains(told, "Share accepted") ||
		!strings.Contains(told, "admin@acme.test") || strings.Contains(told, "@globex.test") {
		t.Fatalf("who was told at acme: %q", told)
	}

	// A third organization gets 404 on every share URL, and the probes are audited.
	third, _ := signedIn(t, console, "initech", "admin@initech.test")
	tcsrf := testenv.CSRF(t, third.Get(console+"/shares"))
	for _, probe := range []struct{ method, path string }{
		{http.MethodGet, share}, {http.MethodPost, share + "/end"}, {http.MethodPost, share + "/accept"},
	} {
		var got testenv.Page
		if probe.method == http.MethodGet {
			got = third.Get(console + probe.path)
		} else {
			got = third.PostForm(console+probe.path, url.Values{"_csrf": {tcsrf}, "decision": {"accept"}})
		}
		if got.Status != http.StatusNotFound || strings.Contains(got.Body, "payments incident") {
			t.Errorf("%s %s by a third organization: %d", probe.method, probe.path, got.Status)
		}
	}
	dev, _ := signedIn(t, console, "initech", "dev@initech.test") // a requester: may ask for shared resources
	if got := dev.Get(console + share + "/resources/" + orders); got.Status != http.StatusNotFound {
		t.Errorf("a third organization's requester at the shared request form: %d", got.Status)
	}
	if auditCount(t, f, "access.cross_tenant", "denied") != 4 {
		t.Fatal("the third organization's probes were not audited")
	}

	// The recipient's requester sees it in the catalog, marked with the owner, and gets access at once.
	req, _ := signedIn(t, console, "globex", "requester@globex.test")
	cat := req.Get(console + "/catalog")
	if row := cat.Doc(t).Find(`[data-testid="shared-catalog"]`).Text(); !strings.Contains(row, "Orders database") || !strings.Contains(row, "Acme Corp") {
		t.Fatalf("shared catalog: %q", row)
	}
	rform := req.Get(console + share + "/resources/" + orders)
	done := req.PostForm(console+share+"/resources/"+orders, url.Values{"_csrf": {testenv.CSRF(t, rform)}, "level": {"read"},
		"duration": {"30m"}, "justification": {"checking payouts"}})
	if !strings.HasPrefix(done.URL.Path, "/requests/") || strings.TrimSpace(done.Doc(t).Find(`[data-testid="state"]`).Text()) != "active" {
		t.Fatalf("shared request ended at %s (%d)", done.URL, done.Status)
	}
	grant := strings.TrimPrefix(done.URL.Path, "/requests/")
	reveal := req.PostForm(console+"/grants/"+grant+"/reveal", url.Values{"_csrf": {testenv.CSRF(t, req.Get(console+"/grants"))}})
	if !strings.Contains(reveal.Body, "demo-orders-password") {
		t.Fatalf("reveal of the shared secret: %d", reveal.Status)
	}
	// The owner sees the recipient's access on the share.
	if rows := admin.Get(console + share).Doc(t).Find(`[data-testid="share-requests"]`).Text(); !strings.Contains(rows, "requester@globex.test") {
		t.Fatalf("the owner does not see the recipient's access: %q", rows)
	}
	// Either side can end it.
	end := gadmin.PostForm(console+share+"/end", url.Values{"_csrf": {testenv.CSRF(t, gadmin.Get(console+share))}, "reason": {"incident closed"}})
	if shareState(t, end) != "ended" {
		t.Fatalf("after ending: %d %q", end.Status, shareState(t, end))
	}
	if auditCount(t, f, "share.ended", "success") != 2 {
		t.Fatal("the end is not on both sides of the audit trail")
	}
}
