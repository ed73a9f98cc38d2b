package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An htmx request refused by the per-session limit shows its notice in the
// page's notices area: the refusal is seen, not dropped by htmx.
func TestARefusedHtmxChangeShowsItsNotice(t *testing.T) {
	t.Setenv("GATEHOUSE_CHANGE_RATE", "0.0167") // one a minute: no refill during the test
	t.Setenv("GATEHOUSE_CHANGE_BURST", "1")
	base := startConsole(t)
	ctx := newBrowser(t)
	var notice string
	err := chromedp.Run(ctx,
		signIn(base, "requester@acme.test"),
		chromedp.Navigate(base+"/catalog"),
		chromedp.Click(`a[data-resource="Stripe API key"]`),
		chromedp.WaitVisible(`#duration`),
		chromedp.SendKeys(`#duration`, "99h"),
		chromedp.Click(`#justification`), // the inline check: the session's one change
		chromedp.WaitVisible(`#duration-error`),
		chromedp.SendKeys(`#ticket`, "JIRA-1"),
		chromedp.Click(`#justification`), // the second check is over the limit
		chromedp.WaitVisible(`#notices [data-testid="error"]`),
		chromedp.Text(`#notices [data-testid="error"]`, &notice),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notice, "Too many changes from this session; try again in 60 seconds.") {
		t.Fatalf("notice %q", notice)
	}
}
