package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

// activeGrants gives n acme people an active grant of the orders database
// (submitted, approved twice, issued), straight through the stores.
func activeGrants(t *testing.T, dbURL string, n int) {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	inserter, _ := jobs.NewInserter(pool)
	store := postgres.NewRequestStore(pool, inserter, time.Now)
	var tenant, res string
	if err := pool.QueryRow(ctx, `SELECT t.id::text, r.id::text FROM resources r JOIN tenants t ON t.id = r.tenant_id
		WHERE t.slug = 'acme' AND r.name = 'Orders database'`).Scan(&tenant, &res); err != nil {
		t.Fatal(err)
	}
	vc := stack.VaultClient(t)
	for i := 0; i < n; i++ {
		who := approvals.Person{Tenant: tenant, Subject: fmt.Sprintf("e2e-%d", i), Email: fmt.Sprintf("e2e-%d@acme.test", i), Roles: []tenants.Role{tenants.RoleRequester}}
		req, err := store.Submit(ctx, tenant, res, who, approvals.Submission{Level: approvals.Read, Justification: "incident drill " + who.Email}, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"a1", "a2"} {
			if _, err := store.Decide(ctx, tenant, req, approvals.Person{Tenant: tenant, Subject: a, Roles: []tenants.Role{tenants.RoleApprover}}, true, "", 0, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		// The console's own workers run the grant job the approval
		// enqueued: whichever of it and this issuance comes second finds
		// the grant issued (ErrSettled) and leaves it.
		target, err := store.StartIssuing(ctx, req)
		if errors.Is(err, jobs.ErrSettled) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := jobs.Issue(ctx, store, vc, target, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOperatorFreezesATenantAndWatchesTheRevocationComplete(t *testing.T) {
	base, dbURL := startConsoleOn(t)
	activeGrants(t, dbURL, 3)
	ctx := newBrowser(t)
	var grants, percent, verified, told string
	var shot []byte
	steps := []struct {
		name    string
		actions chromedp.Tasks
	}{
		{"preview", chromedp.Tasks{
			signIn(base, "operator@gatehouse.test"),
			chromedp.Navigate(base + "/revocations"),
			chromedp.SendKeys(`#scope`, "tenant:acme"),
			chromedp.Click(`[data-testid="preview"]`),
			chromedp.WaitVisible(`[data-testid="impact"]`),
			chromedp.Text(`[data-testid="impact-grants"]`, &grants),
		}},
		{"confirm and watch", chromedp.Tasks{
			chromedp.SendKeys(`#confirm`, "tenant:acme"),
			chromedp.SendKeys(`#reason`, "partner compromised: freeze now"),
			chromedp.Click(`[data-testid="revoke"]`),
			chromedp.WaitVisible(`[data-testid="progress"]`),
			chromedp.WaitVisible(`[data-testid="completed"]`), // htmx polls the progress until done
			chromedp.Text(`[data-testid="percent"]`, &percent),
			chromedp.Text(`[data-testid="verified"]`, &verified),
			// Completed, the page reloads with the organizations told.
			chromedp.WaitVisible(`[data-testid="told"] tr[data-org="acme"][data-channel="chat"]`),
			chromedp.Text(`[data-testid="told"] tr[data-org="acme"][data-channel="chat"]`, &told),
			chromedp.FullScreenshot(&shot, 100),
		}},
	}
	for _, s := range steps {
		if err := chromedp.Run(ctx, s.actions); err != nil {
			var at string
			_ = chromedp.Run(ctx, chromedp.Location(&at))
			t.Fatalf("%s: %v (at %s)", s.name, err, at)
		}
	}
	if err := os.WriteFile(artifact(t, "revocation.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(grants) != "3" || strings.TrimSpace(percent) != "100%" || strings.TrimSpace(verified) != "3" {
		t.Fatalf("impact %q grants; progress %q, %q verified", grants, percent, verified)
	}
	if !strings.Contains(told, "the organization's chat webhook") { // nobody of acme signed in yet: no one to email
		t.Fatalf("acme told: %q", told)
	}
}
