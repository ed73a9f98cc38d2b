package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBreakGlassRevealAndReviewInTheBrowser(t *testing.T) {
	base := startConsole(t)
	ctx := newBrowser(t)
	var orders, detailURL, state, banner, secret, verdict string
	var ok bool
	var shot []byte
	err := chromedp.Run(ctx,
		// The approver has signed in before, so Gatehouse knows whom to tell.
		signIn(base, "approver1@acme.test"), signOut(),
		// The responder breaks glass: Gatehouse sends them to Dex for a fresh sign-in first.
		signIn(base, "responder@acme.test"),
		chromedp.Navigate(base+"/breakglass"),
		chromedp.Click(`[data-testid="break-glass"]`),
		dexLogin("responder@acme.test"),
		chromedp.WaitVisible(`[data-testid="breakglass-form"]`),
		chromedp.AttributeValue(`//select[@id="resource"]/option[contains(., "Orders database")]`, "value", &orders, &ok, chromedp.BySearch),
	)
	if err != nil || !ok {
		t.Fatalf("reaching the break-glass form: %v (option found: %v)", err, ok)
	}
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#resource`, orders),
		chromedp.SendKeys(`#incident`, "INC-4242"),
		chromedp.SendKeys(`#justification`, "orders database refuses connections, payments failing"),
		chromedp.SendKeys(`#duration`, "20m"),
		chromedp.Click(`[data-testid="submit-breakglass"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range []chromedp.Action{
		chromedp.WaitVisible(`[data-testid="review-due"]`),
		chromedp.Location(&detailURL),
		chromedp.Text(`[data-testid="state"]`, &state),
		chromedp.Text(`[data-testid="breakglass-banner"]`, &banner),
		chromedp.FullScreenshot(&shot, 100),
		// Reveal through My grants, exactly as for a JIT grant.
		chromedp.Click(`[data-testid="use-grant"]`),
		chromedp.Click(`button[data-action="reveal"]`),
		chromedp.WaitVisible(`[data-testid="secret"]`),
		chromedp.Text(`[data-testid="secret"]`, &secret),
		signOut(),
	} {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = chromedp.Run(tctx, a)
		cancel()
		if err != nil { // the page is not printed: it may hold the revealed value
			var at string
			_ = chromedp.Run(ctx, chromedp.Location(&at))
			t.Fatalf("step %d: %v (at %s)", i, err, at)
		}
	}
	if err := os.WriteFile(artifact(t, "breakglass.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if state != "active" || !strings.Contains(banner, "responder@acme.test on Orders database") {
		t.Fatalf("after breaking glass: state %q, banner %q", state, banner)
	}
	if !strings.Contains(secret, "demo-orders-password") {
		t.Fatalf("the revealed page does not show the expected value (%d characters shown)", len(secret))
	}
	// An approver reviews it afterwards.
	err = chromedp.Run(ctx,
		signIn(base, "approver1@acme.test"),
		chromedp.Navigate(detailURL),
		chromedp.WaitVisible(`[data-testid="review-form"]`),
		chromedp.Click(`input[name="verdict"][value="justified"]`),
		chromedp.SendKeys(`#notes`, "matches the INC-4242 timeline and on-call rota"),
		chromedp.Click(`[data-testid="submit-review"]`),
		chromedp.WaitVisible(`[data-testid="verdict"]`),
		chromedp.Text(`[data-testid="verdict"]`, &verdict),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.TrimSpace(verdict), "justified by approver1@acme.test") {
		t.Fatalf("verdict shown as %q", verdict)
	}
}
