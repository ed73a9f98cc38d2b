package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/testenv"
)

// seededNotice is a notice as the test wrote it.
type seededNotice struct {
	id      uuid.UUID
	tenant  string
	subject string
	state   string
	at      time.Time
}

// seedNotices records n notices of tenant, newest at top, in groups of
// group sharing one enqueued_at (a transaction's notices do), their states
// chosen by stateOf(i).
func seedNotices(t *testing.T, f *fixture, tenant, prefix string, n, group int, top time.Time, stateOf func(int) string) []seededNotice {
	t.Helper()
	out := make([]seededNotice, 0, n)
	for i := range n {
		s := seededNotice{id: uuid.New(), tenant: tenant, subject: fmt.Sprintf("%s notice %02d", prefix, i), state: stateOf(i),
			at: top.Add(-time.Duration(i/group) * time.Minute)}
		if _, err := f.pool.Exec(context.Background(), `INSERT INTO notices (id, tenant_id, ref, channel, recipients, subject, enqueued_at, state)
			VALUES ($1, $2, $3, 'email', '{admin@acme.test}', $4, $5, $6)`, s.id, tenant, "ref-"+prefix, s.subject, s.at, s.state); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// newestFirst sorts notices as the page must list them: by enqueued_at,
// then ID (PostgreSQL compares UUIDs bytewise), both descending.
func newestFirst(ns []seededNotice) []seededNotice {
	return byNewest(ns, func(n seededNotice) (time.Time, uuid.UUID) { return n.at, n.id })
}

func subjects(ns []seededNotice) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.subject)
	}
	return out
}

// noticeRows reads a notifications page's list: subject and state per row.
func noticeRows(t *testing.T, p testenv.Page) (subjects, states []string) {
	t.Helper()
	p.Doc(t).Find(`[data-testid="deliveries"] tbody tr`).Each(func(_ int, r *goquery.Selection) {
		st, _ := r.Attr("data-state")
		subjects, states = append(subjects, strings.TrimSpace(r.Find("td").Eq(1).Text())), append(states, st)
	})
	return subjects, states
}

