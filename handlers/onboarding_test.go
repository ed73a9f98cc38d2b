package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/testenv"
)

func fieldError(t *testing.T, p testenv.Page, field string) string {
	t.Helper()
	return strings.TrimSpace(p.Doc(t).Find(`[data-testid="` + field + `-error"]`).Text())
}

func TestOnboardingWizardEndToEnd(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	op, _ := signedIn(t, console, "gatehouse", "operator@gatehouse.test")
	csrf := testenv.CSRF(t, op.Get(console+"/platform/onboard"))
	post := func(path string, form url.Values) testenv.Page {
		form.Set("_csrf", csrf)
		return op.PostForm(console+path, form)
	}
	issuer := stack.IdPs.Issuers["initech"]
	countTenants := func() int {
		var n int
		if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM tenants").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Step 1: bad input creates nothing.
	before := countTenants()
	if p := post("/platform/onboard", url.Values{"slug": {"Initech!"}, "display_name": {"Initech"}, "email_domains": {"initech.test"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "slug") == "" {
		t.Fatalf("bad slug: %d", p.Status)
	}
	if p := post("/platform/onboard", url.Values{"slug": {"acme"}, "display_name": {"Acme 2"}, "email_domains": {"acme2.test"}}); p.Status != http.StatusConflict || fieldError(t, p, "slug") == "" {
		t.Fatalf("duplicate slug: %d", p.Status)
	}
	if p := post("/platform/onboard", url.Values{"slug": {"initech"}, "display_name": {"Initech"}, "email_domains": {"initech.test, acme.test"}}); p.Status != http.StatusConflict || !strings.Contains(fieldError(t, p, "email_domains"), "acme.test") {
		t.Fatalf("claimed domain: %d", p.Status)
	}
	if countTenants() != before {
		t.Fatal("refused step 1 created a tenant")
	}
	p := post("/platform/onboard", url.Values{"slug": {"initech"}, "display_name": {"Initech"}, "email_domains": {"initech.test"}})
	if p.Status != http.StatusOK || p.URL.Path != "/platform/onboard/initech" {
		t.Fatalf("step 1: %d at %s", p.Status, p.URL)
	}

	// Step 2: bad settings, unreachable issuer, another issuer in discovery, then the real one.
	idp := func(issuer string) url.Values {
		return url.Values{"issuer_url": {issuer}, "scopes": {"openid email profile groups"}, "groups_claim": {"groups"}, "require_email_verified": {"on"}}
	}
	noOpenID := idp(issuer)
	noOpenID.Set("scopes", "email groups")
	if p := post("/platform/onboard/initech/issuer", noOpenID); p.Status != http.StatusBadRequest || !strings.Contains(fieldError(t, p, "scopes"), "openid") {
		t.Fatalf("scopes without openid: %d", p.Status)
	}
	if p := post("/platform/onboard/initech/issuer", idp("http://127.0.0.1:1/nowhere")); p.Status != http.StatusBadRequest || !strings.Contains(fieldError(t, p, "issuer_url"), "could not be reached") {
		t.Fatalf("unreachable issuer: %d %q", p.Status, fieldError(t, p, "issuer_url"))
	}
	other := strings.Replace(issuer, "127.0.0.1", "localhost", 1)
	if p := post("/platform/onboard/initech/issuer", idp(other)); p.Status != http.StatusBadRequest || !strings.Contains(fieldError(t, p, "issuer_url"), "different issuer") {
		t.Fatalf("mismatched issuer: %d %q", p.Status, fieldError(t, p, "issuer_url"))
	}
	p = post("/platform/onboard/initech/issuer", idp(issuer))
	if !strings.Contains(p.Doc(t).Find(`[data-testid="endpoints"]`).Text(), issuer+"/token") {
		t.Fatalf("step 2: endpoints not shown: %d", p.Status)
	}
	if cb := p.Doc(t).Find(`[data-testid="callback"]`).Text(); cb != stack.PublicURL+"/auth/initech/callback" {
		t.Fatalf("callback shown %q", cb)
	}

	// Step 3: a wrong secret is caught at the token endpoint and never stored.
	if p := post("/platform/onboard/initech/client", url.Values{"client_id": {"gatehouse"}, "client_secret": {"wrong-secret"}}); p.Status != http.StatusBadRequest || !strings.Contains(fieldError(t, p, "client_secret"), "rejected") {
		t.Fatalf("wrong secret: %d %q", p.Status, fieldError(t, p, "client_secret"))
	}
	if p := post("/platform/onboard/initech/client", url.Values{"client_id": {"gatehouse"}, "client_secret": {"gatehouse-dev-secret-initech"}}); p.Status != http.StatusOK || strings.Contains(p.Body, "gatehouse-dev-secret-initech") {
		t.Fatalf("step 3: %d (or the secret is on the page)", p.Status)
	}
	stored, err := stack.VaultClient(t).ReadClientSecret(context.Background(), "gatehouse/idp/initech")
	if err != nil || stored != "gatehouse-dev-secret-initech" {
		t.Fatalf("client secret in Vault: %v", err)
	}

	// Step 4: no tenant-admin is refused.
	if p := post("/platform/onboard/initech/mappings", url.Values{"mappings": {"developers = requester"}}); p.Status != http.StatusBadRequest || !strings.Contains(fieldError(t, p, "mappings"), "tenant-admin") {
		t.Fatalf("mappings without admin: %d", p.Status)
	}
	post("/platform/onboard/initech/mappings", url.Values{"mappings": {"it-admins = tenant-admin\ndevelopers = requester"}})

	// Step 5: a reserved mount is refused; the default one is created.
	if p := post("/platform/onboard/initech/vault", url.Values{"vault_mount": {"sys"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "vault_mount") == "" {
		t.Fatalf("reserved mount: %d", p.Status)
	}
	p = post("/platform/onboard/initech/vault", url.Values{"vault_mount": {"tenant-initech"}})
	if !strings.Contains(p.Body, "tenant-initech") {
		t.Fatalf("step 5: %d", p.Status)
	}
	// With the mount ready, cloud stores may be bound here too (optional).
	if p.Doc(t).Find(`[data-testid="onboarding-stores"] [data-testid="bind-store"]`).Length() != 1 {
		t.Fatal("the wizard offers no cloud store binding after the Vault step")
	}
	if p := post("/platform/onboard/initech/stores", url.Values{"kind": {"aws-secretsmanager"}, "name": {"Initech AWS"}, "account": {"1"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "account") == "" {
		t.Fatalf("a bad cloud binding in the wizard: %d", p.Status)
	}
	p = post("/platform/onboard/initech/stores", url.Values{"kind": {"aws-secretsmanager"}, "name": {"Initech AWS"}, "account": {devstack.MotoAccount},
		"region": {"us-east-2"}, "prefix": {"initech/"}, "access_key_id": {stack.AWSAdmin.AccessKeyID}, "secret_access_key": {stack.AWSAdmin.SecretAccessKey}})
	if bound := p.Doc(t).Find(`[data-testid="onboarding-bindings"]`).Text(); p.Status != http.StatusOK || !strings.Contains(bound, "Initech AWS") || !strings.Contains(bound, "ok") {
		t.Fatalf("binding AWS in the wizard: %d, listed %q", p.Status, bound)
	}

	// Activation before the test sign-in is refused.
	if p := post("/platform/onboard/initech/activate", url.Values{}); p.Status != http.StatusConflict {
		t.Fatalf("early activation: %d", p.Status)
	}
	// Nobody can sign in to an onboarding tenant.
	if p := testenv.NewBrowser(t).Get(console + "/auth/initech/start"); p.Status != http.StatusForbidden {
		t.Fatalf("sign-in before activation: %d", p.Status)
	}

	// Step 6: a real test sign-in; it records claims and roles, and signs nobody in.
	sessionBefore := op.Cookie(console, sessionCookie)
	p = op.SubmitLogin(op.Get(console+"/platform/onboard/initech/test"), "admin@initech.test", devstack.DemoPassword)
	d := p.Doc(t)
	if p.URL.Path != "/platform/onboard/initech" || d.Find(`[data-testid="test-roles"]`).Text() != "tenant-admin" ||
		d.Find(`[data-testid="test-groups"]`).Text() != "it-admins" {
		t.Fatalf("test sign-in: at %s, roles %q", p.URL, d.Find(`[data-testid="test-roles"]`).Text())
	}
	if op.Cookie(console, sessionCookie) != sessionBefore {
		t.Fatal("the test sign-in replaced the operator's session")
	}
	var initechSessions int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions s JOIN tenants t ON t.id = s.tenant_id
		WHERE t.slug = 'initech'`).Scan(&initechSessions); err != nil {
		t.Fatal(err)
	}
	if initechSessions != 0 {
		t.Fatal("the test sign-in created a session")
	}

	// Step 7: activate; now initech people sign in for real.
	p = post("/platform/onboard/initech/activate", url.Values{})
	if p.Doc(t).Find(`[data-testid="activated"]`).Length() == 0 {
		t.Fatalf("activation: %d", p.Status)
	}
	_, home := signedIn(t, console, "initech", "admin@initech.test")
	if got := roles(t, home); len(got) != 1 || got[0] != "tenant-admin" {
		t.Fatalf("initech admin roles %v", got)
	}
	var steps int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events e JOIN tenants t ON t.id = e.tenant_id
		WHERE t.slug = 'initech' AND e.action IN ('onboarding.started', 'onboarding.step', 'tenant.activated')`).Scan(&steps); err != nil {
		t.Fatal(err)
	}
	if steps != 7 {
		t.Fatalf("%d onboarding audit events, want 7", steps)
	}
	if n := auditCount(t, f, "onboarding.refused", "failure"); n != 10 {
		t.Fatalf("%d refused wizard steps audited, want all 10", n)
	}
	var leaks int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE detail::text LIKE '%dev-secret%'`).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Fatal("the client secret reached the audit trail")
	}
	// Everything the wizard and the sign-ins recorded verifies.
	rep, err := postgres.VerifyAudit(context.Background(), f.pool, "")
	if err != nil || len(rep.Problems) != 0 || rep.Events < 20 {
		t.Fatalf("audit verification: %+v, %v", rep, err)
	}
}
