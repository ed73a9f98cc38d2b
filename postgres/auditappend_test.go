package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
)

// Two transactions writing the audit trails of the same two organizations,
// listing them in opposite orders, interleaved the worst way, both
// complete: every writer locks the chain heads it needs in chain order
// before its first append, so neither holds one head while waiting for the
// other's.
//
// Here a revocation of a person who belongs to both organizations (its
// "revocation.started" event goes into both trails, the higher chain listed
// first) runs while another transaction holds the lower chain's head and
// then wants the higher one, as the two sides of a share in the other
// direction would. Appending in the order listed, the revocation would hold
// the higher head and wait for the lower: a deadlock PostgreSQL breaks by
// aborting one of them.
func TestWritersOfTwoTrailsInOppositeOrdersDoNotDeadlock(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	ts := postgres.NewTenantStore(pool)
	for _, r := range []struct{ slug, name string }{{"acme", "Acme"}, {"globex", "Globex"}} {
		if err := ts.Register(ctx, registration(t, r.slug, r.name, r.slug+".test"), "test"); err != nil {
			t.Fatal(err)
		}
	}
	lo, hi := tenantID(t, pool, "acme"), tenantID(t, pool, "globex")
	if hi < lo {
		lo, hi = hi, lo
	}
	for _, tid := range []string{hi, lo} { // listed higher chain first
		if _, err := pool.Exec(ctx, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
			VALUES ($1::uuid, 'sub-'||$1::text, 'pat@partner.test', 'Pat', '{}', '{requester}', now(), now())`, tid); err != nil {
			t.Fatal(err)
		}
	}
	ids := postgres.NewIdentityStore(pool, time.Now)
	for _, tid := range []string{lo, hi} { // both chains have a head
		if err := ids.RecordEvent(ctx, audit.Event{TenantID: tid, Actor: "test", Action: "test.setup", Outcome: audit.Success}); err != nil {
			t.Fatal(err)
		}
	}
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewRequestStore(pool, inserter, time.Now)

	other, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback(ctx) }()
	if _, err := other.Exec(ctx, "SELECT 1 FROM audit_heads WHERE chain = $1 FOR UPDATE", audit.ChainOf(lo)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := store.StartRevocation(ctx, approvals.Scope{Kind: approvals.ScopeUser, Value: "pat@partner.test"},
			approvals.Viewer{Operator: true}, "laptop stolen", "secops@platform.test", false, audit.Meta{})
		done <- err
	}()
	waitForLockWait(t, pool) // the revocation waits for a head
	if _, err := other.Exec(ctx, "SELECT 1 FROM audit_heads WHERE chain = $1 FOR UPDATE", audit.ChainOf(hi)); err != nil {
		t.Fatalf("the other writer, taking the higher head: %v", err)
	}
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the revocation: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the revocation did not finish")
	}
	for _, tid := range []string{lo, hi} {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'revocation.started'", tid).Scan(&n); err != nil || n != 1 {
			t.Fatalf("revocation.started in %s: %d (%v)", tid, n, err)
		}
		rep, err := postgres.VerifyAudit(ctx, pool, tid)
		if err != nil || len(rep.Problems) != 0 {
			t.Fatalf("the chain of %s: %+v %v", tid, rep.Problems, err)
		}
	}
}
