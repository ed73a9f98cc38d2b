package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/testenv"
)

// walkList follows a list's "Older" links (data-testid testid+"-older")
// from the page at path to the end and returns every row's key (key reads
// it from a row matched by rows) in order, and each page's length. Every
// page but the first must link back to the first (testid+"-newest").
func walkList(t *testing.T, b *testenv.Browser, console, path, rows, testid string, key func(*goquery.Selection) string) (keys []string, sizes []int) {
	t.Helper()
	first := path
	for range 50 {
		p := b.Get(console + path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		d := p.Doc(t)
		page := rowKeys(t, p, rows, key)
		keys, sizes = append(keys, page...), append(sizes, len(page))
		newest, ok := d.Find(`[data-testid="` + testid + `-newest"]`).Attr("href")
		if ok != (path != first) || (ok && strings.SplitN(newest, "#", 2)[0] != strings.SplitN(first, "#", 2)[0]) {
			t.Fatalf("%s: the link to the first page: %q (%v)", path, newest, ok)
		}
		older, ok := d.Find(`[data-testid="` + testid + `-older"]`).Attr("href")
		if !ok {
			return keys, sizes
		}
		path = older
	}
	t.Fatalf("more than 50 pages at %s", first)
	return nil, nil
}

// rowKeys reads the key of each row of page p matched by rows.
func rowKeys(t *testing.T, p testenv.Page, rows string, key func(*goquery.Selection) string) []string {
	t.Helper()
	var keys []string
	p.Doc(t).Find(rows).Each(func(_ int, r *goquery.Selection) { keys = append(keys, key(r)) })
	return keys
}

// rejectsBadCursors checks that each malformed cursor in ?before of the
// page at path (which has no other query) gets a 400 saying it does not
// point into the list of what. valid is a well-formed cursor to mangle.
func rejectsBadCursors(t *testing.T, b *testenv.Browser, console, path, valid, what string) {
	t.Helper()
	for _, bad := range []string{"not-a-cursor", valid[:len(valid)-2], valid + "AA", strings.Repeat("_", len(valid)), "%25%25"} {
		p := b.Get(console + path + "?before=" + bad)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "does not point into the list of "+what) {
			t.Errorf("%s?before=%s: %d", path, bad, p.Status)
		}
	}
}

// timed is a row of a list ordered by time, as a test seeds it: its ID and
// its sort time.
type timed struct {
	id uuid.UUID
	at time.Time
}

// timedRows makes n rows, newest at top, in groups of group sharing one
// instant a minute apart, so that a page's end falls inside a group.
func timedRows(n, group int, top time.Time) []timed {
	out := make([]timed, 0, n)
	for i := range n {
		out = append(out, timed{id: uuid.New(), at: top.Add(-time.Duration(i/group) * time.Minute)})
	}
	return out
}

// byNewest sorts rows as a list ordered by time lists them: by time (at
// gives a row's, and its ID), then ID (PostgreSQL compares UUIDs
// bytewise), both descending.
func byNewest[T any](rows []T, at func(T) (time.Time, uuid.UUID)) []T {
	s := slices.Clone(rows)
	slices.SortFunc(s, func(a, b T) int {
		ta, ia := at(a)
		tb, ib := at(b)
		if c := tb.Compare(ta); c != 0 {
			return c
		}
		return bytes.Compare(ib[:], ia[:])
	})
	return s
}

// timeOf is a timed row's time and ID, for byNewest.
func timeOf(r timed) (time.Time, uuid.UUID) { return r.at, r.id }

// newestFirstIDs lists rows' IDs newest first (byNewest). Unless size is
// 0, it fails t unless a page of size rows ends inside a group sharing an
// instant (or the tie-breaker goes untested).
func newestFirstIDs(t *testing.T, rows []timed, size int) []string {
	t.Helper()
	s := byNewest(rows, timeOf)
	if size > 0 && (len(s) <= size || !s[size-1].at.Equal(s[size].at)) {
		t.Fatalf("the seed does not split an instant at a page's end (%d rows)", len(s))
	}
	return idsAfter(s, timed{at: s[0].at.Add(time.Second)})
}

