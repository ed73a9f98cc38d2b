package postgres_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/migrations"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres"
)

// TestNoticesRiverStillHoldsAreRecordedOnUpgrade: upgrading a running
// installation records the notices River still holds (what it forgets a
// day later would otherwise be lost to the review), and tells the unsent
// ones their record, so their outcome lands there.
func TestNoticesRiverStillHoldsAreRecordedOnUpgrade(t *testing.T) {
	pool, _, acme, req := requestFixture(t)
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
	ds, err := store.Deliveries(ctx, acme, req)
	if err != nil || len(ds) != 2 {
		t.Fatalf("after the upgrade: %+v %v", ds, err)
	}
	email, chat := ds[0], ds[1]
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
	if ds, err := store.Deliveries(ctx, acme, req); err != nil || ds[1].State != jobs.NoticeDelivered {
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
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO notices (id, tenant_id, ref, channel, recipients, subject, enqueued_at)
		VALUES (gen_random_uuid(), $1, $2, 'email', '{requester@acme.test}', 'Request approved', now())`, acme, req); err != nil {
		t.Fatal(err)
	}
	ds, err := store.Deliveries(ctx, acme, req)
	if err != nil || len(ds) != 1 {
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
	if ds, err := store.Deliveries(ctx, acme, req); err != nil || ds[0].State != jobs.NoticeDelivered || ds[0].Reason != "" {
		t.Fatalf("a late failure undid a delivery: %+v %v", ds, err)
	}
	if ds, err := store.Deliveries(ctx, tenantID(t, pool, "globex"), req); err != nil || len(ds) != 0 {
		t.Fatalf("another tenant reads the record: %+v %v", ds, err)
	}
}
