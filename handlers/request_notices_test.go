package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatehouse/gatehouse/testenv"
)

// toldRows are the "Who was told" rows of a page as "subject | channel |
// to" lines, in page order.
func toldRows(t *testing.T, p testenv.Page) []string {
	t.Helper()
	var out []string
	p.Doc(t).Find(`[data-testid="deliveries"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		td := tr.Find("td")
		out = append(out, strings.TrimSpace(td.Eq(1).Text())+" | "+strings.TrimSpace(td.Eq(2).Text())+" | "+strings.TrimSpace(td.Eq(3).Text()))
	})
	return out
}

// TestARequestPageShowsWhoWasTold: every notice of a JIT request — the
// approvers asked, the requester told of the decision and of the grant —
// is recorded with its delivery, shown on the request's page to the people
// who see the request, and listed in the organization's notification log.
func TestARequestPageShowsWhoWasTold(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	approver, _ := signedIn(t, console, "acme", "approver1@acme.test") // a member now: the request asks them
	requester, p := submitCI(t, f, console)
	detail := p.URL.Path
	id := strings.TrimPrefix(detail, "/requests/")

	asked := toldRows(t, p)
	if len(asked) != 2 || !strings.HasPrefix(asked[0], "Access request: CI deploy token | email | ") || !strings.Contains(asked[0], "approver1@acme.test") ||
		!strings.HasPrefix(asked[1], "Access request: CI deploy token | chat") {
		t.Fatalf("who was told of the new request: %q; want the approvers by email, and the chat webhook", asked)
	}
	inbox := approver.Get(console + "/approvals")
	if d := approver.PostForm(console+detail+"/decide", url.Values{"_csrf": {testenv.CSRF(t, inbox)}, "decision": {"approve"}}); d.Status != http.StatusOK {
		t.Fatalf("approve: %d", d.Status)
	}
	told := toldRows(t, requester.Get(console+detail))
	want := []string{"Access request: CI deploy token | email", "Access request: CI deploy token | chat", "Request approved | email | requester@acme.test",
		"Request approved | chat", "Access granted: CI deploy token | email | requester@acme.test", "Access granted: CI deploy token | chat"}
	if len(told) != len(want) {
		t.Fatalf("who was told after the approval: %q; want %q", told, want)
	}
	for i := range want {
		if !strings.HasPrefix(told[i], want[i]) {
			t.Fatalf("notice %d: %q; want %q", i, told[i], want[i])
		}
	}

	// The organization's log lists them, narrowed to the request.
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	if log := toldRows(t, admin.Get(console+"/admin/notifications?ref="+id)); len(log) != len(want) {
		t.Fatalf("the notification log lists %d notices of the request, want %d: %q", len(log), len(want), log)
	}
	var unrecorded int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job j WHERE j.kind = 'notify'
		AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.id::text = j.args->>'notice_id')`).Scan(&unrecorded); err != nil || unrecorded != 0 {
		t.Fatalf("%d notices sent without a record (%v)", unrecorded, err)
	}
	// Another organization's people see neither the request nor its notices.
	other, _ := signedIn(t, console, "globex", "admin@globex.test")
	if log := other.Get(console + "/admin/notifications?ref=" + id); log.Status != http.StatusOK || len(toldRows(t, log)) != 0 {
		t.Fatalf("globex's log at acme's request: %d, %d rows", log.Status, len(toldRows(t, log)))
	}
}
