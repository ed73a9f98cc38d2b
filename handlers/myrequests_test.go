package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/testenv"
)

// "My requests" lists every request the person made, in their catalog and
// in a partner's under a share, 200 a page, newest first: each exactly once
// and in order, even where requests share an instant across a page's end.
// Another person's never show, nor those of a person of another
// organization with the same subject, whatever the cursor says; a bad
// cursor is a 400 with a plain message.
func TestMyRequestsPagesThroughEveryRequestOfMine(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	b, _ := signedIn(t, console, "acme", "requester@acme.test")
	var me string
	if err := f.pool.QueryRow(context.Background(), `SELECT subject FROM sessions WHERE tenant_id = $1 AND email = 'requester@acme.test' LIMIT 1`,
		acme).Scan(&me); err != nil {
		t.Fatal(err)
	}
	top := time.Now().Add(-time.Hour).Truncate(time.Second)
	own, shared := timedRows(380, 9, top), timedRows(45, 5, top.Add(-30*time.Second))
	colleague, namesake := timedRows(30, 3, top.Add(-10*time.Second)), timedRows(30, 3, top.Add(-20*time.Second))
	seedRequests(t, f, seeded{owner: acme, subject: me}, own)
	seedRequests(t, f, seeded{owner: globex, requesterTenant: acme, subject: me}, shared) // under a share, in globex's catalog
	seedRequests(t, f, seeded{owner: acme, subject: "someone-else"}, colleague)
	seedRequests(t, f, seeded{owner: globex, subject: me}, namesake) // globex's own person with the same subject
	mine := append(slices.Clone(own), shared...)

	rows := `[data-testid="requests"] tbody tr`
	got, sizes := walkList(t, b, console, "/requests", rows, "requests", dataID)
	if want := newestFirstIDs(t, mine, 200); !slices.Equal(got, want) || !slices.Equal(sizes, []int{200, 200, 25}) {
		t.Fatalf("walked %d requests in pages %v, want the %d in order", len(got), sizes, len(want))
	}

	// A cursor at the namesake's request reads on in the person's own.
	readsOnFromForeignCursor(t, b, console, "/requests", rows, mine, namesake[14], 200, "your requests")
}

// "My grants" lists every active grant of the person, however many
// requests they made since: a grant older than a page of requests still
// shows, with its actions.
func TestMyGrantsListsAnActiveGrantOlderThanAPageOfRequests(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	approver, _ := signedIn(t, console, "acme", "approver1@acme.test")
	requester, p := submitCI(t, f, console)
	id := strings.TrimPrefix(p.URL.Path, "/requests/")
	if d := approver.PostForm(console+p.URL.Path+"/decide", url.Values{"_csrf": {testenv.CSRF(t, approver.Get(console+"/approvals"))}, "decision": {"approve"}}); d.Status != http.StatusOK {
		t.Fatalf("approve: %d", d.Status)
	}
	var me string
	if err := f.pool.QueryRow(context.Background(), "SELECT requester_subject FROM requests WHERE id = $1", id).Scan(&me); err != nil {
		t.Fatal(err)
	}
	seedRequests(t, f, seeded{owner: tenantID(t, f, "acme"), subject: me}, timedRows(250, 1, time.Now().Add(5*time.Hour)))

	rows := requester.Get(console + "/grants").Doc(t).Find(`[data-testid="grants"] tbody tr`)
	if rows.Length() != 1 || !strings.Contains(rows.Text(), "CI deploy token") {
		t.Fatalf("My grants after 250 newer requests: %d rows %q; want the active CI grant", rows.Length(), rows.Text())
	}
}
