package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/migrations"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres"
)

// TestNoticesRiverStillHoldsAreRecordedOnUpgrade: upgrading a running
// installation records the notices River still holds (what it forgets a
// day later would otherwise be lost to the review), and tells the unsent
// ones their record, so their outcome lands there.
func TestNoticesRiverStillHoldsAreRecordedOnUpgrade(t *testing.T) {
	pool, _, acme, req := requestFixture(t)
	forgetFixtureNotices(t, pool)
	ctx := context.Background()
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 24); err != nil { // before the notices' record
		t.Fatal(err)
	}
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		t.Fatal(err)
	}
	msg := notify.Message{Subject: "Break-glass: responder@acme.test on Orders DB", Urgent: true}
	res, err := inserter.InsertMany(ctx, []river.InsertManyParams{
		{Args: jobs.NotifyArgs{TenantID: acme, Ref: req, Channel: "email", To: []string{"approver1@acme.test", "admin@acme.test"}, Message: msg}},
		{Args: jobs.NotifyArgs{TenantID: acme, Ref: req, Channel: "chat", Message: msg}},
		{Args: jobs.NotifyArgs{TenantID: acme, Channel: "chat", Message: notify.Message{Subject: "about nothing in particular"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The email went out already; the chat one is still to send.
	if _, err := pool.Exec(ctx, "UPDATE river_job SET state = 'completed', attempt = 1, finalized_at = now() WHERE id = $1", res[0].Job.ID); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, pool, io.Discard); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewRequestStore(pool, inserter, time.Now)
	told, err := store.Deliveries(ctx, acme, req)
	if err != nil || len(told.Latest) != 2 {
		t.Fatalf("after the upgrade: %+v %v", told, err)
	}
	email, chat := told.Latest[0], told.Latest[1]
	if email.Channel != "email" || email.State != jobs.NoticeDelivered || !slices.Equal(email.To, []string{"approver1@acme.test", "admin@acme.test"}) ||
		email.Subject != msg.Subject || !email.Urgent || email.Attempts != 1 {
		t.Fatalf("the delivered email: %+v", email)
	}
	if chat.Channel != "chat" || chat.State != jobs.NoticePending {
		t.Fatalf("the chat notice still to send: %+v", chat)
	}
	var args []byte
	if err := pool.QueryRow(ctx, "SELECT args FROM river_job WHERE id = $1", res[1].Job.ID).Scan(&args); err != nil {
		t.Fatal(err)
	}
	var a jobs.NotifyArgs
	if err := json.Unmarshal(args, &a); err != nil || a.NoticeID == "" {
		t.Fatalf("the unsent job was not told its record: %s %v", args, err)
	}
	// Its outcome lands in that record.
	if err := store.RecordDelivery(ctx, a.NoticeID, jobs.DeliveryOutcome{State: jobs.NoticeDelivered, Attempt: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if ds, err := store.Deliveries(ctx, acme, req); err != nil || ds.Latest[1].State != jobs.NoticeDelivered {
		t.Fatalf("after the chat notice was delivered: %+v %v", ds, err)
	}
	var all int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM notices").Scan(&all); err != nil || all != 2 {
		t.Fatalf("%d notices recorded, want the two about the request (%v)", all, err)
	}
}

// TestADeliveredNoticeStaysDeliveredAndIsTheTenantsOnly: a late failure
// (a job rescued from a dead replica sends twice) does not undo a
// delivery, and another tenant reads nothing of the record.
func TestADeliveredNoticeStaysDeliveredAndIsTheTenantsOnly(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	forgetFixtureNotices(t, pool)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO notices (id, tenant_id, ref, channel, recipients, subject, enqueued_at)
		VALUES (gen_random_uuid(), $1, $2, 'email', '{requester@acme.test}', 'Request approved', now())`, acme, req); err != nil {
		t.Fatal(err)
	}
	ds, err := store.Deliveries(ctx, acme, req)
	if err != nil || len(ds.Latest) != 1 || ds.Total != 1 {
		t.Fatalf("deliveries: %+v %v", ds, err)
	}
	var id string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM notices").Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, o := range []jobs.DeliveryOutcome{{State: jobs.NoticeDelivered, Attempt: 1},
		{State: jobs.NoticeRetrying, Attempt: 1, Reason: "The mail relay did not answer in time."}} {
		if err := store.RecordDelivery(ctx, id, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	if ds, err := store.Deliveries(ctx, acme, req); err != nil || ds.Latest[0].State != jobs.NoticeDelivered || ds.Latest[0].Reason != "" {
		t.Fatalf("a late failure undid a delivery: %+v %v", ds, err)
	}
	if ds, err := store.Deliveries(ctx, tenantID(t, pool, "globex"), req); err != nil || len(ds.Latest) != 0 || ds.Total != 0 {
		t.Fatalf("another tenant reads the record: %+v %v", ds, err)
	}
}

// TestNoticesPagesInAStrictOrderWithinTheTenant: a tenant's notices page
// newest first, notices of one instant by ID, each exactly once however
// the pages cut the instant; a state narrows every page; a cursor at
// another tenant's notice reads on in the tenant's own; a bad query reads
// nothing.
func TestNoticesPagesInAStrictOrderWithinTheTenant(t *testing.T) {
	pool, store, acme, _ := requestFixture(t)
	forgetFixtureNotices(t, pool)
	globex := tenantID(t, pool, "globex")
	ctx := context.Background()
	t0 := time.Date(2031, 3, 1, 12, 0, 0, 123456000, time.UTC)
	type row struct {
		id      uuid.UUID
		at      time.Time
		subject string
		state   string
	}
	var want []row // acme's, in the order the pages must give
	insert := func(tenant string, at time.Time, subject, state string) row {
		r := row{uuid.New(), at, subject, state}
		if _, err := pool.Exec(ctx, `INSERT INTO notices (id, tenant_id, ref, channel, subject, enqueued_at, state)
			VALUES ($1, $2, 'r', 'chat', $3, $4, $5)`, r.id, tenant, subject, at, state); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := range 13 {
		at, state := t0, jobs.NoticeDelivered
		if i >= 9 {
			at = t0.Add(-time.Minute)
		}
		if i%2 == 0 {
			state = jobs.NoticeFailed
		}
		want = append(want, insert(acme, at, fmt.Sprintf("acme %d", i), state))
	}
	var theirs []row
	for i := range 5 {
		theirs = append(theirs, insert(globex, t0, fmt.Sprintf("globex %d", i), jobs.NoticeFailed))
	}
	slices.SortFunc(want, func(a, b row) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return bytes.Compare(b.id[:], a.id[:])
	})
	walk := func(q jobs.NoticeQuery) (got []string) {
		for range 20 {
			page, err := store.Notices(ctx, acme, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Notices {
				got = append(got, d.Subject)
			}
			if page.Older.IsZero() {
				return got
			}
			q.Before = page.Older
		}
		t.Fatal("more than 20 pages")
		return nil
	}
	var all, failed []string
	for _, r := range want {
		all = append(all, r.subject)
		if r.state == jobs.NoticeFailed {
			failed = append(failed, r.subject)
		}
	}
	if got := walk(jobs.NoticeQuery{Limit: 4}); !slices.Equal(got, all) {
		t.Fatalf("pages of 4 gave %q, want %q", got, all)
	}
	if got := walk(jobs.NoticeQuery{State: jobs.NoticeFailed, Limit: 2}); !slices.Equal(got, failed) {
		t.Fatalf("failed, pages of 2, gave %q, want %q", got, failed)
	}
	// A cursor at globex's notice: acme's after that position, never globex's.
	pos := theirs[2]
	var after []string
	for _, r := range want {
		if r.at.Before(pos.at) || (r.at.Equal(pos.at) && bytes.Compare(r.id[:], pos.id[:]) < 0) {
			after = append(after, r.subject)
		}
	}
	if got := walk(jobs.NoticeQuery{Before: paging.At(pos.at, pos.id), Limit: 3}); !slices.Equal(got, after) {
		t.Fatalf("from globex's notice: %q, want %q", got, after)
	}
	for _, bad := range []struct {
		tenant string
		q      jobs.NoticeQuery
		code   apperr.Code
	}{
		{acme, jobs.NoticeQuery{State: "bounced", Limit: 3}, apperr.Invalid},
		{acme, jobs.NoticeQuery{Limit: 0}, apperr.Invalid},
		{acme, jobs.NoticeQuery{Limit: jobs.MaxNoticePage + 1}, apperr.Invalid},
		{"not-a-tenant", jobs.NoticeQuery{Limit: 3}, apperr.NotFound},
	} {
		if page, err := store.Notices(ctx, bad.tenant, bad.q); apperr.CodeOf(err) != bad.code || len(page.Notices) != 0 {
			t.Errorf("%s %+v: %d notices, %v", bad.tenant, bad.q, len(page.Notices), err)
		}
	}
}
