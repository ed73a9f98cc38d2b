package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

// A kill switch and an audited change of the same tenant, interleaved the
// worst way (the change holds the tenant's audit head and then writes a row
// referencing the tenant while the kill switch holds the tenant and waits
// for the head), both complete: the tenant is locked without blocking the
// foreign-key checks of others, so no deadlock.
func TestAKillSwitchDoesNotDeadlockWithAnAuditedChange(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	ts := postgres.NewTenantStore(pool)
	if err := ts.Register(ctx, registration(t, "acme", "Acme", "acme.test"), "test"); err != nil {
		t.Fatal(err)
	}
	acme := tenantID(t, pool, "acme")
	if err := postgres.NewIdentityStore(pool, time.Now).RecordEvent(ctx, audit.Event{TenantID: acme, Actor: "test", Action: "test.setup", Outcome: audit.Success}); err != nil {
		t.Fatal(err)
	}

	change, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = change.Rollback(ctx) }()
	if _, err := change.Exec(ctx, "SELECT 1 FROM audit_heads WHERE chain = $1 FOR UPDATE", audit.ChainOf(acme)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ts.ApplyKillSwitch(ctx, "acme", tenants.Suspend, "compromised", "operator", audit.Meta{})
		done <- err
	}()
	waitForLockWait(t, pool) // the kill switch holds the tenant and waits for the audit head
	if _, err := change.Exec(ctx, "INSERT INTO tenant_email_domains (domain, tenant_id) VALUES ('acme-two.test', $1)", acme); err != nil {
		t.Fatalf("the change's foreign-key check: %v", err)
	}
	if err := change.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the kill switch: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the kill switch did not finish")
	}
	var status string
	if err := pool.QueryRow(ctx, "SELECT status FROM tenants WHERE id = $1", acme).Scan(&status); err != nil || status != string(tenants.StatusSuspended) {
		t.Fatalf("after the kill switch: %s (%v)", status, err)
	}
}

// waitForLockWait returns once a session of this database waits for a lock.
func waitForLockWait(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var waiting bool
		if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
	}
	t.Fatal("nothing waited for a lock")
}