// idsAfter lists the IDs of the rows that come after pos newest first.
func idsAfter(rows []timed, pos timed) []string {
	var out []string
	for _, r := range byNewest(rows, timeOf) {
		if r.at.Before(pos.at) || r.at.Equal(pos.at) && bytes.Compare(r.id[:], pos.id[:]) < 0 {
			out = append(out, r.id.String())
		}
	}
	return out
}

// insertTimed runs the statement query, which records one row for each
// of rows (its ID in $1::uuid[], its time in $2::timestamptz[], read with
// unnest), args in $3 on.
func insertTimed(t *testing.T, f *fixture, query string, rows []timed, args ...any) {
	t.Helper()
	ids, ats := make([]string, 0, len(rows)), make([]time.Time, 0, len(rows))
	for _, r := range rows {
		ids, ats = append(ids, r.id.String()), append(ats, r.at)
	}
	if _, err := f.pool.Exec(context.Background(), query, append([]any{ids, ats}, args...)...); err != nil {
		t.Fatal(err)
	}
}

// readsOnFromForeignCursor checks that the page at path (rows matched by
// rows, keyed by data-id) with a cursor at pos, a row the viewer may not
// see, lists the next size of the viewer's own rows mine after it, and
// that malformed cursors get a 400 saying they do not point into the list
// of what.
func readsOnFromForeignCursor(t *testing.T, b *testenv.Browser, console, path, rows string, mine []timed, pos timed, size int, what string) {
	t.Helper()
	p := b.Get(console + path + "?before=" + paging.At(pos.at, pos.id).String())
	if listed := rowKeys(t, p, rows, dataID); p.Status != http.StatusOK || !slices.Equal(listed, idsAfter(mine, pos)[:size]) {
		t.Fatalf("%s with a cursor at another's row: %d, %d listed", path, p.Status, len(listed))
	}
	rejectsBadCursors(t, b, console, path, paging.At(pos.at, pos.id).String(), what)
}

// dataID reads a row's data-id.
func dataID(r *goquery.Selection) string { id, _ := r.Attr("data-id"); return id }

// seeded says whose requests seedRequests records.
type seeded struct {
	owner           string // the tenant whose resource (the first by name) is requested
	requesterTenant string // the requester's tenant under a share; "" for the owner's own people
	subject         string // the requester; "" for "seeded"
	kind            string // "jit" or "break-glass" (each with its review); "" for jit
	share           string // the share the request is made under; "" for none
}

// seedRequests records expired requests as s says, one at each row's time.
func seedRequests(t *testing.T, f *fixture, s seeded, rows []timed) {
	t.Helper()
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	if s.subject == "" {
		s.subject = "seeded"
	}
	if s.kind == "" {
		s.kind = "jit"
	}
	insertTimed(t, f, `
		WITH r AS (
			INSERT INTO requests (id, tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
			                      justification, state, policy, submitted_at, updated_at, kind, incident, requester_tenant_id, share_id)
			SELECT b.id, $3, (SELECT id FROM resources WHERE tenant_id = $3 ORDER BY name LIMIT 1), $4, 'seeded@example.test',
			       '{"email": "seeded@example.test"}', 'read', 900, 'seeded', 'expired', '{}', b.at, b.at, $5, 'INC-' || b.id, $6::uuid, $7::uuid
			FROM unnest($1::uuid[], $2::timestamptz[]) AS b (id, at)
			RETURNING id, tenant_id, submitted_at, kind)
		INSERT INTO breakglass_reviews (request_id, tenant_id, due_at)
		SELECT id, tenant_id, submitted_at + interval '1 day' FROM r WHERE kind = 'break-glass'`,
		rows, s.owner, s.subject, s.kind, nullable(s.requesterTenant), nullable(s.share))
}