// walkNotices follows "Older notices" from the page at path to the end and
// returns every row's subject and state in order, and each page's length.
func walkNotices(t *testing.T, b *testenv.Browser, console, path string) (subjects, states []string, sizes []int) {
	t.Helper()
	for range 20 {
		p := b.Get(console + path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		s, st := noticeRows(t, p)
		subjects, states, sizes = append(subjects, s...), append(states, st...), append(sizes, len(s))
		older, ok := p.Doc(t).Find(`[data-testid="notices-older"]`).Attr("href")
		if !ok {
			return subjects, states, sizes
		}
		path = older
	}
	t.Fatal("more than 20 pages of notices")
	return nil, nil, nil
}

// A tenant admin pages through every notice of their organization, newest
// first, 30 at a time — each exactly once and in order, even where notices
// share an instant across a page's end — and narrows them to the failed
// ones, which paging keeps. Another organization's notices never show,
// whatever the cursor says; a malformed cursor or an unknown state is a
// 400 with a plain message.
func TestTenantAdminsPageThroughEveryNoticeAndFindFailedOnes(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	top := time.Now().Add(-time.Hour).Truncate(time.Second)
	others := []string{jobs.NoticeDelivered, jobs.NoticeRetrying, jobs.NoticeNotSent, jobs.NoticePending}
	mine := seedNotices(t, f, acme, "acme", 75, 7, top, func(i int) string { // half failed, the rest in turn
		if i%2 == 0 {
			return jobs.NoticeFailed
		}
		return others[i/2%len(others)]
	})
	theirs := seedNotices(t, f, globex, "globex", 12, 4, top, func(int) string { return jobs.NoticeFailed })

	all := newestFirst(mine)
	var failed, pending []seededNotice
	for _, n := range all {
		switch n.state {
		case jobs.NoticeFailed:
			failed = append(failed, n)
		case jobs.NoticePending:
			pending = append(pending, n)
		}
	}
	// The seed must put a page's end inside a group sharing an instant,
	// for both lists, or the tie-breaker goes untested.
	for _, l := range [][]seededNotice{all, failed} {
		if len(l) <= 30 || !l[29].at.Equal(l[30].at) {
			t.Fatalf("the seed does not split an instant at a page's end (%d notices)", len(l))
		}
	}

	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	got, _, sizes := walkNotices(t, admin, console, "/admin/notifications")
	if !slices.Equal(got, subjects(all)) || !slices.Equal(sizes, []int{30, 30, 15}) {
		t.Fatalf("paging every notice (pages of %v) listed\n%q\nwant\n%q", sizes, got, subjects(all))
	}

	// The filter link on the first page narrows to failed; paging keeps it.
	first := admin.Get(console + "/admin/notifications")
	link, ok := first.Doc(t).Find(`[data-testid="notice-filters"] a[data-state="failed"]`).Attr("href")
	if !ok {
		t.Fatal("no link to the failed notices")
	}
	got, states, sizes := walkNotices(t, admin, console, link)
	if !slices.Equal(got, subjects(failed)) || len(sizes) != 2 {
		t.Fatalf("paging the failed notices (pages of %v) listed\n%q\nwant\n%q", sizes, got, subjects(failed))
	}
	for i, st := range states {
		if st != jobs.NoticeFailed {
			t.Fatalf("row %d of the failed notices is %q", i, st)
		}
	}
	second := admin.Get(console + link)
	older, _ := second.Doc(t).Find(`[data-testid="notices-older"]`).Attr("href")
	newest, _ := admin.Get(console + older).Doc(t).Find(`[data-testid="notices-newest"]`).Attr("href")
	if u, err := url.Parse(newest); err != nil || u.Path != "/admin/notifications" || u.Query().Get("state") != "failed" || u.Query().Has("before") {
		t.Fatalf("the Newest link of an older page of failed notices: %q", newest)
	}
	if got, _ := noticeRows(t, admin.Get(console+"/admin/notifications?state=pending")); !slices.Equal(got, subjects(pending)) {
		t.Fatalf("pending: %q, want %q", got, subjects(pending))
	}

	// A cursor pointing at another organization's notice reads on in the
	// admin's own notices, from that instant.
	pos := theirs[5] // enqueued with acme's notices 7..13
	p := admin.Get(console + "/admin/notifications?before=" + paging.At(pos.at, pos.id).String())
	got, _ = noticeRows(t, p)
	var want []string
	for _, n := range all {
		if n.at.Before(pos.at) || (n.at.Equal(pos.at) && bytes.Compare(n.id[:], pos.id[:]) < 0) {
			want = append(want, n.subject)
		}
	}
	if p.Status != http.StatusOK || !slices.Equal(got, want[:30]) {
		t.Fatalf("a cursor at globex's notice: %d, listed\n%q\nwant\n%q", p.Status, got, want[:30])
	}
	for _, path := range []string{"/admin/notifications", "/admin/notifications?state=failed", p.URL.RequestURI()} {
		if body := admin.Get(console + path).Body; strings.Contains(body, "globex notice") {
			t.Fatalf("%s shows globex's notices", path)
		}
	}

	// Bad input: 400 with a plain message, on the error page.
	valid := paging.At(all[29].at, all[29].id).String()
	for _, c := range []struct{ query, message string }{
		{"before=not-a-cursor", "does not point into the list of notifications"},
		{"before=" + valid[:len(valid)-2], "does not point into the list of notifications"},
		{"before=" + valid + "AA", "does not point into the list of notifications"},
		{"before=" + strings.Repeat("_", len(valid)), "does not point into the list of notifications"},
		{"state=failed&before=%25%25", "does not point into the list of notifications"},
		{"state=bogus", "no such delivery state"},
		{"state=all", "no such delivery state"},
		{"state=FAILED&before=" + valid, "no such delivery state"},
	} {
		p := admin.Get(console + "/admin/notifications?" + c.query)
		msg := p.Doc(t).Find(`[data-testid="error"]`).Text()
		if p.Status != http.StatusBadRequest || !strings.Contains(msg, c.message) || strings.Contains(p.Body, "acme notice") {
			t.Errorf("?%s: %d %q", c.query, p.Status, strings.Join(strings.Fields(msg), " "))
		}
	}
}
