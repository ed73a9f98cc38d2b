package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// An AWS secret, end to end in the browser: the tenant admin sees the
// binding tested and its secrets (names only); a requester asks for the
// secret, an approver approves, the requester reveals it once, takes STS
// credentials, and relinquishes.
func TestRequestApproveRevealAnAWSSecretInTheBrowser(t *testing.T) {
	base := startConsole(t)
	ctx := newBrowser(t)
	var status, names, requestURL, state, secret, creds, note, final string
	err := chromedp.Run(ctx,
		signIn(base, "admin@acme.test"),
		chromedp.Navigate(base+"/admin/stores"),
		chromedp.Click(`//a[text()="AWS payments"]`, chromedp.BySearch),
		chromedp.WaitVisible(`[data-testid="store-secrets"]`),
		chromedp.Click(`button[data-action="test"]`),
		chromedp.WaitVisible(`[data-testid="flash"]`),
		chromedp.Text(`[data-testid="binding-status"]`, &status),
		chromedp.Text(`[data-testid="store-secrets"]`, &names),
		signOut(),

		signIn(base, "requester@acme.test"),
		chromedp.Navigate(base+"/catalog"),
		chromedp.Click(`a[data-resource="Payments API key (AWS)"]`),
		chromedp.WaitVisible(`#justification`),
		chromedp.SetValue(`#justification`, "reconciling the payout provider's ledger"),
		chromedp.SetValue(`#duration`, "1h"),
		chromedp.Click(`[data-testid="submit-request"]`),
		chromedp.WaitVisible(`[data-testid="timeline"]`),
		chromedp.Location(&requestURL),
		signOut(),

		signIn(base, "approver1@acme.test"),
		chromedp.Navigate(base+"/approvals"),
		chromedp.Click(`[data-testid="inbox"] a`),
		chromedp.WaitVisible(`[data-testid="approve"]`),
		chromedp.Click(`[data-testid="approve"]`),
		chromedp.WaitVisible(`//ol[@data-testid="timeline"]/li[contains(., "Approved by approver1@acme.test")]`, chromedp.BySearch),
		signOut(),
		signIn(base, "requester@acme.test"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "ok") || !strings.Contains(names, "payments-api-key") || strings.Contains(names, "pk_demo") {
		t.Fatalf("binding page: status %q, secrets listed %q", status, names)
	}
	deadline := time.Now().Add(20 * time.Second)
	for state != "active" && time.Now().Before(deadline) {
		if err := chromedp.Run(ctx, chromedp.Navigate(requestURL), chromedp.Text(`[data-testid="state"]`, &state)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if state != "active" {
		t.Fatalf("grant state %q after approval", state)
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/grants"),
		chromedp.Click(`button[data-action="reveal"]`),
		chromedp.WaitVisible(`[data-testid="secret"]`),
		chromedp.Text(`[data-testid="secret"]`, &secret),
		chromedp.Navigate(base+"/grants"),
		chromedp.Click(`button[data-action="credentials"]`),
		chromedp.WaitVisible(`[data-testid="credential-note"]`),
		chromedp.Text(`[data-testid="secret"]`, &creds),
		chromedp.Text(`[data-testid="credential-note"]`, &note),
		chromedp.Navigate(base+"/grants"),
		chromedp.Click(`button[data-action="relinquish"]`),
		chromedp.WaitVisible(`[data-testid="timeline"]`),
		chromedp.Text(`[data-testid="state"]`, &final),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(secret, "pk_demo_acme_1f9a2c") {
		t.Fatalf("the reveal does not show the AWS secret (%d characters shown)", len(secret))
	}
	if !strings.Contains(creds, "AWS_ACCESS_KEY_ID") || !strings.Contains(creds, "AWS_SESSION_TOKEN") || !strings.Contains(note, "aws:TokenIssueTime") {
		t.Fatalf("the credentials page shows %d characters, note %q", len(creds), note)
	}
	if final != "revoked" {
		t.Fatalf("after relinquishing: %q", final)
	}
}
