package e2e

import (
	"os"
	"strings"
	"sync"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

func TestLoginPageRendersUnderAStrictCSP(t *testing.T) {
	base := startConsole(t)
	ctx := newBrowser(t)

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError || strings.Contains(e.Entry.Text, "Content Security Policy") {
				problems = append(problems, e.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, e.ExceptionDetails.Text)
		}
	})

	var orgs, htmxType, fieldError string
	var shot []byte
	err := chromedp.Run(ctx,
		cdplog.Enable(),
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`[data-testid="orgs"]`),
		chromedp.Text(`[data-testid="orgs"]`, &orgs),
		chromedp.Evaluate(`typeof htmx`, &htmxType),
		chromedp.FullScreenshot(&shot, 100), // quality 100 means PNG
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(artifact(t, "login.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Acme Corp", "Globex Corporation"} {
		if !strings.Contains(orgs, want) {
			t.Errorf("organization list %q lacks %q", orgs, want)
		}
	}
	if htmxType != "object" {
		t.Errorf("htmx did not load from /static (typeof htmx = %q)", htmxType)
	}

	// A real form post from the browser: CSRF passes, bad input gets a clear field error.
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#email`, "someone@initech.test"),
		chromedp.Submit(`#email`),
		chromedp.WaitVisible(`[data-testid="email-error"]`),
		chromedp.Text(`[data-testid="email-error"]`, &fieldError),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fieldError, "No organization on Gatehouse uses initech.test") {
		t.Errorf("field error = %q", fieldError)
	}
	mu.Lock()
	defer mu.Unlock()
	var real []string
	for _, p := range problems {
		// The 400 of the re-rendered form is logged by Chromium as a failed resource; it is expected.
		if !strings.Contains(p, "status of 400") {
			real = append(real, p)
		}
	}
	if len(real) > 0 {
		t.Errorf("browser reported errors: %q", real)
	}
}
