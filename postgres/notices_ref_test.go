package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// toldRow is a notice as a test recorded it.
type toldRow struct {
	id      uuid.UUID
	at      time.Time
	channel string
	subject string
}

// tellEvents records n events about tenant's object ref, one a minute
// from first, each an email and a chat notice sharing its instant (as an
// escalation's do), with InsertNotices — the statement the app records
// notices with — one statement per event. It returns them in the order
// sent.
func tellEvents(t testing.TB, pool *pgxpool.Pool, tenant, ref, prefix string, first time.Time, n int) []toldRow {
	t.Helper()
	tid := uuid.MustParse(tenant)
	out := make([]toldRow, 0, 2*n)
	for i := range n {
		p := db.InsertNoticesParams{EnqueuedAt: first.Add(time.Duration(i) * time.Minute)}
		for _, ch := range []string{"email", "chat"} {
			r := toldRow{id: uuid.New(), at: p.EnqueuedAt, channel: ch, subject: fmt.Sprintf("%s %03d %s", prefix, i, ch)}
			to := []byte(`[]`)
			if ch == "email" {
				to = []byte(`["admin@acme.test"]`)
			}
			p.Ids, p.TenantIds, p.Refs, p.Channels = append(p.Ids, r.id), append(p.TenantIds, tid), append(p.Refs, ref), append(p.Channels, ch)
			p.Recipients, p.Subjects, p.Urgents = append(p.Recipients, to), append(p.Subjects, r.subject), append(p.Urgents, true)
			out = append(out, r)
		}
		if err := db.New(pool).InsertNotices(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// newestFirstRows sorts notices as the notifications page lists them:
// enqueued_at, then ID (bytewise, as PostgreSQL compares UUIDs), both
// descending.
func newestFirstRows(rs []toldRow) []toldRow {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b toldRow) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return bytes.Compare(b.id[:], a.id[:])
	})
	return out
}

// asSent sorts notices as an object's page lists them: by enqueued_at,
// email before chat within one instant, then ID.
func asSent(rs []toldRow) []toldRow {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b toldRow) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if c := strings.Compare(b.channel, a.channel); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	return out
}

func toldSubjects(rs []toldRow) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.subject)
	}
	return out
}

func deliverySubjects(ds []jobs.Delivery) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Subject)
	}
	return out
}

// TestAnObjectShowsItsLatestNoticesAndTheLogPagesThemAll: an object told
// of more than its page lists (a break-glass left unreviewed escalates on
// and on) lists its newest notices — never the oldest — with how many
// there are in all; the tenant's notices narrowed to that object page
// through every one, newest first, each once, even where a page's end
// cuts an instant; another object's, and another tenant's notices about
// the same ref, never count or show.
func TestAnObjectShowsItsLatestNoticesAndTheLogPagesThemAll(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	forgetFixtureNotices(t, pool)
	globex := tenantID(t, pool, "globex")
	ctx := context.Background()
	t0 := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	mine := tellEvents(t, pool, acme, req, "escalation", t0, 405)
	lone := tellEvents(t, pool, acme, req, "latest", t0.Add(24*time.Hour), 1) // its email alone: the cap then cuts an event
	if _, err := pool.Exec(ctx, "DELETE FROM notices WHERE id = $1", lone[1].id); err != nil {
		t.Fatal(err)
	}
	mine = append(mine, lone[0])
	otherRef := uuid.NewString()
	tellEvents(t, pool, acme, otherRef, "other object", t0.Add(48*time.Hour), 3)
	tellEvents(t, pool, globex, req, "globex", t0.Add(72*time.Hour), 4)
	if len(mine) != 811 {
		t.Fatalf("seeded %d notices", len(mine))
	}
	newest := newestFirstRows(mine)
	if newest[jobs.MaxObjectNotices-1].at != newest[jobs.MaxObjectNotices].at {
		t.Fatal("the seed does not cut an instant at the page's cap: the tie-breaker goes untested")
	}

	told, err := store.Deliveries(ctx, acme, req)
	if err != nil {
		t.Fatal(err)
	}
	want := toldSubjects(asSent(newest[:jobs.MaxObjectNotices]))
	if got := deliverySubjects(told.Latest); told.Total != 811 || told.Older() != 311 || !slices.Equal(got, want) {
		t.Fatalf("the object's page: %d listed of %d, from %q to %q; want the latest %d of 811, from %q to %q", len(got), told.Total,
			got[0], got[len(got)-1], len(want), want[0], want[len(want)-1])
	}
	if few, err := store.Deliveries(ctx, acme, otherRef); err != nil || few.Total != 6 || len(few.Latest) != 6 || few.Older() != 0 {
		t.Fatalf("an object told six times: %d listed of %d (%v)", len(few.Latest), few.Total, err)
	}

	walk := func(tenant string, q jobs.NoticeQuery) (got []string, pages int) {
		t.Helper()
		for range 50 {
			page, err := store.Notices(ctx, tenant, q)
			if err != nil {
				t.Fatal(err)
			}
			got, pages = append(got, deliverySubjects(page.Notices)...), pages+1
			if page.Older.IsZero() {
				return got, pages
			}
			q.Before = page.Older
		}
		t.Fatal("more than 50 pages")
		return nil, 0
	}
	if got, pages := walk(acme, jobs.NoticeQuery{Ref: req, Limit: 100}); !slices.Equal(got, toldSubjects(newest)) || pages != 9 {
		t.Fatalf("paging the object's notices, 100 a page: %d notices in %d pages, want all 811 newest first in 9", len(got), pages)
	}
	var failed []toldRow
	for i, r := range newest {
		if i%3 == 0 {
			failed = append(failed, r)
			if _, err := pool.Exec(ctx, "UPDATE notices SET state = 'failed' WHERE id = $1", r.id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, _ := walk(acme, jobs.NoticeQuery{Ref: req, State: jobs.NoticeFailed, Limit: 30}); !slices.Equal(got, toldSubjects(failed)) {
		t.Fatalf("paging the object's failed notices: %d, want %d", len(got), len(failed))
	}
	if got, _ := walk(globex, jobs.NoticeQuery{Ref: req, Limit: 3}); len(got) != 8 || !strings.HasPrefix(got[0], "globex 003") {
		t.Fatalf("globex's notices about the same ref: %q", got)
	}
	if got, _ := walk(acme, jobs.NoticeQuery{Ref: uuid.NewString(), Limit: 3}); len(got) != 0 {
		t.Fatalf("an object acme was never told of lists %q", got)
	}
}
