package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/testenv"
)

func policyValues(csrf string) url.Values {
	return url.Values{"_csrf": {csrf}, "requester_roles": {"requester"}, "step1_roles": {"approver"}, "step1_required": {"1"},
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
	stricter.Set("step1_required", "3")
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

// resourcePolicy is the stored policy of the tenant's resource named name.
func resourcePolicy(t *testing.T, f *fixture, name string) (approvals.Policy, bool) {
	t.Helper()
	var raw []byte
	var fromClass bool
	if err := f.pool.QueryRow(context.Background(), `SELECT policy, policy_from_class FROM resources WHERE name = $1`, name).Scan(&raw, &fromClass); err != nil {
		t.Fatal(err)
	}
	var p approvals.Policy
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p, fromClass
}

func TestAPolicyWithGroupsAndThreeStepsSurvivesTheEditor(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	admin, page := signedIn(t, console, "acme", "admin@acme.test")
	page = admin.Get(console + "/admin/catalog")
	add := policyValues(testenv.CSRF(t, page))
	add.Set("name", "Ledger")
	add.Set("path", "payments/")
	add.Set("classification", "high")
	add.Set("policy_source", "own")
	add.Set("requester_groups", "finance, auditors")
	add.Set("step1_name", "team")
	add.Set("step1_groups", "ledger-owners")
	add.Set("step2_name", "security")
	add.Set("step2_roles", "tenant-admin")
	add.Set("step2_groups", "security")
	add.Set("step2_required", "1")
	add.Set("step3_name", "compliance")
	add.Set("step3_groups", "compliance")
	add.Set("step3_required", "2")
	p := admin.PostForm(console+"/admin/catalog", add)
	if p.Status != http.StatusOK || p.Doc(t).Find(`[data-testid="policy-form"]`).Length() == 0 {
		t.Fatalf("add: %d at %s: %s", p.Status, p.URL, p.Doc(t).Find(`[data-testid="form-error"], .field-error`).Text())
	}
	want, _ := resourcePolicy(t, f, "Ledger")
	if g := want.Requesters.Groups; len(g) != 2 || g[0] != "finance" || g[1] != "auditors" {
		t.Fatalf("requester groups stored as %v", g)
	}
	if len(want.Steps) != 3 || want.Steps[1].Name != "security" || len(want.Steps[1].Approvers.Roles) != 1 ||
		want.Steps[1].Approvers.Groups[0] != "security" || want.Steps[2].Required != 2 || want.Steps[0].Approvers.Groups[0] != "ledger-owners" {
		t.Fatalf("steps stored as %+v", want.Steps)
	}

	// The editor shows everything, so saving it untouched changes nothing.
	again := admin.PostForm(p.URL.String()+"/policy", p.Form(t, `[data-testid="policy-form"]`))
	if again.Status != http.StatusOK || again.URL.Path != "/admin/catalog" {
		t.Fatalf("save as shown: %d at %s", again.Status, again.URL)
	}
	if got, _ := resourcePolicy(t, f, "Ledger"); !reflect.DeepEqual(got, want) {
		t.Fatalf("saving the editor as shown changed the policy:\n got %+v\nwant %+v", got, want)
	}

	// A step without approvers is refused, and nothing changes.
	bad := p.Form(t, `[data-testid="policy-form"]`)
	bad.Set("step4_name", "nobody")
	bad.Set("step4_required", "1")
	if r := admin.PostForm(p.URL.String()+"/policy", bad); r.Status != http.StatusBadRequest || !strings.Contains(fieldError(t, r, "policy.steps"), "Step 4") {
		t.Fatalf("a step with no approvers: %d", r.Status)
	}
	if got, _ := resourcePolicy(t, f, "Ledger"); !reflect.DeepEqual(got, want) {
		t.Fatal("a refused save changed the policy")
	}
}

func TestResourcesFollowTheirClassificationsPolicy(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	requester, _ := signedIn(t, console, "acme", "requester@acme.test")
	if p := requester.Get(console + "/admin/catalog/classes/critical"); p.Status != http.StatusForbidden {
		t.Fatalf("requester on a classification policy: %d", p.Status)
	}
	if p := admin.Get(console + "/admin/catalog/classes/secret"); p.Status != http.StatusNotFound {
		t.Fatalf("unknown classification: %d", p.Status)
	}
	page := admin.Get(console + "/admin/catalog")
	csrf := testenv.CSRF(t, page)

	// Following a classification that has no policy is refused; nothing is added.
	follow := policyValues(csrf)
	follow.Set("name", "Payments folder")
	follow.Set("path", "payments/")
	follow.Set("classification", "critical")
	follow.Set("policy_source", "class")
	if p := admin.PostForm(console+"/admin/catalog", follow); p.Status != http.StatusBadRequest || fieldError(t, p, "policy.source") == "" {
		t.Fatalf("following a classification without a policy: %d", p.Status)
	}
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM resources WHERE name = 'Payments folder'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused entry was added (%d, %v)", n, err)
	}

	critical := policyValues(csrf)
	critical.Set("step1_required", "2")
	critical.Set("max_duration", "2h")
	if p := admin.PostForm(console+"/admin/catalog/classes/critical/policy", critical); p.Status != http.StatusOK || p.URL.Path != "/admin/catalog" {
		t.Fatalf("set the critical policy: %d at %s", p.Status, p.URL)
	}
	// With a classification policy set, the add form offers following it first.
	if v := admin.Get(console+"/admin/catalog").Form(t, `[data-testid="add-resource"]`); v.Get("policy_source") != "class" {
		t.Fatalf("the add form's default policy source is %q", v.Get("policy_source"))
	}
	if p := admin.PostForm(console+"/admin/catalog", follow); p.Status != http.StatusOK || p.Doc(t).Find(`[data-testid="follows-class"]`).Length() == 0 {
		t.Fatalf("add a follower: %d at %s", p.Status, p.URL)
	}
	own := policyValues(csrf)
	own.Set("name", "Orders")
	own.Set("path", "db/orders")
	own.Set("classification", "critical")
	own.Set("policy_source", "own")
	if p := admin.PostForm(console+"/admin/catalog", own); p.Status != http.StatusOK {
		t.Fatalf("add with its own policy: %d", p.Status)
	}
	if p, from := resourcePolicy(t, f, "Payments folder"); !from || p.Steps[0].Required != 2 || p.MaxDuration != 2*time.Hour {
		t.Fatalf("the follower carries %+v (following: %v)", p, from)
	}

	// A request submitted now keeps its snapshot when the classification's policy changes.
	var folder string
	if err := f.pool.QueryRow(context.Background(), `SELECT id::text FROM resources WHERE name = 'Payments folder'`).Scan(&folder); err != nil {
		t.Fatal(err)
	}
	rcsrf := testenv.CSRF(t, requester.Get(console+"/catalog/"+folder))
	if sub := requester.PostForm(console+"/catalog/"+folder+"/requests", url.Values{"_csrf": {rcsrf}, "level": {"read"}, "justification": {"quarterly payout check"}}); !strings.HasPrefix(sub.URL.Path, "/requests/") {
		t.Fatalf("request under the follower ended at %s (%d)", sub.URL, sub.Status)
	}
	critical.Set("step1_required", "3")
	if p := admin.PostForm(console+"/admin/catalog/classes/critical/policy", critical); p.Status != http.StatusOK {
		t.Fatalf("change the critical policy: %d", p.Status)
	}
	if p, _ := resourcePolicy(t, f, "Payments folder"); p.Steps[0].Required != 3 {
		t.Fatalf("the follower did not follow: %d approvals", p.Steps[0].Required)
	}
	if p, from := resourcePolicy(t, f, "Orders"); from || p.Steps[0].Required != 1 {
		t.Fatalf("a resource with its own policy changed with its classification: %d approvals (following: %v)", p.Steps[0].Required, from)
	}
	var snapshot int
	if err := f.pool.QueryRow(context.Background(), `SELECT (policy->'steps'->0->>'required')::int FROM requests WHERE resource_id = $1::uuid`, folder).Scan(&snapshot); err != nil || snapshot != 2 {
		t.Fatalf("the pending request's snapshot requires %d (%v); want 2", snapshot, err)
	}
	if cp := admin.Get(console + "/admin/catalog/classes/critical"); !strings.Contains(cp.Doc(t).Find(`[data-testid="class-followers"]`).Text(), "1 resources follow it") {
		t.Fatal("the classification page does not count its follower")
	}

	// An invalid classification policy is refused and changes nothing.
	critical.Set("max_duration", "forever")
	if p := admin.PostForm(console+"/admin/catalog/classes/critical/policy", critical); p.Status != http.StatusBadRequest || fieldError(t, p, "policy.max_duration") == "" {
		t.Fatalf("invalid classification policy: %d", p.Status)
	}
	if p, _ := resourcePolicy(t, f, "Payments folder"); p.MaxDuration != 2*time.Hour || p.Steps[0].Required != 3 {
		t.Fatal("a refused classification policy reached its follower")
	}

	// Giving the follower its own policy ends following; following again takes the classification's.
	edit := admin.Get(console + "/admin/catalog/" + folder)
	mine := edit.Form(t, `[data-testid="policy-form"]`)
	mine.Set("policy_source", "own")
	mine.Set("step1_required", "1")
	if p := admin.PostForm(console+"/admin/catalog/"+folder+"/policy", mine); p.Status != http.StatusOK || p.URL.Path != "/admin/catalog" {
		t.Fatalf("own policy: %d", p.Status)
	}
	critical.Set("max_duration", "4h")
	admin.PostForm(console+"/admin/catalog/classes/critical/policy", critical)
	if p, from := resourcePolicy(t, f, "Payments folder"); from || p.Steps[0].Required != 1 || p.MaxDuration != 2*time.Hour {
		t.Fatalf("a resource that left its classification's policy still follows it: %+v (%v)", p, from)
	}
	mine.Set("policy_source", "class")
	if p := admin.PostForm(console+"/admin/catalog/"+folder+"/policy", mine); p.Status != http.StatusOK {
		t.Fatalf("follow again: %d", p.Status)
	}
	if p, from := resourcePolicy(t, f, "Payments folder"); !from || p.MaxDuration != 4*time.Hour {
		t.Fatalf("following again: %+v (%v)", p, from)
	}
	if auditCount(t, f, "classification.policy_changed", "success") != 3 || auditCount(t, f, "resource.policy_changed", "success") != 3 {
		t.Fatalf("audit: %d classification changes, %d resource changes", auditCount(t, f, "classification.policy_changed", "success"),
			auditCount(t, f, "resource.policy_changed", "success"))
	}
}
