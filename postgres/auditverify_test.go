package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres"
)

// trail writes three events in acme's chain and two platform events.
func trail(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	pool := stack.NewPool(t)
	if err := postgres.NewTenantStore(pool).Register(ctx, registration(t, "acme", "Acme", "acme.test"), "test"); err != nil {
		t.Fatal(err)
	}
	acme := tenantID(t, pool, "acme")
	ids := postgres.NewIdentityStore(pool, time.Now)
	for i, tenant := range []string{acme, "", acme, acme, ""} {
		ev := audit.Event{TenantID: tenant, Actor: fmt.Sprintf("user%d", i), Action: "login.succeeded", Outcome: audit.Success,
			Detail: map[string]string{"n": fmt.Sprint(i), "b": "x"}}
		if err := ids.RecordEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	return pool, acme
}

// tamper runs sql as an attacker with database access: a superuser
// session with triggers disabled.
func tamper(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "SET session_replication_role = origin") //nolint:errcheck
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}

func TestTheAuditTrailIsAppendOnlyAndIntact(t *testing.T) {
	ctx := context.Background()
	pool, acme := trail(t)
	rep, err := postgres.VerifyAudit(ctx, pool, "")
	if err != nil || len(rep.Problems) != 0 || rep.Chains != 2 || rep.Events != 5 {
		t.Fatalf("clean trail: %+v, %v", rep, err)
	}
	if rep, _ := postgres.VerifyAudit(ctx, pool, acme); rep.Chains != 1 || rep.Events != 3 {
		t.Fatalf("acme only: %+v", rep)
	}
	for _, sql := range []string{"UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"} {
		if _, err := pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", sql, err)
		}
	}
}

func TestVerificationNamesTheFirstTamperedEvent(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, sql string
		seq       int64
		what      string
	}{
		{"modified", `UPDATE audit_events SET detail = '{"n":"99","b":"x"}' WHERE chain = $1 AND seq = 2`, 2, "modified"},
		{"deleted", `DELETE FROM audit_events WHERE chain = $1 AND seq = 2`, 2, "missing"},
		{"reordered", `UPDATE audit_events SET seq = seq + 10 WHERE chain = $1 AND seq = 1`, 1, "missing"},
		{"truncated", `DELETE FROM audit_events WHERE chain = $1 AND seq = 3`, 3, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pool, acme := trail(t)
			tamper(t, pool, c.sql, acme)
			rep, err := postgres.VerifyAudit(ctx, pool, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != 1 {
				t.Fatalf("problems %+v", rep.Problems)
			}
			p := rep.Problems[0]
			if p.Chain != acme || p.Seq != c.seq || !strings.Contains(p.What, c.what) {
				t.Fatalf("problem %+v, want %s at %d", p, c.what, c.seq)
			}
		})
	}
}
