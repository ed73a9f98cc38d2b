package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

func tenantID(t testing.TB, pool *pgxpool.Pool, slug string) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(context.Background(), "SELECT id::text FROM tenants WHERE slug = $1", slug).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// requestFixture registers acme and globex, puts one resource needing two
// approvals in acme's catalog and submits a request for it.
func requestFixture(t testing.TB) (*pgxpool.Pool, *postgres.RequestStore, string, string) {
	t.Helper()
	ctx := context.Background()
	pool := stack.NewPool(t)
	ts := postgres.NewTenantStore(pool)
	for _, r := range []tenants.Registration{registration(t, "acme", "Acme", "acme.test"), registration(t, "globex", "Globex", "globex.test")} {
		if err := ts.Register(ctx, r, "test"); err != nil {
			t.Fatal(err)
		}
	}
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewRequestStore(pool, inserter, time.Now)
	acme := tenantID(t, pool, "acme")
	resID, err := store.AddResource(ctx, acme, approvals.Resource{
		Name: "Orders DB", Classification: approvals.High, Mount: "tenant-acme", Path: "db/orders-primary",
		Policy: approvals.Policy{
			Requesters:      approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
			Steps:           []approvals.Step{{Name: "team", Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 2}},
			DefaultDuration: time.Hour, MaxDuration: 4 * time.Hour, JustificationMin: 10, Levels: []approvals.Level{approvals.Read},
			PendingTimeout: 24 * time.Hour,
		},
	}, "admin@acme.test", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	req, err := store.Submit(ctx, acme, resID, approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}},
		approvals.Submission{Level: approvals.Read, Justification: "investigating a failed payout"}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return pool, store, acme, req
}

func approver(i int) approvals.Person {
	return approvals.Person{Subject: fmt.Sprintf("appr-%d", i), Email: fmt.Sprintf("approver%d@acme.test", i), Roles: []tenants.Role{tenants.RoleApprover}}
}

