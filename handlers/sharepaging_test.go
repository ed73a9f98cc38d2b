package handlers_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/paging"
)

// seedShares records active shares from owner to recipient, offered to it
// (its people see them) unless offered is false, proposed at each row's
// time.
func seedShares(t *testing.T, f *fixture, owner, recipient string, offered bool, rows []timed) {
	t.Helper()
	insertTimed(t, f, `INSERT INTO shares (id, owner_tenant_id, recipient_tenant_id, recipients, level, term_end,
			purpose, mode, max_grant_seconds, policy, proposer, state, proposed_at, updated_at, offered_at)
		SELECT s.id, $3, $4, '{"roles": ["requester"]}', 'read', now() + interval '30 days', 'seeded ' || s.id, 'pre-approved', 3600, '{}',
		       '{"email": "admin@example.test"}', CASE WHEN $5 THEN 'active' ELSE 'proposed' END, s.at, s.at, CASE WHEN $5 THEN s.at END
		FROM unnest($1::uuid[], $2::timestamptz[]) AS s (id, at)`, rows, owner, recipient, offered)
}

// The shares page lists every share of the organization, outgoing and
// incoming, 200 a page, newest first: each exactly once and in order (each
// side's table in order, a page's rows the next 200 of the list), even where
// shares were proposed at one instant across a page's end. Shares not yet
// offered to it, and other organizations' shares, never show, whatever the
// cursor says; a bad cursor is a 400 with a plain message.
func TestTheSharesPagePagesThroughEveryShareBothWays(t *testing.T) {
	f := newFixture(t, nil)
	seedInitech(t, f)
	console := f.serve(t)
	acme, globex, initech := tenantID(t, f, "acme"), tenantID(t, f, "globex"), tenantID(t, f, "initech")
	top := time.Now().Add(-time.Hour).Truncate(time.Second)
	out, in := timedRows(150, 4, top), timedRows(90, 3, top) // an instant's shares both ways
	unoffered, elsewhere := timedRows(20, 2, top.Add(-10*time.Second)), timedRows(20, 2, top.Add(-30*time.Second))
	seedShares(t, f, acme, globex, true, out)
	seedShares(t, f, globex, acme, true, in)
	seedShares(t, f, globex, acme, false, unoffered)
	seedShares(t, f, globex, initech, true, elsewhere)

	// Each page lists its outgoing shares, then its incoming ones.
	all, outgoing := newestFirstIDs(t, append(slices.Clone(out), in...), 200), map[string]bool{}
	for _, r := range out {
		outgoing[r.id.String()] = true
	}
	var want []string
	for page := range slices.Chunk(all, 200) {
		want = append(want, slices.DeleteFunc(slices.Clone(page), func(id string) bool { return !outgoing[id] })...)
		want = append(want, slices.DeleteFunc(slices.Clone(page), func(id string) bool { return outgoing[id] })...)
	}
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	rows := `[data-testid="outgoing"] tbody tr, [data-testid="incoming"] tbody tr`
	got, sizes := walkList(t, admin, console, "/shares", rows, "shares", dataID)
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{200, 40}) {
		t.Fatalf("walked %d shares in pages %v, want the %d in order", len(got), sizes, len(want))
	}

	// A cursor at a share between globex and initech reads on in acme's.
	pos := elsewhere[7]
	p := admin.Get(console + "/shares?before=" + paging.At(pos.at, pos.id).String())
	listed := rowKeys(t, p, rows, dataID)
	after := idsAfter(append(slices.Clone(out), in...), pos)
	if p.Status != http.StatusOK || len(listed) != 200 || !sameSet(listed, after[:200]) {
		t.Fatalf("a cursor at another organizations' share: %d, %d listed", p.Status, len(listed))
	}
	rejectsBadCursors(t, admin, console, "/shares", paging.At(pos.at, pos.id).String(), "shares")
}

// A share's page lists every request made under it, 200 a page, newest
// first, to the owner and to the recipient alike: each exactly once and in
// order, even where requests share an instant across a page's end. Another
// share's never show, whatever the cursor says; a bad cursor is a 400 with
// a plain message.
func TestASharesPagePagesThroughEveryRequestUnderIt(t *testing.T) {
	f := newFixture(t, nil)
	seedInitech(t, f)
	console := f.serve(t)
	acme, globex, initech := tenantID(t, f, "acme"), tenantID(t, f, "globex"), tenantID(t, f, "initech")
	top := time.Now().Add(-time.Hour).Truncate(time.Second)
	share, other := timedRows(1, 1, top.Add(-24*time.Hour)), timedRows(1, 1, top.Add(-24*time.Hour))
	seedShares(t, f, acme, globex, true, share)
	seedShares(t, f, acme, initech, true, other)
	under, elsewhere := timedRows(230, 7, top), timedRows(30, 3, top.Add(-20*time.Second))
	seedRequests(t, f, seeded{owner: acme, requesterTenant: globex, share: share[0].id.String()}, under)
	seedRequests(t, f, seeded{owner: acme, requesterTenant: initech, share: other[0].id.String()}, elsewhere)
	want := newestFirstIDs(t, under, 200)

	path := "/shares/" + share[0].id.String()
	rows := `[data-testid="share-requests"] tbody tr`
	for _, who := range []struct{ org, email string }{{"acme", "admin@acme.test"}, {"globex", "admin@globex.test"}} {
		b, _ := signedIn(t, console, who.org, who.email)
		got, sizes := walkList(t, b, console, path, rows, "share-requests", dataID)
		if !slices.Equal(got, want) || !slices.Equal(sizes, []int{200, 30}) {
			t.Fatalf("%s walked %d requests in pages %v, want the %d in order", who.email, len(got), sizes, len(want))
		}
	}

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	pos := elsewhere[4] // a request under the other share
	readsOnFromForeignCursor(t, admin, console, path, rows, under, pos, 200, "access under this share")
	if p := admin.Get(console + "/shares/" + other[0].id.String() + "?before=" + paging.At(pos.at, pos.id).String()); p.Status != http.StatusOK {
		t.Fatalf("the other share: %d", p.Status)
	}
	gadmin, _ := signedIn(t, console, "globex", "admin@globex.test")
	if p := gadmin.Get(console + "/shares/" + other[0].id.String() + "?before=" + paging.At(under[0].at, under[0].id).String()); p.Status != http.StatusNotFound {
		t.Fatalf("globex at acme's share with initech: %d", p.Status)
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
