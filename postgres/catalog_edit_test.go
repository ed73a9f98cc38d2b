package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

var requester = approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}

// ordersID is the ID of the fixture's one resource, "Orders DB".
func ordersID(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(context.Background(), "SELECT id::text FROM resources WHERE name = 'Orders DB'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// auditEvents returns the details of the events of action, oldest first.
func auditEvents(t testing.TB, pool *pgxpool.Pool, action string) []map[string]string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT detail FROM audit_events WHERE action = $1 ORDER BY id", action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		d := map[string]string{}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTransaction fails the test unless the resource's row was last
// written by the transaction that wrote the latest audit event of action.
func sameTransaction(t *testing.T, pool *pgxpool.Pool, resID, action string) {
	t.Helper()
	var same bool
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT xmin::text FROM resources WHERE id::text = $1) =
		(SELECT xmin::text FROM audit_events WHERE action = $2 ORDER BY id DESC LIMIT 1)`, resID, action).Scan(&same); err != nil {
		t.Fatal(err)
	}
	if !same {
		t.Fatalf("the change and its %s event were written by different transactions", action)
	}
}

func requestPolicy(t *testing.T, pool *pgxpool.Pool, req string) string {
	t.Helper()
	var p string
	if err := pool.QueryRow(context.Background(), "SELECT policy::text FROM requests WHERE id::text = $1", req).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEditingDetailsIsAuditedInItsTransactionAndKeepsSnapshots(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	ctx := context.Background()
	resID := ordersID(t, pool)
	snapshot := requestPolicy(t, pool, req)
	row := func() string {
		var s string
		if err := pool.QueryRow(ctx, `SELECT concat_ws('|', name, description, owner_team, classification, mount, path, policy::text)
			FROM resources WHERE id::text = $1`, resID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := row()

	bad := approvals.ResourceDetails{Name: " ", Classification: "secret", OwnerTeam: "payments"}
	if e := apperr.As(store.EditResource(ctx, acme, resID, bad, "admin@acme.test", audit.Meta{})); e == nil || e.Code != apperr.Invalid ||
		e.Fields["name"] == "" || e.Fields["classification"] == "" {
		t.Fatalf("bad details: %v", e)
	}
	globex := tenantID(t, pool, "globex")
	good := approvals.ResourceDetails{Name: "Orders primary", Description: "the main orders database", Classification: approvals.Critical}
	if err := store.EditResource(ctx, globex, resID, good, "admin@globex.test", audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("an edit through another tenant: %v", err)
	}
	if row() != before || len(auditEvents(t, pool, "resource.updated")) != 0 {
		t.Fatal("a refused edit changed the resource or was audited as done")
	}

	if err := store.EditResource(ctx, acme, resID, good, "admin@acme.test", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	r, err := store.Resource(ctx, acme, resID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != good.Name || r.Description != good.Description || r.Classification != approvals.Critical ||
		r.Mount != "tenant-acme" || r.Path != "db/orders-primary" {
		t.Fatalf("after the edit: %+v", r)
	}
	evs := auditEvents(t, pool, "resource.updated")
	if len(evs) != 1 {
		t.Fatalf("%d resource.updated events, want 1", len(evs))
	}
	if d := evs[0]; d["changed"] != "name,description,classification" || d["name.old"] != "Orders DB" || d["name.new"] != "Orders primary" ||
		d["classification.old"] != "high" || d["classification.new"] != "critical" || d["owner_team.new"] != "" {
		t.Fatalf("the event records %v", d)
	}
	sameTransaction(t, pool, resID, "resource.updated")
	if requestPolicy(t, pool, req) != snapshot {
		t.Fatal("the pending request's policy snapshot changed with the edit")
	}

	// Saving the same details again changes nothing and audits nothing.
	if err := store.EditResource(ctx, acme, resID, good, "admin@acme.test", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if n := len(auditEvents(t, pool, "resource.updated")); n != 1 {
		t.Fatalf("an edit changing nothing was audited (%d events)", n)
	}
}

func TestAFollowerTakesItsNewClassificationsPolicy(t *testing.T) {
	pool, store, acme, _ := requestFixture(t)
	ctx := context.Background()
	policy := func(required int) approvals.Policy {
		return approvals.Policy{
			Requesters:      approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
			Steps:           []approvals.Step{{Name: "team", Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: required}},
			DefaultDuration: time.Hour, MaxDuration: 2 * time.Hour, JustificationMin: 10, Levels: []approvals.Level{approvals.Read},
			PendingTimeout: 24 * time.Hour,
		}
	}
	for c, n := range map[approvals.Classification]int{approvals.High: 1, approvals.Critical: 3} {
		if _, err := store.SetClassPolicy(ctx, acme, c, policy(n), "admin", audit.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	ledger, err := store.AddResource(ctx, acme, approvals.Resource{Name: "Ledger", Classification: approvals.High, Mount: "tenant-acme",
		Path: "ledger", PolicyFromClass: true}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	req, err := store.Submit(ctx, acme, ledger, approvals.Person{Subject: "r2", Email: "r2@acme.test", Roles: []tenants.Role{tenants.RoleRequester}},
		approvals.Submission{Level: approvals.Read, Justification: "month-end reconciliation"}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := requestPolicy(t, pool, req)
	required := func(id string) (int, bool) {
		r, err := store.Resource(ctx, acme, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Policy.Steps[0].Required, r.PolicyFromClass
	}

	if err := store.EditResource(ctx, acme, ledger, approvals.ResourceDetails{Name: "Ledger", Classification: approvals.Critical}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if n, follows := required(ledger); n != 3 || !follows {
		t.Fatalf("after moving to critical the follower needs %d approvals (following: %v); want the critical policy's 3", n, follows)
	}
	if d := auditEvents(t, pool, "resource.updated")[0]; d["policy_source"] != "classification critical" || !strings.Contains(d["policy"], `"required":3`) {
		t.Fatalf("the event does not record the new policy: %v", d)
	}
	if requestPolicy(t, pool, req) != snapshot {
		t.Fatal("the pending request's snapshot followed the new classification")
	}

	// No low policy: a follower cannot move there, and nothing changes.
	err = store.EditResource(ctx, acme, ledger, approvals.ResourceDetails{Name: "Ledger renamed", Classification: approvals.Low}, "admin", audit.Meta{})
	if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || !strings.Contains(e.Fields["classification"], "no policy for low") {
		t.Fatalf("a follower moved to a classification without a policy: %v", err)
	}
	if r, _ := store.Resource(ctx, acme, ledger); r.Name != "Ledger" || r.Classification != approvals.Critical {
		t.Fatalf("a refused edit changed the follower: %+v", r)
	}
	// A resource with its own policy moves anywhere and keeps it.
	orders := ordersID(t, pool)
	if err := store.EditResource(ctx, acme, orders, approvals.ResourceDetails{Name: "Orders DB", Classification: approvals.Low}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if n, follows := required(orders); n != 2 || follows {
		t.Fatalf("an own policy changed with the classification: %d approvals (following: %v)", n, follows)
	}
}

const (
	retireReason  = "decommissioned with the old payments stack"
	restoreReason = "the payments migration was rolled back"
)

func retire(store *postgres.RequestStore, tenant, id string) error {
	return store.RetireResource(context.Background(), tenant, id, "Orders DB", retireReason, "admin@acme.test", audit.Meta{})
}

func flagBreakGlass(t *testing.T, store *postgres.RequestStore, tenant, id string) {
	t.Helper()
	if err := store.SetBreakGlass(context.Background(), tenant, id, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
}

func responder(subject string) approvals.Person {
	return approvals.Person{Subject: subject, Email: subject + "@acme.test", Roles: []tenants.Role{tenants.RoleResponder}}
}

var emergency = approvals.Emergency{Justification: "payments are failing for every customer", Incident: "INC-7"}

func propose(store *postgres.RequestStore, acme, id string) (string, error) {
	admin := approvals.Person{Tenant: acme, Subject: "adm", Email: "admin@acme.test", Roles: []tenants.Role{tenants.RoleTenantAdmin}}
	return store.ProposeShare(context.Background(), acme, admin, "globex", []string{id}, approvals.ShareTerms{
		Recipients: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}}, Level: approvals.Read,
		TermEnd: time.Now().Add(7 * 24 * time.Hour), Purpose: "joint payments investigation", Mode: approvals.PreApproved, MaxGrant: time.Hour,
	}, audit.Meta{})
}

// TestRetiringIsRefusedWhileAccessIsLive: each kind of live access keeps
// the resource in the catalog, and the refusal names it.
func TestRetiringIsRefusedWhileAccessIsLive(t *testing.T) {
	ctx := context.Background()
	decide := func(t *testing.T, store *postgres.RequestStore, acme, req string) {
		for i := range 2 {
			if _, err := store.Decide(ctx, acme, req, approver(i), true, "", 0, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name    string
		setup   func(t *testing.T, store *postgres.RequestStore, acme, req, resID string)
		inUse   approvals.InUse
		mention string
	}{
		{"a pending request", func(*testing.T, *postgres.RequestStore, string, string, string) {}, approvals.InUse{Requests: 1}, "1 open request"},
		{"an approved request", func(t *testing.T, s *postgres.RequestStore, acme, req, _ string) { decide(t, s, acme, req) },
			approvals.InUse{Requests: 1}, "1 open request"},
		{"a request being issued", func(t *testing.T, s *postgres.RequestStore, acme, req, _ string) {
			decide(t, s, acme, req)
			if _, err := s.StartIssuing(ctx, req); err != nil {
				t.Fatal(err)
			}
		}, approvals.InUse{Requests: 1}, "1 open request"},
		{"an active grant", func(t *testing.T, s *postgres.RequestStore, acme, req, _ string) {
			decide(t, s, acme, req)
			if _, err := s.StartIssuing(ctx, req); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishIssuing(ctx, req, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, approvals.InUse{Grants: 1}, "resource:"},
		{"a break-glass", func(t *testing.T, s *postgres.RequestStore, acme, req, resID string) {
			if err := s.Cancel(ctx, acme, req, requester, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
			flagBreakGlass(t, s, acme, resID)
			if _, err := s.BreakGlass(ctx, acme, resID, responder("resp"), emergency, true, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
		}, approvals.InUse{Requests: 1}, "1 open request"},
		{"a proposed share", func(t *testing.T, s *postgres.RequestStore, acme, req, resID string) {
			if err := s.Cancel(ctx, acme, req, requester, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
			if _, err := propose(s, acme, resID); err != nil {
				t.Fatal(err)
			}
		}, approvals.InUse{Shares: 1}, "1 live share"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pool, store, acme, req := requestFixture(t)
			resID := ordersID(t, pool)
			tc.setup(t, store, acme, req, resID)
			if u, err := store.ResourceInUse(ctx, acme, resID); err != nil || u != tc.inUse {
				t.Fatalf("in use: %+v (%v), want %+v", u, err, tc.inUse)
			}
			err := retire(store, acme, resID)
			if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || !strings.Contains(e.Message, tc.mention) {
				t.Fatalf("retire with %s: %v; want a conflict mentioning %q", tc.name, err, tc.mention)
			}
			if r, err := store.Requestable(ctx, acme, resID); err != nil || r.Retired() {
				t.Fatalf("a refused retire took the resource out of the catalog (%v)", err)
			}
			if n := len(auditEvents(t, pool, "resource.retired")); n != 0 {
				t.Fatalf("a refused retire was audited as done (%d events)", n)
			}
		})
	}
}

// TestARetiredResourceOffersNoNewAccess: once retired, a resource leaves
// the catalog, and no request, break-glass, share or retried issue of it
// can be made, until it is restored.
func TestARetiredResourceOffersNoNewAccess(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	ctx := context.Background()
	resID := ordersID(t, pool)
	flagBreakGlass(t, store, acme, resID)
	// The fixture's request fails to issue: retryable, but not in use.
	for i := range 2 {
		if _, err := store.Decide(ctx, acme, req, approver(i), true, "", 0, audit.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.StartIssuing(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := store.FailIssuing(ctx, req, "Vault refused"); err != nil {
		t.Fatal(err)
	}

	for name, c := range map[string]struct{ confirm, reason, field string }{
		"the name mistyped": {"orders db", retireReason, "confirm"},
		"no reason":         {"Orders DB", " ", "reason"},
	} {
		err := store.RetireResource(ctx, acme, resID, c.confirm, c.reason, "admin@acme.test", audit.Meta{})
		if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || e.Fields[c.field] == "" {
			t.Fatalf("retire with %s: %v", name, err)
		}
	}
	if err := retire(store, tenantID(t, pool, "globex"), resID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("retire through another tenant: %v", err)
	}
	if err := retire(store, acme, resID); err != nil {
		t.Fatal(err)
	}
	sameTransaction(t, pool, resID, "resource.retired")
	if evs := auditEvents(t, pool, "resource.retired"); len(evs) != 1 || evs[0]["reason"] != retireReason || evs[0]["secret"] != "tenant-acme/db/orders-primary" {
		t.Fatalf("resource.retired events: %v", evs)
	}

	if all, err := store.Catalog(ctx, acme); err != nil || len(all) != 0 {
		t.Fatalf("the catalog still lists %d resources (%v)", len(all), err)
	}
	if gone, err := store.RetiredResources(ctx, acme); err != nil || len(gone) != 1 || gone[0].RetiredBy != "admin@acme.test" || gone[0].RetiredReason != retireReason {
		t.Fatalf("retired resources: %+v (%v)", gone, err)
	}
	if _, err := store.Requestable(ctx, acme, resID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a retired resource is requestable: %v", err)
	}
	if r, err := store.Resource(ctx, acme, resID); err != nil || !r.Retired() {
		t.Fatalf("admins cannot read the retired resource: %+v (%v)", r, err)
	}

	requests := func() int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM requests").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := requests()
	someone := approvals.Person{Subject: "r2", Email: "r2@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	sub := approvals.Submission{Level: approvals.Read, Justification: "investigating a failed payout"}
	if _, err := store.Submit(ctx, acme, resID, someone, sub, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("a request for a retired resource: %v", err)
	}
	if _, err := store.BreakGlass(ctx, acme, resID, responder("resp"), emergency, true, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("break-glass on a retired resource: %v", err)
	}
	if len(auditEvents(t, pool, "breakglass.refused")) != 1 {
		t.Error("the refused break-glass was not audited")
	}
	if _, err := propose(store, acme, resID); apperr.CodeOf(err) != apperr.Invalid || apperr.As(err).Fields["resources"] == "" {
		t.Errorf("a share of a retired resource: %v", err)
	}
	if err := store.RetryIssuing(ctx, acme, req, requester, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("retrying the issue of a retired resource's request: %v", err)
	}
	var shares int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM shares").Scan(&shares); err != nil || shares != 0 || requests() != before {
		t.Fatalf("access was created on a retired resource: %d shares, %d requests (was %d)", shares, requests(), before)
	}
	// A job still retrying the failed request (a break-glass's backstop) cannot make it a grant.
	if _, err := store.StartIssuing(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := store.FinishIssuing(ctx, req, time.Now().Add(time.Hour)); !errors.Is(err, jobs.ErrNotIssuable) {
		t.Fatalf("issuing a grant on a retired resource: %v", err)
	}
	var state, reason string
	if err := pool.QueryRow(ctx, "SELECT state, failure_reason FROM requests WHERE id::text = $1", req).Scan(&state, &reason); err != nil ||
		state != "failed" || !strings.Contains(reason, "retired") {
		t.Fatalf("the request is %s (%q, %v); want failed, saying the resource was retired", state, reason, err)
	}
	if err := retire(store, acme, resID); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("retiring twice: %v", err)
	}
	retired, err := store.Resource(ctx, acme, resID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.AddResource(ctx, acme, approvals.Resource{Name: "Orders again", Classification: approvals.High, Mount: "tenant-acme",
		Path: "db/orders-primary", Policy: retired.Policy}, "admin", audit.Meta{})
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || !strings.Contains(e.Fields["path"], "restore it") {
		t.Fatalf("adding the retired secret again: %v; want a conflict pointing to restoring it", err)
	}

	// Restored with a reason, it can be requested again.
	if err := store.RestoreResource(ctx, tenantID(t, pool, "globex"), resID, restoreReason, "admin@globex.test", audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("restore through another tenant: %v", err)
	}
	if err := store.RestoreResource(ctx, acme, resID, " ", "admin@acme.test", audit.Meta{}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("restore without a reason: %v", err)
	}
	if r, err := store.Resource(ctx, acme, resID); err != nil || !r.Retired() || len(auditEvents(t, pool, "resource.restored")) != 0 {
		t.Fatalf("a restore without a reason changed something (retired %v, %v)", r.Retired(), err)
	}
	if err := store.RestoreResource(ctx, acme, resID, restoreReason, "admin@acme.test", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	sameTransaction(t, pool, resID, "resource.restored")
	if ev := auditEvents(t, pool, "resource.restored"); len(ev) != 1 || ev[0]["reason"] != restoreReason {
		t.Fatalf("the restore's audit events: %v; want one with its reason", ev)
	}
	if err := store.RestoreResource(ctx, acme, resID, restoreReason, "admin@acme.test", audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("restoring a resource in the catalog: %v", err)
	}
	if _, err := store.Submit(ctx, acme, resID, someone, sub, audit.Meta{}); err != nil {
		t.Fatalf("a request for the restored resource: %v", err)
	}
}

// lockWaiters counts the sessions of the test's database waiting on a lock.
func lockWaiters(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitForLockWaiters(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); lockWaiters(t, pool) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d sessions ever waited on a lock", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// raceRetire forces one interleaving of create (something made on the
// resource resID, named name, of tenant acme) and a retire of it on real
// PostgreSQL. An
// outside transaction holds the organization's audit head, the last lock
// both take, so the first one to start stops just before committing; the
// second then starts. It returns the retire's and create's errors.
func raceRetire(t *testing.T, pool *pgxpool.Pool, store *postgres.RequestStore, acme, resID, name string, retireFirst bool, create func() error) (retireErr, createErr error) {
	t.Helper()
	ctx := context.Background()
	hold, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck // released below, or when the test fails
	if _, err := hold.Exec(ctx, "SELECT 1 FROM audit_heads WHERE chain = $1 FOR UPDATE", audit.ChainOf(acme)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	doRetire := func() {
		wg.Go(func() {
			retireErr = store.RetireResource(ctx, acme, resID, name, retireReason, "admin@acme.test", audit.Meta{})
		})
	}
	doCreate := func() { wg.Go(func() { createErr = create() }) }
	first, second := doCreate, doRetire
	if retireFirst {
		first, second = doRetire, doCreate
	}
	first()
	waitForLockWaiters(t, pool, 1) // at the audit head, its row lock on the resource held
	second()
	waitForLockWaiters(t, pool, 2) // on the resource's row (without the lock: at the audit head)
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return retireErr, createErr
}

// TestARequestAndARetireInFlightAreOrdered forces both interleavings of a
// request and a retire (raceRetire). A request that started first must be
// counted by the retire (refused); a request that started second must
// find the resource retired. Without the retire's row lock (FOR UPDATE; a
// plain update's is too weak) both orders, and without the request's (FOR
// KEY SHARE) the second, end with a pending request on a retired resource.
func TestARequestAndARetireInFlightAreOrdered(t *testing.T) {
	for _, retireFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("retire first %v", retireFirst), func(t *testing.T) {
			pool, store, acme, req := requestFixture(t)
			ctx := context.Background()
			resID := ordersID(t, pool)
			if err := store.Cancel(ctx, acme, req, requester, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
			retireErr, submitErr := raceRetire(t, pool, store, acme, resID, "Orders DB", retireFirst, func() error {
				_, err := store.Submit(ctx, acme, resID, approvals.Person{Subject: "r2", Email: "r2@acme.test", Roles: []tenants.Role{tenants.RoleRequester}},
					approvals.Submission{Level: approvals.Read, Justification: "investigating a failed payout"}, audit.Meta{})
				return err
			})
			var retired bool
			var open int
			if err := pool.QueryRow(ctx, `SELECT retired_at IS NOT NULL, (SELECT count(*) FROM requests WHERE resource_id = $1::uuid AND state = 'pending')
				FROM resources WHERE id = $1::uuid`, resID).Scan(&retired, &open); err != nil {
				t.Fatal(err)
			}
			if retired && open > 0 {
				t.Fatalf("a request slipped through: the resource is retired with %d pending requests (retire %v, submit %v)", open, retireErr, submitErr)
			}
			if retireFirst && (retireErr != nil || apperr.CodeOf(submitErr) != apperr.NotFound) {
				t.Fatalf("retire first: retire %v, request %v; want the request to find the resource retired", retireErr, submitErr)
			}
			if !retireFirst && (submitErr != nil || apperr.CodeOf(retireErr) != apperr.Conflict) {
				t.Fatalf("request first: request %v, retire %v; want the retire refused", submitErr, retireErr)
			}
		})
	}
}

// TestRequestsBreakGlassAndSharesRacingARetire: in each round, requests, a
// break-glass and a share proposal race a retire of a fresh resource.
// Whoever wins, a retired resource is left with no open request, no
// break-glass and no live share.
func TestRequestsBreakGlassAndSharesRacingARetire(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	ctx := context.Background()
	if err := store.Cancel(ctx, acme, req, requester, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := store.SetBreakGlassLimits(ctx, acme, approvals.Limits{PerResponder: 1, PerTenant: 100, ReviewSLA: time.Hour}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	orders, err := store.Resource(ctx, acme, ordersID(t, pool))
	if err != nil {
		t.Fatal(err)
	}
	won := map[bool]int{}
	for round := range 30 {
		name := fmt.Sprintf("Race %d", round)
		id, err := store.AddResource(ctx, acme, approvals.Resource{Name: name, Classification: approvals.High, Mount: "tenant-acme",
			Path: fmt.Sprintf("race/%d", round), Policy: orders.Policy}, "admin", audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		flagBreakGlass(t, store, acme, id)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var retireErr error
		errs := make([]error, 6)
		for i := range 4 {
			wg.Go(func() {
				<-start
				who := approvals.Person{Subject: fmt.Sprintf("r%d-%d", round, i), Email: fmt.Sprintf("r%d-%d@acme.test", round, i), Roles: []tenants.Role{tenants.RoleRequester}}
				_, errs[i] = store.Submit(ctx, acme, id, who, approvals.Submission{Level: approvals.Read, Justification: "investigating a failed payout"}, audit.Meta{})
			})
		}
		wg.Go(func() {
			<-start
			_, errs[4] = store.BreakGlass(ctx, acme, id, responder(fmt.Sprintf("resp-%d", round)), emergency, true, audit.Meta{})
		})
		wg.Go(func() {
			<-start
			_, errs[5] = propose(store, acme, id)
		})
		wg.Go(func() {
			<-start
			retireErr = store.RetireResource(ctx, acme, id, name, retireReason, "admin", audit.Meta{})
		})
		close(start)
		wg.Wait()

		u, err := store.ResourceInUse(ctx, acme, id)
		if err != nil {
			t.Fatal(err)
		}
		r, err := store.Resource(ctx, acme, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Retired() && u.Any() {
			t.Fatalf("round %d: the resource is retired and still in use: %+v (attempts %v, retire %v)", round, u, errs, retireErr)
		}
		if r.Retired() != (retireErr == nil) {
			t.Fatalf("round %d: retired %v, but the retire returned %v", round, r.Retired(), retireErr)
		}
		for i, err := range errs {
			if code := apperr.CodeOf(err); code != "" && code != apperr.NotFound && code != apperr.Invalid {
				t.Fatalf("round %d: attempt %d failed with %v", round, i, err)
			}
		}
		won[r.Retired()]++
	}
	t.Logf("rounds the retire won: %d; rounds it was refused: %d", won[true], won[false])
}