func TestFiftyConcurrentApproversProduceExactlyOneGrant(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[apperr.Code]int{}
	approvedBy := 0
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			state, err := store.Decide(ctx, acme, req, approver(i), true, "", 0, audit.Meta{})
			mu.Lock()
			defer mu.Unlock()
			codes[apperr.CodeOf(err)]++
			if err == nil && state == approvals.Approved {
				approvedBy++
			}
		})
	}
	close(start)
	wg.Wait()

	if codes[""] != 2 || codes[apperr.Conflict] != 48 || approvedBy != 1 {
		t.Fatalf("outcomes %v, approving votes %d; want 2 accepted votes (one approving), 48 conflicts", codes, approvedBy)
	}
	var votes, jobsN int
	var state string
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM votes WHERE request_id::text = $1),
		(SELECT count(*) FROM river_job WHERE kind = 'issue_grant' AND args->>'request_id' = $1),
		(SELECT state FROM requests WHERE id::text = $1)`, req).Scan(&votes, &jobsN, &state); err != nil {
		t.Fatal(err)
	}
	if votes != 2 || jobsN != 1 || state != "approved" {
		t.Fatalf("%d votes, %d grant jobs, state %s; want 2, 1, approved", votes, jobsN, state)
	}
}

func TestDecisionsAreTenantScopedAndRefuseSelfApproval(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	ctx := context.Background()
	globex := tenantID(t, pool, "globex")
	if _, err := store.Decide(ctx, globex, req, approver(1), true, "", 0, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("decision through another tenant: %v", err)
	}
	self := approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleApprover}}
	if _, err := store.Decide(ctx, acme, req, self, true, "", 0, audit.Meta{}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := store.Decide(ctx, acme, "not-a-uuid", approver(1), true, "", 0, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("malformed id: %v", err)
	}
	var votes int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM votes").Scan(&votes); err != nil {
		t.Fatal(err)
	}
	if votes != 0 {
		t.Fatalf("%d votes recorded by refused decisions", votes)
	}
}

func TestBadSubmissionsChangeNothing(t *testing.T) {
	pool, store, acme, _ := requestFixture(t)
	ctx := context.Background()
	var resID string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM resources").Scan(&resID); err != nil {
		t.Fatal(err)
	}
	who := approvals.Person{Subject: "r2", Roles: []tenants.Role{tenants.RoleRequester}}
	cases := map[string]struct {
		tenant, resource string
		sub              approvals.Submission
		code             apperr.Code
	}{
		"over the maximum":      {acme, resID, approvals.Submission{Level: approvals.Read, Duration: 5 * time.Hour, Justification: "long enough reason"}, apperr.Invalid},
		"missing justification": {acme, resID, approvals.Submission{Level: approvals.Read}, apperr.Invalid},
		"unknown resource":      {acme, "00000000-0000-0000-0000-000000000000", approvals.Submission{Level: approvals.Read, Justification: "long enough reason"}, apperr.NotFound},
		"another tenant's":      {tenantID(t, pool, "globex"), resID, approvals.Submission{Level: approvals.Read, Justification: "long enough reason"}, apperr.NotFound},
	}
	for name, c := range cases {
		if _, err := store.Submit(ctx, c.tenant, c.resource, who, c.sub, audit.Meta{}); apperr.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM requests").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d requests; the refused submissions created some", n)
	}
}

func TestUndecidedRequestsTimeOut(t *testing.T) {
	pool, store, acme, req := requestFixture(t) // the fixture's policy times out after 24h
	ctx := context.Background()
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) *postgres.RequestStore {
		return postgres.NewRequestStore(pool, inserter, func() time.Time { return time.Now().Add(d) })
	}
	if n, err := at(23 * time.Hour).TimeOutPending(ctx); err != nil || n != 0 {
		t.Fatalf("after 23h: closed %d, %v", n, err)
	}
	// One vote does not stop the clock.
	if _, err := store.Decide(ctx, acme, req, approver(1), true, "", 0, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if n, err := at(25 * time.Hour).TimeOutPending(ctx); err != nil || n != 1 {
		t.Fatalf("after 25h: closed %d, %v", n, err)
	}
	if _, err := store.Decide(ctx, acme, req, approver(2), true, "", 0, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("vote on a timed-out request: %v", err)
	}
	var state string
	if err := pool.QueryRow(ctx, "SELECT state FROM requests WHERE id::text = $1", req).Scan(&state); err != nil || state != "timed-out" {
		t.Fatalf("state %q, %v", state, err)
	}
}

// TestAShortTimeoutIsNotStarvedByOlderLongOnes: the sweep takes a batch of
// 500 at a time; 600 older requests whose (30-day) timeouts have not run
// out must not keep a newer one with a short timeout from closing.
func TestAShortTimeoutIsNotStarvedByOlderLongOnes(t *testing.T) {
	pool, _, _, req := requestFixture(t) // req: a 24h timeout, submitted now
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `
		INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
		                      justification, state, policy, submitted_at, updated_at)
		SELECT r.tenant_id, r.resource_id, 'old-' || g, 'old' || g || '@acme.test', r.requester, r.level, r.duration_seconds,
		       r.justification, 'pending', jsonb_set(r.policy, '{pending_timeout_ns}', to_jsonb($2::bigint)),
		       r.submitted_at - interval '2 days', r.updated_at
		FROM requests r, generate_series(1, 600) g WHERE r.id::text = $1`, req, int64(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		t.Fatal(err)
	}
	later := postgres.NewRequestStore(pool, inserter, func() time.Time { return time.Now().Add(25 * time.Hour) })
	if n, err := later.TimeOutPending(ctx); err != nil || n != 1 {
		t.Fatalf("closed %d (%v); want the one request past its timeout", n, err)
	}
	var state string
	var open int
	if err := pool.QueryRow(ctx, `SELECT (SELECT state FROM requests WHERE id::text = $1),
		(SELECT count(*) FROM requests WHERE state = 'pending')`, req).Scan(&state, &open); err != nil || state != "timed-out" || open != 600 {
		t.Fatalf("the short-timeout request is %q, %d still pending (%v)", state, open, err)
	}
}

func TestADoubleSubmitChangesNothing(t *testing.T) {
	pool, store, acme, _ := requestFixture(t) // the requester "req" has a pending request already
	var resID string
	if err := pool.QueryRow(context.Background(), "SELECT id::text FROM resources").Scan(&resID); err != nil {
		t.Fatal(err)
	}
	who := approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	sub := approvals.Submission{Level: approvals.Read, Justification: "investigating a failed payout"}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := store.Submit(context.Background(), acme, resID, who, sub, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("double submit: %v", err)
			}
		})
	}
	wg.Wait()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM requests").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d requests, %v", n, err)
	}
}

// A request is read and locked by its ID alone (GetRequestDetail,
// LockGrantTarget): an unknown ID, or a known one through another tenant, is
// not found, and the grant steps change nothing.
func TestOneRequestIsFoundByItsIDInItsTenantOnly(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	ctx := context.Background()
	globex := tenantID(t, pool, "globex")
	d, err := store.Detail(ctx, acme, req)
	if err != nil || d.ID != req || d.Requester.Email != "requester@acme.test" || d.Path != "db/orders-primary" || d.State != approvals.Pending {
		t.Fatalf("detail: %+v %v", d, err)
	}
	unknown := "0b5e6a2c-3f4d-4e8a-9c1b-2d3e4f5a6b7c"
	for name, id := range map[string]struct{ tenant, request string }{
		"unknown request": {acme, unknown}, "another tenant's request": {globex, req},
	} {
		if _, err := store.Detail(ctx, id.tenant, id.request); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("detail of %s: %v", name, err)
		}
	}
	if _, err := store.StartIssuing(ctx, unknown); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("issuing an unknown request: %v", err)
	}
	if err := store.FinishIssuing(ctx, unknown, time.Now().Add(time.Hour)); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("finishing an unknown request: %v", err)
	}
	if _, err := store.StartIssuing(ctx, req); !errors.Is(err, jobs.ErrSettled) {
		t.Errorf("issuing a pending request: %v", err)
	}
	var state string
	var grants int
	if err := pool.QueryRow(ctx, "SELECT state, (SELECT count(*) FROM grants) FROM requests WHERE id = $1", req).Scan(&state, &grants); err != nil {
		t.Fatal(err)
	}
	if state != "pending" || grants != 0 {
		t.Fatalf("the refused steps changed the request: %s, %d grants", state, grants)
	}
}
