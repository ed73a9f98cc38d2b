package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/devstack"
)

// dexLogin fills the Dex password form the browser is on and submits it.
func dexLogin(email string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`#login`, chromedp.ByID),
		chromedp.SendKeys(`#login`, email, chromedp.ByID),
		chromedp.SendKeys(`#password`, devstack.DemoPassword, chromedp.ByID),
		chromedp.Submit(`#password`, chromedp.ByID),
	}
}

// fill replaces the value of the form field sel and types text into it.
func fill(sel, text string) chromedp.Tasks {
	return chromedp.Tasks{chromedp.Clear(sel), chromedp.SendKeys(sel, text)}
}

func TestOperatorOnboardsAThirdOrganizationInTheBrowser(t *testing.T) {
	base := startConsole(t)
	ctx := newBrowser(t)
	issuer := stack.IdPs.Issuers["initech"]

	var who, endpoints, roles, groups, activated string
	var shot []byte
	err := chromedp.Run(ctx,
		// The platform operator signs in at their own IdP.
		chromedp.Navigate(base+"/login"),
		chromedp.Click(`a[data-org="gatehouse"]`),
		dexLogin("operator@gatehouse.test"),
		chromedp.WaitVisible(`[data-testid="roles"]`),
		chromedp.Text(`[data-testid="who"]`, &who),

		// 1. organization
		chromedp.Navigate(base+"/platform/onboard"),
		fill(`#slug`, "initech"),
		fill(`#display_name`, "Initech"),
		fill(`#email_domains`, "initech.test"),
		chromedp.Submit(`#slug`),
		// 2. issuer: discovery is fetched and shown
		chromedp.WaitVisible(`#issuer_url`),
		fill(`#issuer_url`, issuer),
		chromedp.Submit(`#issuer_url`),
		chromedp.WaitVisible(`[data-testid="endpoints"]`),
		chromedp.Text(`[data-testid="endpoints"]`, &endpoints),
		// 3. client credentials, verified at the token endpoint
		fill(`#client_id`, "gatehouse"),
		fill(`#client_secret`, "gatehouse-dev-secret-initech"),
		chromedp.Submit(`#client_id`),
		// 4. mappings
		chromedp.WaitVisible(`#mappings`),
		chromedp.SetValue(`#mappings`, "it-admins = tenant-admin\ndevelopers = requester"),
		chromedp.Submit(`#mappings`),
		// 5. Vault mount (pre-filled)
		chromedp.WaitVisible(`#vault_mount`),
		chromedp.Submit(`#vault_mount`),
		// 6. a real test sign-in at the new IdP
		chromedp.WaitVisible(`[data-testid="test-signin"]`),
		chromedp.Click(`[data-testid="test-signin"]`),
		dexLogin("admin@initech.test"),
		chromedp.WaitVisible(`[data-testid="test-result"]`),
		chromedp.Text(`[data-testid="test-roles"]`, &roles),
		chromedp.Text(`[data-testid="test-groups"]`, &groups),
		// 7. activate
		chromedp.Navigate(base+"/platform/onboard/initech?step=7"),
		chromedp.WaitVisible(`[data-testid="activate"]`),
		chromedp.Click(`[data-testid="activate"]`),
		chromedp.WaitVisible(`[data-testid="activated"]`),
		chromedp.Text(`[data-testid="activated"]`, &activated),
		chromedp.FullScreenshot(&shot, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(artifact(t, "onboarding.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(who, "Gatehouse Platform") {
		t.Errorf("header shows %q", who)
	}
	if !strings.Contains(endpoints, issuer+"/token") {
		t.Errorf("endpoints shown: %q", endpoints)
	}
	if roles != "tenant-admin" || groups != "it-admins" {
		t.Errorf("test sign-in showed roles %q, groups %q", roles, groups)
	}
	if !strings.Contains(activated, "Initech is active") {
		t.Errorf("activation message %q", activated)
	}

	// A member of the new organization now signs in from the sign-in page.
	member := newBrowser(t)
	var memberOrg string
	err = chromedp.Run(member,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(`#email`, "dev@initech.test"),
		chromedp.Submit(`#email`),
		dexLogin("dev@initech.test"),
		chromedp.WaitVisible(`[data-testid="org"]`),
		chromedp.Text(`[data-testid="org"]`, &memberOrg),
	)
	if err != nil {
		t.Fatal(err)
	}
	if memberOrg != "Initech" {
		t.Errorf("member landed in %q", memberOrg)
	}
}
