package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/testenv"
)

func policyValues(csrf string) url.Values {
	return url.Values{"_csrf": {csrf}, "requester_roles": {"requester"}, "approver_roles": {"approver"}, "required": {"1"},
		"step2_required": {"0"}, "default_duration": {"1h"}, "max_duration": {"8h"}, "justification_min": {"10"},
		"levels": {"read"}, "pending_timeout": {"24h"}}
}

func TestTenantAdminsBuildTheCatalogAndEditPolicies(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	requester, _ := signedIn(t, console, "acme", "requester@acme.test")
	if p := requester.Get(console + "/admin/catalog"); p.Status != http.StatusForbidden {
		t.Fatalf("requester on catalog management: %d", p.Status)
	}
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	page := admin.Get(console + "/admin/catalog")
	keys := page.Doc(t).Find(`[data-testid="vault-keys"]`).Text()
	if page.Status != http.StatusOK || !strings.Contains(keys, "payments/") || !strings.Contains(keys, "db/") {
		t.Fatalf("catalog management: %d, keys %q", page.Status, keys)
	}
	sub := admin.Get(console + "/admin/catalog?prefix=payments/")
	if !strings.Contains(sub.Body, "payments/stripe-api-key") || strings.Contains(sub.Body, "sk_demo_acme_payments") {
		t.Fatal("browsing shows no key names, or shows a value")
	}
	csrf := testenv.CSRF(t, page)

	bad := policyValues(csrf)
	bad.Set("name", "Payments folder")
	bad.Set("path", "../tenant-globex/x")
	bad.Set("max_duration", "forever")
	bad.Set("classification", "medium")
	p := admin.PostForm(console+"/admin/catalog", bad)
	if p.Status != http.StatusBadRequest || fieldError(t, p, "policy.max_duration") == "" {
		t.Fatalf("bad policy: %d", p.Status)
	}
	bad.Set("max_duration", "8h")
	if p := admin.PostForm(console+"/admin/catalog", bad); p.Status != http.StatusBadRequest || fieldError(t, p, "path") == "" {
		t.Fatalf("path escaping the mount: %d", p.Status)
	}
	good := policyValues(csrf)
	good.Set("name", "Payments folder")
	good.Set("path", "payments/")
	good.Set("classification", "critical")
	p = admin.PostForm(console+"/admin/catalog", good)
	if p.Status != http.StatusOK || p.Doc(t).Find(`[data-testid="policy-form"]`).Length() == 0 {
		t.Fatalf("add: %d at %s", p.Status, p.URL)
	}
	editURL := p.URL.String()

	// A pending request keeps the policy it was submitted under.
	folder := strings.TrimPrefix(p.URL.Path, "/admin/catalog/")
	rcsrf := testenv.CSRF(t, requester.Get(console+"/catalog/"+folder))
	sub2 := requester.PostForm(console+"/catalog/"+folder+"/requests", url.Values{"_csrf": {rcsrf}, "level": {"read"}, "justification": {"quarterly payout check"}})
	if !strings.HasPrefix(sub2.URL.Path, "/requests/") {
		t.Fatalf("request under the new entry ended at %s (%d)", sub2.URL, sub2.Status)
	}
	stricter := policyValues(csrf)
	stricter.Set("required", "3")
	if p := admin.PostForm(editURL+"/policy", stricter); p.Status != http.StatusOK || p.URL.Path != "/admin/catalog" {
		t.Fatalf("save policy: %d at %s", p.Status, p.URL)
	}
	var now, snapshot int
	if err := f.pool.QueryRow(context.Background(), `SELECT (res.policy->'steps'->0->>'required')::int, (r.policy->'steps'->0->>'required')::int
		FROM requests r JOIN resources res ON res.id = r.resource_id WHERE res.name = 'Payments folder'`).Scan(&now, &snapshot); err != nil {
		t.Fatal(err)
	}
	if now != 3 || snapshot != 1 {
		t.Fatalf("policy now requires %d, the pending request's snapshot %d; want 3 and 1", now, snapshot)
	}
	if auditCount(t, f, "resource.policy_changed", "success") != 1 || auditCount(t, f, "resource.added", "success") < 1 {
		t.Fatal("catalog changes not audited")
	}
}
