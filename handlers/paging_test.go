package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

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
