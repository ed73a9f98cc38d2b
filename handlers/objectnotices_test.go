package handlers_test

import (
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

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// tellEvents records n events about tenant's object ref, one a minute
// from first, each an email and a chat notice sharing its instant (as a
// break-glass escalation's do), with InsertNotices — the statement the
// app records notices with — one statement per event. Each notice's
// subject is "<prefix> NNN"; seededNotice.subject is that and its channel,
// "<prefix> NNN (email)", as rowsOf reads a row back.
func tellEvents(t *testing.T, f *fixture, tenant, ref, prefix string, first time.Time, n int) []seededNotice {
	t.Helper()
	tid := uuid.MustParse(tenant)
	out := make([]seededNotice, 0, 2*n)
	for i := range n {
		p := db.InsertNoticesParams{EnqueuedAt: first.Add(time.Duration(i) * time.Minute).Truncate(time.Microsecond)}
		subject := fmt.Sprintf("%s %03d", prefix, i)
		for _, ch := range []string{"email", "chat"} {
			s := seededNotice{id: uuid.New(), tenant: tenant, subject: subject + " (" + ch + ")", state: jobs.NoticePending, at: p.EnqueuedAt}
			to := []byte(`[]`)
			if ch == "email" {
				to = []byte(`["admin@acme.test"]`)
			}
			p.Ids, p.TenantIds, p.Refs, p.Channels = append(p.Ids, s.id), append(p.TenantIds, tid), append(p.Refs, ref), append(p.Channels, ch)
			p.Recipients, p.Subjects, p.Urgents = append(p.Recipients, to), append(p.Subjects, subject), append(p.Urgents, true)
			out = append(out, s)
		}
		if err := db.New(f.pool).InsertNotices(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// recordedNotices are the notices recorded about tenant's object ref, as
// tellEvents returns them.
func recordedNotices(t *testing.T, f *fixture, tenant, ref string) []seededNotice {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), "SELECT id, subject || ' (' || channel || ')', enqueued_at FROM notices WHERE tenant_id = $1 AND ref = $2", tenant, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []seededNotice
	for rows.Next() {
		s := seededNotice{tenant: tenant}
		if err := rows.Scan(&s.id, &s.subject, &s.at); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowsOf reads a list of notices: each row's subject and channel,
// "<subject> (<channel>)".
func rowsOf(s *goquery.Selection) []string {
	var out []string
	s.Find(`[data-testid="deliveries"] tbody tr`).Each(func(_ int, r *goquery.Selection) {
		out = append(out, strings.TrimSpace(r.Find("td").Eq(1).Text())+" ("+strings.TrimSpace(r.Find("td").Eq(2).Text())+")")
	})
	return out
}

// TestABreakGlassPageShowsItsLatestNoticesAndWhereToReadEveryOne: a
// break-glass left unreviewed escalates on and on; its page lists the
// latest 500 notices (never the oldest) and says how many there are in
// all. A tenant admin gets a link to the notification log narrowed to
// the break-glass, which pages through every one of its notices, newest
// first, each once, and nothing else; an approver (who may not open the
// log) is told who can, and gets no link. Bad refs are a 400.
func TestABreakGlassPageShowsItsLatestNoticesAndWhereToReadEveryOne(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	inserter, _ := jobs.NewInserter(f.pool)
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)
	acme, globex := tenantID(t, f, "acme"), tenantID(t, f, "globex")
	responder := approvals.Person{Tenant: acme, Subject: "resp-many", Email: "responder@acme.test", Roles: []tenants.Role{tenants.RoleResponder}}
	bg, err := store.BreakGlass(ctx, acme, resourceID(t, f, "Orders database"), responder,
		approvals.Emergency{Justification: "orders database is down, customers cannot pay", Incident: "INC-907"}, true, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	first := time.Now().Add(time.Minute)
	tellEvents(t, f, acme, bg.RequestID, "Escalation", first, 405)
	tellEvents(t, f, globex, bg.RequestID, "Globex escalation", first, 3) // same ref, another organization
	tellEvents(t, f, acme, uuid.NewString(), "Another object", first, 2)
	all := newestFirst(recordedNotices(t, f, acme, bg.RequestID))
	if len(all) != 812 {
		t.Fatalf("%d notices about the break-glass, want its own 2 and 810 escalations", len(all))
	}

	// The page: the latest 500, oldest first, and a plain word about the rest.
	page := admin.Get(console + "/breakglass/" + bg.RequestID)
	shown := rowsOf(page.Doc(t).Selection)
	var want []string // the latest 500: escalations 155 to 404, as sent (an event's email before its chat)
	for i := 155; i < 405; i++ {
		want = append(want, fmt.Sprintf("Escalation %03d (email)", i), fmt.Sprintf("Escalation %03d (chat)", i))
	}
	if !slices.Equal(shown, want) {
		t.Fatalf("the break-glass page lists %d notices, from %q to %q; want the latest 500, %q to %q", len(shown), shown[0], shown[len(shown)-1],
			want[0], want[499])
	}
	more := page.Doc(t).Find(`[data-testid="deliveries-more"]`)
	if text := strings.Join(strings.Fields(more.Text()), " "); !strings.HasPrefix(text, "Showing the latest 500 of 812 notices.") {
		t.Fatalf("the page says %q about the notices it does not list", text)
	}
	link, ok := more.Find(`[data-testid="deliveries-log"]`).Attr("href")
	if u, err := url.Parse(link); !ok || err != nil || u.Path != "/admin/notifications" || u.Query().Get("ref") != bg.RequestID {
		t.Fatalf("the link to every notice: %q", link)
	}

	// An approver sees the same list and count, and no link to a page they may not open.
	ap := appr.Get(console + "/breakglass/" + bg.RequestID)
	amore := ap.Doc(t).Find(`[data-testid="deliveries-more"]`)
	if len(rowsOf(ap.Doc(t).Selection)) != 500 || amore.Find("a").Length() != 0 ||
		!strings.Contains(strings.Join(strings.Fields(amore.Text()), " "), "Showing the latest 500 of 812 notices. A tenant admin can see every one") {
		t.Fatalf("the approver's page: %q", amore.Text())
	}
	if p := appr.Get(console + link); p.Status != http.StatusForbidden || strings.Contains(p.Body, "Escalation") {
		t.Fatalf("the approver opening the notification log: %d", p.Status)
	}

	// The admin follows the link: every notice about the break-glass, newest first, each once.
	var got []string
	path := link
	for range 40 {
		p := admin.Get(console + path)
		if p.Status != http.StatusOK || !strings.Contains(p.Doc(t).Find(`[data-testid="notice-ref"]`).Text(), bg.RequestID) {
			t.Fatalf("GET %s: %d, or the page does not say it lists the break-glass's notices", path, p.Status)
		}
		got = append(got, rowsOf(p.Doc(t).Selection)...)
		failed, _ := p.Doc(t).Find(`[data-testid="notice-filters"] a[data-state="failed"]`).Attr("href")
		if u, err := url.Parse(failed); err != nil || u.Query().Get("ref") != bg.RequestID {
			t.Fatalf("the failed filter forgets the break-glass: %q", failed)
		}
		older, ok := p.Doc(t).Find(`[data-testid="notices-older"]`).Attr("href")
		if !ok {
			break
		}
		path = older
	}
	if !slices.Equal(got, subjects(all)) {
		t.Fatalf("paging the break-glass's notices listed %d (from %q), want all %d newest first", len(got), got[0], len(all))
	}

	// globex's admin, at the same ref, reads only globex's notices.
	gadmin, _ := signedIn(t, console, "globex", "admin@globex.test")
	if g := rowsOf(gadmin.Get(console + link).Doc(t).Selection); len(g) != 6 || !strings.HasPrefix(g[0], "Globex escalation 002") {
		t.Fatalf("globex's admin at the break-glass's ref: %q", g)
	}
	if p := admin.Get(console + "/admin/notifications?ref=" + strings.ToUpper(bg.RequestID)); len(rowsOf(p.Doc(t).Selection)) != 30 {
		t.Fatalf("the ref in capitals: %d", p.Status)
	}
	for _, c := range []struct{ query, message string }{
		{"ref=not-an-id", "does not name a break-glass"},
		{"ref=" + uuid.Nil.String(), "does not name a break-glass"},
		{"ref=" + bg.RequestID + "x", "does not name a break-glass"},
		{"ref=%7B" + bg.RequestID + "%7D", "does not name a break-glass"},
		{"ref=not-an-id&state=failed", "does not name a break-glass"},
		{"ref=" + bg.RequestID + "&before=not-a-cursor", "does not point into the list of notifications"},
		{"ref=" + bg.RequestID + "&state=bogus", "no such delivery state"},
	} {
		p := admin.Get(console + "/admin/notifications?" + c.query)
		msg := p.Doc(t).Find(`[data-testid="error"]`).Text()
		if p.Status != http.StatusBadRequest || !strings.Contains(msg, c.message) || strings.Contains(p.Body, "Escalation") {
			t.Errorf("?%s: %d %q", c.query, p.Status, strings.Join(strings.Fields(msg), " "))
		}
	}
}
