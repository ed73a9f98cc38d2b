package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// signIn signs email in through the sign-in page and Dex.
func signIn(base, email string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/login"),
		chromedp.SendKeys(`#email`, email),
		chromedp.Submit(`#email`),
		dexLogin(email),
		chromedp.WaitVisible(`[data-testid="roles"]`),
	}
}

func signOut() chromedp.Tasks {
	return chromedp.Tasks{chromedp.Click(`[data-testid="logout"]`), chromedp.WaitVisible(`#email`)}
}

func TestRequestApproveRevealRelinquishInTheBrowser(t *testing.T) {
	base := startConsole(t)
	ctx := newBrowser(t)
	var requestURL, state, approvers, secret, final, remaining, wrapping string
	var shot []byte
	err := chromedp.Run(ctx,
		// The requester asks for the orders database (two approvals needed).
		signIn(base, "requester@acme.test"),
		chromedp.Navigate(base+"/catalog"),
		chromedp.Click(`a[data-resource="Orders database"]`),
		chromedp.WaitVisible(`#justification`),
		chromedp.SetValue(`#justification`, "investigating the failed payout run"),
		chromedp.SetValue(`#duration`, "30m"),
		chromedp.Click(`[data-testid="submit-request"]`),
		chromedp.WaitVisible(`[data-testid="timeline"]`),
		chromedp.Location(&requestURL),
		chromedp.Text(`[data-testid="state"]`, &state),
		chromedp.Text(`[data-testid="steps"]`, &approvers),
		signOut(),
	)
	if err != nil {
		t.Fatal(err)
	}
	if state != "pending" || !strings.Contains(approvers, "team: 2 approvals from role approver") {
		t.Fatalf("after submitting: state %q, approvers shown as %q", state, approvers)
	}
	// The first approver decides on the request's page, the second in place in the inbox (htmx).
	for i, a := range []string{"approver1@acme.test", "approver2@acme.test"} {
		var badge, outcome string
		decide := chromedp.Tasks{
			chromedp.Click(`[data-testid="inbox"] a`),
			chromedp.WaitVisible(`[data-testid="approve"]`),
			chromedp.Click(`[data-testid="approve"]`),
			// Wait for the vote itself: the timeline is on the page before the POST too.
			chromedp.WaitVisible(`//ol[@data-testid="timeline"]/li[contains(., "Approved by `+a+`")]`, chromedp.BySearch),
		}
		if i == 1 {
			decide = chromedp.Tasks{
				chromedp.Click(`[data-testid="approve-inline"]`),
				chromedp.WaitVisible(`[data-testid="outcome"]`),
				chromedp.Text(`[data-testid="outcome"]`, &outcome),
			}
		}
		if err := chromedp.Run(ctx,
			signIn(base, a),
			// The live badge in the navigation counts what waits for this approver.
			chromedp.WaitVisible(`[data-testid="inbox-count"]`),
			chromedp.Text(`[data-testid="inbox-count"]`, &badge),
			chromedp.Navigate(base+"/approvals"),
			chromedp.WaitVisible(`[data-testid="inbox"] a`),
			decide,
			signOut(),
		); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if badge != "1" {
			t.Fatalf("%s: badge %q, want 1", a, badge)
		}
		if i == 1 && !strings.Contains(outcome, "the request is approved") {
			t.Fatalf("decision in place: %q", outcome)
		}
	}
	// The last approval issued the grant; the requester reveals the secret once.
	err = chromedp.Run(ctx, signIn(base, "requester@acme.test"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := chromedp.Run(ctx, chromedp.Navigate(requestURL), chromedp.Text(`[data-testid="state"]`, &state)); err != nil {
			t.Fatal(err)
		}
		if state == "active" || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if state != "active" {
		t.Fatalf("grant state %q after approvals", state)
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/grants"),
		chromedp.Click(`button[data-action="reveal"]`),
		chromedp.WaitVisible(`[data-testid="secret"]`),
		chromedp.Text(`[data-testid="secret"]`, &secret),
		chromedp.FullScreenshot(&shot, 100),
		chromedp.Navigate(base+"/grants"),
		chromedp.Text(`[data-testid="remaining"]`, &remaining),
		chromedp.Click(`button[data-action="token"]`),
		chromedp.WaitVisible(`[data-testid="wrapping-token"]`),
		chromedp.Text(`[data-testid="wrapping-token"]`, &wrapping),
		chromedp.Navigate(base+"/grants"),
		chromedp.Click(`button[data-action="relinquish"]`),
		chromedp.WaitVisible(`[data-testid="timeline"]`),
		chromedp.Text(`[data-testid="state"]`, &final),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(artifact(t, "reveal.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(secret, "demo-orders-password") {
		t.Fatalf("the revealed page does not show the expected value (%d characters shown)", len(secret))
	}
	if !strings.HasSuffix(remaining, "m0s") || len(strings.TrimSpace(wrapping)) < 20 {
		t.Fatalf("grant showed %q left, wrapping token %d characters", remaining, len(wrapping))
	}
	if final != "revoked" {
		t.Fatalf("after relinquishing: %q", final)
	}
}

func TestTheRequestFormValidatesAsItIsFilledIn(t *testing.T) {
	base := startConsole(t)
	ctx := newBrowser(t)
	var durationErr, ticketErr string
	err := chromedp.Run(ctx,
		signIn(base, "requester@acme.test"),
		chromedp.Navigate(base+"/catalog"),
		chromedp.Click(`a[data-resource="Stripe API key"]`),
		chromedp.WaitVisible(`#duration`),
		chromedp.SendKeys(`#duration`, "99h"),
		chromedp.Click(`#justification`), // leaving the field fires change
		chromedp.WaitVisible(`#duration-error`),
		chromedp.Text(`#duration-error`, &durationErr),
		chromedp.SendKeys(`#ticket`, "JIRA-1"),
		chromedp.Click(`#justification`),
		chromedp.WaitVisible(`#ticket-error`),
		chromedp.Text(`#ticket-error`, &ticketErr),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(durationErr, "longest this resource allows is 8h") || !strings.Contains(ticketErr, "ticket reference") {
		t.Fatalf("inline messages: duration %q, ticket %q", durationErr, ticketErr)
	}
}
