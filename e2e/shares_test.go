package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestShareProposeApproveAcceptUseEndInTheBrowser(t *testing.T) {
	base := startConsole(t)
	ctx := newBrowser(t)
	var shareURL, state, secret, catalog string
	var shot []byte
	// The share's URL is known only once proposed: navigate to it lazily.
	toShare := chromedp.ActionFunc(func(ctx context.Context) error { return chromedp.Navigate(shareURL).Do(ctx) })
	state1 := func(want string) chromedp.Action {
		return chromedp.WaitVisible(`//span[@data-testid="share-state"][normalize-space(.)="`+want+`"]`, chromedp.BySearch)
	}
	steps := []struct {
		name    string
		actions chromedp.Tasks
	}{
		{"the owner's admin proposes", chromedp.Tasks{
			signIn(base, "admin@acme.test"),
			chromedp.Navigate(base + "/shares"),
			chromedp.Click(`[data-testid="propose-share"]`),
			chromedp.WaitVisible(`[data-testid="share-form"]`),
			chromedp.SetValue(`#recipient`, "globex"),
			chromedp.Click(`//label[contains(., "Orders database")]/input`, chromedp.BySearch),
			chromedp.SendKeys(`#recipients`, "requester"),
			chromedp.SetValue(`#term_end`, time.Now().AddDate(0, 0, 14).Format("2006-01-02")),
			chromedp.SendKeys(`#purpose`, "joint payments incident response"),
			chromedp.Click(`[data-testid="submit-share"]`),
			state1("proposed"),
			chromedp.Location(&shareURL),
			signOut(),
		}},
		{"the owner's approver approves", chromedp.Tasks{
			signIn(base, "approver1@acme.test"),
			toShare,
			chromedp.Click(`[data-testid="approve-share"]`),
			state1("awaiting-acceptance"),
			signOut(),
		}},
		{"the recipient's admin accepts", chromedp.Tasks{
			signIn(base, "admin@globex.test"),
			toShare,
			chromedp.Click(`[data-testid="accept-share"]`),
			state1("active"),
			chromedp.FullScreenshot(&shot, 100),
			signOut(),
		}},
		{"the recipient's requester uses it", chromedp.Tasks{
			signIn(base, "requester@globex.test"),
			chromedp.Navigate(base + "/catalog"),
			chromedp.Text(`[data-testid="shared-catalog"]`, &catalog),
			chromedp.Click(`a[data-shared="Orders database"]`),
			chromedp.WaitVisible(`#justification`),
			chromedp.SendKeys(`#justification`, "checking the payout run"),
			chromedp.Click(`[data-testid="submit-shared-request"]`),
			chromedp.WaitVisible(`[data-testid="timeline"]`),
			chromedp.Text(`[data-testid="state"]`, &state),
			chromedp.Navigate(base + "/grants"),
			chromedp.Click(`button[data-action="reveal"]`),
			chromedp.WaitVisible(`[data-testid="secret"]`),
			chromedp.Text(`[data-testid="secret"]`, &secret),
			signOut(),
		}},
		{"the owner ends it", chromedp.Tasks{
			signIn(base, "admin@acme.test"),
			toShare,
			chromedp.SendKeys(`#reason`, "incident closed"),
			chromedp.Click(`[data-testid="end-share"]`),
			state1("ended"),
		}},
	}
	for _, s := range steps {
		if err := chromedp.Run(ctx, s.actions); err != nil { // pages are not printed: one may hold the revealed value
			var at string
			_ = chromedp.Run(ctx, chromedp.Location(&at))
			t.Fatalf("%s: %v (at %s)", s.name, err, at)
		}
	}
	if err := os.WriteFile(artifact(t, "share.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(catalog, "Acme Corp") || state != "active" || !strings.Contains(secret, "demo-orders-password") {
		t.Fatalf("recipient access: catalog %q, state %q, value shown: %v", catalog, state, strings.Contains(secret, "demo-orders-password"))
	}
}
