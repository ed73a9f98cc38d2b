package handlers_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

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
		n := 0
		d.Find(rows).Each(func(_ int, r *goquery.Selection) { keys, n = append(keys, key(r)), n+1 })
		sizes = append(sizes, n)
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

// newestFirstIDs lists rows' IDs as a list ordered by time lists them: by
// time, then ID (PostgreSQL compares UUIDs bytewise), both descending. It
// fails t unless a page of size rows ends inside a group sharing an
// instant (or the tie-breaker goes untested).
func newestFirstIDs(t *testing.T, rows []timed, size int) []string {
	t.Helper()
	s := slices.Clone(rows)
	slices.SortFunc(s, func(a, b timed) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return bytes.Compare(b.id[:], a.id[:])
	})
	if len(s) <= size || !s[size-1].at.Equal(s[size].at) {
		t.Fatalf("the seed does not split an instant at a page's end (%d rows)", len(s))
	}
	out := make([]string, 0, len(s))
	for _, r := range s {
		out = append(out, r.id.String())
	}
	return out
}

// idsAndTimes are rows' IDs and times as arrays for an INSERT … SELECT
// unnest($1::uuid[]), unnest($2::timestamptz[]).
func idsAndTimes(rows []timed) ([]string, []time.Time) {
	ids, ats := make([]string, 0, len(rows)), make([]time.Time, 0, len(rows))
	for _, r := range rows {
		ids, ats = append(ids, r.id.String()), append(ats, r.at)
	}
	return ids, ats
}

// dataID reads a row's data-id.
func dataID(r *goquery.Selection) string { id, _ := r.Attr("data-id"); return id }
