package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
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

func TestCheckpointsCatchATruncationTheChainAloneCannot(t *testing.T) {
	ctx := context.Background()
	pool, acme := trail(t)
	log := postgres.NewAuditLog(pool, time.Now, nil)
	heads, err := log.AuditHeads(ctx)
	if err != nil || len(heads) != 2 {
		t.Fatalf("heads: %v %v", heads, err)
	}
	file := jobs.FileAnchor{Path: t.TempDir() + "/checkpoints.jsonl"}
	if err := file.WriteCheckpoints(ctx, heads); err != nil {
		t.Fatal(err)
	}
	// An attacker deletes acme's last event and rewrites the head to match:
	// the chain alone is consistent again.
	tamper(t, pool, "DELETE FROM audit_events WHERE chain = $1 AND seq = 3", acme)
	tamper(t, pool, `UPDATE audit_heads SET seq = 2, hash = (SELECT hash FROM audit_events WHERE chain = $1 AND seq = 2) WHERE chain = $1`, acme)
	if rep, err := postgres.VerifyAudit(ctx, pool, ""); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("without checkpoints the truncation should go unseen here: %+v %v", rep, err)
	}
	cps, err := jobs.LastCheckpoints(file.Path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := postgres.VerifyAuditWith(ctx, pool, "", cps)
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Chain != acme || !strings.HasPrefix(rep.Problems[0].What, "truncated") {
		t.Fatalf("with checkpoints: %+v %v", rep, err)
	}
	// The console's verification uses the same checkpoints and records the result.
	withFile := postgres.NewAuditLog(pool, time.Now, func(context.Context) ([]audit.Checkpoint, error) { return cps, nil })
	if v, err := withFile.Verify(ctx, acme, false, "auditor"); err != nil || len(v.Problems) != 1 {
		t.Fatalf("verification: %+v %v", v, err)
	}
	if last, ok, err := withFile.LastVerification(ctx, acme, false); err != nil || !ok || len(last.Problems) != 1 || last.By != "auditor" {
		t.Fatalf("last verification: %+v %v %v", last, ok, err)
	}
}

func TestTheAppRoleCannotRewriteTheAuditTrail(t *testing.T) {
	ctx := context.Background()
	dbURL := stack.NewDatabase(t)
	owner, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	role := fmt.Sprintf("gh_app_%d", time.Now().UnixNano())
	if _, err := owner.Exec(ctx, "CREATE ROLE "+role+" LOGIN IN ROLE gatehouse_app"); err != nil {
		t.Fatal(err)
	}
	app, err := postgres.Open(ctx, strings.Replace(dbURL, "postgres://gatehouse@", "postgres://"+role+"@", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	// What the application does works under the role...
	if err := postgres.NewTenantStore(app).Register(ctx, registration(t, "acme", "Acme", "acme.test"), "test"); err != nil {
		t.Fatalf("registering a tenant as the app role: %v", err)
	}
	if err := postgres.NewIdentityStore(app, time.Now).RecordEvent(ctx, audit.Event{TenantID: tenantID(t, app, "acme"), Actor: "a",
		Action: "login.succeeded", Outcome: audit.Success}); err != nil {
		t.Fatalf("appending to the audit trail as the app role: %v", err)
	}
	inserter, err := jobs.NewInserter(app)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inserter.Insert(ctx, jobs.TimeoutRequestsArgs{}, nil); err != nil {
		t.Fatalf("enqueueing a job as the app role: %v", err)
	}
	// ...but the audit trail cannot be changed, by permission (before any trigger).
	for _, sql := range []string{"UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events", "TRUNCATE audit_events"} {
		_, err := app.Exec(ctx, sql)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as the app role: %v", sql, err)
		}
	}
	if rep, err := postgres.VerifyAudit(ctx, owner, ""); err != nil || rep.Events == 0 || len(rep.Problems) != 0 {
		t.Fatalf("trail after the attempts: %+v %v", rep, err)
	}
}
