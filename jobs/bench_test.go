package jobs_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
)

// pendingWithOneVote submits a request and records its first approval, so
// the next approval is the final one.
func pendingWithOneVote(b *testing.B, w world, resID string, i int) string {
	ctx := context.Background()
	who := approvals.Person{Subject: fmt.Sprintf("req-%d", i), Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	req, err := w.store.Submit(ctx, w.tenant, resID, who, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.store.Decide(ctx, w.tenant, req, approvals.Person{Subject: "a1", Roles: []tenants.Role{tenants.RoleApprover}}, true, "", 0, audit.Meta{}); err != nil {
		b.Fatal(err)
	}
	return req
}

// BenchmarkApproveToCredential measures, on the same PostgreSQL and Vault
// in one run: the final approval through to the holder's wrapped token as
// the console does it (the vote, then issuance at once on the approver's
// request: gatehouse-inline), the same left to the grant job going through
// River's queue alone (the durable path, when the inline attempt fails),
// the raw Vault calls for the same credential (policy write + wrapped
// orphan token), and the floor any audited design keeps around them
// (auditedFloor). make bench reports the ratios.
func BenchmarkApproveToCredential(b *testing.B) {
	ctx := context.Background()
	w, _ := approvedRequest(b, "tenant-bench")
	var resID string
	if err := w.pool.QueryRow(ctx, "SELECT id::text FROM resources").Scan(&resID); err != nil {
		b.Fatal(err)
	}
	svc := &access.Service{Store: w.store, Vault: w.vault, Now: time.Now}
	final := approvals.Person{Subject: "a2", Roles: []tenants.Role{tenants.RoleApprover}}
	holder := func(i int) access.Holder {
		return access.Holder{TenantID: w.tenant, TenantSlug: "acme", Person: approvals.Person{Subject: fmt.Sprintf("req-%d", i)}}
	}
	n := 0
	b.Run("gatehouse-inline", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			n++
			req := pendingWithOneVote(b, w, resID, n)
			b.StartTimer()
			if _, err := w.store.Decide(ctx, w.tenant, req, final, true, "", 0, audit.Meta{}); err != nil {
				b.Fatal(err)
			}
			if !svc.IssueApproved(ctx, req) { // what the decide handler does after the last approval
				b.Fatal("the approved request was not issued at once")
			}
			if _, err := svc.TakeToken(ctx, holder(n), req, audit.Meta{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gatehouse-via-river", func(b *testing.B) {
		startWorkers(b, w, w.vault, time.Now)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			n++
			req := pendingWithOneVote(b, w, resID, n)
			b.StartTimer()
			if _, err := w.store.Decide(ctx, w.tenant, req, final, true, "", 0, audit.Meta{}); err != nil {
				b.Fatal(err)
			}
			for {
				var state string
				if err := w.pool.QueryRow(ctx, "SELECT state FROM requests WHERE id::text = $1", req).Scan(&state); err != nil {
					b.Fatal(err)
				}
				if state == "active" {
					break
				}
				time.Sleep(500 * time.Microsecond)
			}
			if _, err := svc.TakeToken(ctx, holder(n), req, audit.Meta{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-vault", func(b *testing.B) {
		raw := rawVaultCredential(b, "tenant-bench", "jit")
		for i := 0; i < b.N; i++ {
			raw(i)
		}
	})
	b.Run("floor", func(b *testing.B) {
		floor := auditedFloor(b, w, "tenant-bench")
		for i := 0; i < b.N; i++ {
			floor(i)
		}
	})
}

// rawVaultCredential is the raw Vault work of one credential on mount, for
// the baselines: policy write + response-wrapped orphan token create; the
// policies are named after name and i.
func rawVaultCredential(b *testing.B, mount, name string) func(i int) {
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	raw, err := vaultapi.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	raw.SetToken(stack.Vault.RootToken)
	raw.SetWrappingLookupFunc(func(_, path string) string {
		if path == "auth/token/create-orphan" {
			return "10m"
		}
		return ""
	})
	f := false
	return func(i int) {
		policy := fmt.Sprintf("bench-raw-%s-%d", name, i)
		if err := raw.Sys().PutPolicy(policy, `path "`+mount+`/data/db/orders" { capabilities = ["read"] }`); err != nil {
			b.Fatal(err)
		}
		if _, err := raw.Auth().Token().CreateOrphan(&vaultapi.TokenCreateRequest{
			Policies: []string{policy}, NoDefaultPolicy: true, Renewable: &f, TTL: "10m", ExplicitMaxTTL: "10m",
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// auditedFloor is a lower bound for one credential under Gatehouse's
// invariants, not a design: the raw Vault work (rawVaultCredential) between
// two audited writes, the least any design keeps — the decision (or the
// emergency) recorded with its audit event before anything is minted, and
// the minted token's accessor recorded with its own after. Each write here
// is a bare audit event in its own transaction (RecordEvent), without the
// state, checks and jobs a real step carries.
func auditedFloor(b *testing.B, w world, mount string) func(i int) {
	raw := rawVaultCredential(b, mount, mount+"-floor")
	ids := postgres.NewIdentityStore(w.pool, time.Now)
	record := func(action string, i int) {
		if err := ids.RecordEvent(context.Background(), audit.Event{TenantID: w.tenant, Actor: "bench", Action: action,
			Target: strconv.Itoa(i), Outcome: audit.Success}); err != nil {
			b.Fatal(err)
		}
	}
	return func(i int) {
		record("bench.decided", i)
		raw(i)
		record("bench.token_handed_over", i)
	}
}

// BenchmarkBreakGlassToCredential measures, on the same PostgreSQL and
// Vault in one run: "Break glass now" (after the re-authentication) through
// to the responder's wrapped token — rules and limits checked under the
// tenant lock, the grant, review, urgent notices, backstop job and audit
// event in one transaction, the policy write, the active-grant transaction,
// then the token minted and handed over — against the raw Vault calls for
// the same credential, and against the audited floor (auditedFloor). The
// raw-vault-a/-b runs bracket the Gatehouse and floor runs.
func BenchmarkBreakGlassToCredential(b *testing.B) {
	ctx := context.Background()
	w, res, svc := breakGlassWorld(b, "tenant-bench-bg", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	raw := rawVaultCredential(b, "tenant-bench-bg", "bg")
	n := 0
	b.Run("raw-vault-a", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n++
			raw(n)
		}
	})
	b.Run("gatehouse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
			if err != nil || !em.Issued {
				b.Fatalf("%+v %v", em, err)
			}
			if _, err := svc.TakeToken(ctx, holderOf(w, responderP), em.RequestID, audit.Meta{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer() // end it, so the responder's limit of one lets the next through
			if err := svc.Relinquish(ctx, holderOf(w, responderP), em.RequestID); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	b.Run("floor", func(b *testing.B) {
		floor := auditedFloor(b, w, "tenant-bench-bg")
		for i := 0; i < b.N; i++ {
			n++
			floor(n)
		}
	})
	b.Run("raw-vault-b", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n++
			raw(n)
		}
	})
}

// benchGrants is how many grants the revocation benchmark revokes
// (GATEHOUSE_BENCH_GRANTS, default 10,000).
func benchGrants() int {
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_GRANTS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// parallel runs fn(i) for i in [0, n) with jobs.RevokeConcurrency workers.
func parallel(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, jobs.RevokeConcurrency)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchmarkRevokeTenant revokes N active grants of one tenant (a freeze)
// and verifies each dead, against a raw loop of revoke-accessor + lookup
// over the same Vault with the same concurrency, in one run: the raw loop
// runs over N tokens before the Gatehouse run and N others after, and the
// ratio is against the mean of the two (Vault's speed drifts as it fills).
// Between them, the floor loop does over N more tokens exactly the Vault
// work the issue asks of each grant (revoke, delete the policy, look the
// token up): floor-ratio is that floor against the same raw mean. The
// freeze itself sweeps the tenant mount's tokens with one call while it
// deletes the policies, then looks each token up (see RunRevocation). Grants
// are seeded straight into PostgreSQL and Vault (real policies and tokens,
// the grants' minted through their mount's role as Gatehouse mints them).
// Run it once: -benchtime 1x.
func BenchmarkRevokeTenant(b *testing.B) {
	ctx := context.Background()
	n := benchGrants()
	w, res := newWorld(b, "tenant-bench-rv", time.Now)
	var ids []string
	rows, err := w.pool.Query(ctx, `
		INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
		                      justification, state, policy, submitted_at, updated_at)
		SELECT $1, $2, 'bench-' || g, 'bench-' || g || '@acme.test', '{}'::jsonb, 'read', 3600, 'bench', 'active', r.policy, now(), now()
		FROM generate_series(1, $3) g, resources r WHERE r.id = $2
		RETURNING id::text`, w.tenant, res, n)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	// The baselines' tokens are minted on another mount, whose tokens the
	// freeze's sweep of tenant-bench-rv leaves alone.
	mint := func(grantID, mount string) (string, error) {
		spec := vault.GrantSpec{GrantID: grantID, Tenant: "acme", Subject: "bench", Mount: mount, Path: "db/orders", TTL: time.Hour}
		if err := w.vault.WriteGrantPolicy(ctx, spec); err != nil {
			return "", err
		}
		issued, err := w.vault.MintGrantToken(ctx, spec, time.Minute)
		return issued.Accessor, err
	}
	if err := parallel(n, func(i int) error {
		acc, err := mint(ids[i], "tenant-bench-rv")
		if err != nil {
			return err
		}
		_, err = w.pool.Exec(ctx, "INSERT INTO grants (request_id, tenant_id, accessor, issued_at, expires_at) VALUES ($1, $2, $3, now(), now() + interval '1 hour')",
			ids[i], w.tenant, acc)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	raw := make([]string, 3*n) // a third each for the raw loop before the Gatehouse run, the floor, the raw loop after
	if err := parallel(3*n, func(i int) error {
		var err error
		raw[i], err = mint(fmt.Sprintf("bench-raw-rv-%d", i), "tenant-bench-raw")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	rc, err := vaultapi.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rc.SetToken(stack.Vault.RootToken)
	rawLoop := func(accessors []string) time.Duration {
		start := time.Now()
		if err := parallel(len(accessors), func(i int) error {
			if err := rc.Auth().Token().RevokeAccessor(accessors[i]); err != nil {
				return err
			}
			if _, err := rc.Auth().Token().LookupAccessor(accessors[i]); err == nil {
				return fmt.Errorf("token %d still alive", i)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	// floorLoop is the Vault work the issue asks of each grant, and no more:
	// revoke the token, delete the policy, look the token up (dead).
	floorLoop := func(from int) time.Duration {
		start := time.Now()
		if err := parallel(n, func(i int) error {
			if err := rc.Auth().Token().RevokeAccessor(raw[from+i]); err != nil {
				return err
			}
			if err := rc.Sys().DeletePolicy(vault.PolicyName(fmt.Sprintf("bench-raw-rv-%d", from+i))); err != nil {
				return err
			}
			if _, err := rc.Auth().Token().LookupAccessor(raw[from+i]); err == nil {
				return fmt.Errorf("token %d still alive", from+i)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}

	b.ResetTimer()
	rawBefore := rawLoop(raw[:n])
	start := time.Now()
	id, err := w.store.StartRevocation(ctx, approvals.Scope{Kind: approvals.ScopeTenant, Value: "acme"}, approvals.Viewer{Operator: true},
		"benchmark freeze", "bench", false, audit.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	if err := jobs.RunRevocation(ctx, w.store, w.store, w.vault, jobs.RevokeConcurrency, id); err != nil {
		b.Fatal(err)
	}
	gatehouse := time.Since(start)
	floor := floorLoop(n)
	rawAfter := rawLoop(raw[2*n:])
	rawTime := (rawBefore + rawAfter) / 2
	b.StopTimer()
	var verified int
	if err := w.pool.QueryRow(ctx, "SELECT count(*) FROM revocation_items WHERE state = 'verified'").Scan(&verified); err != nil || verified != n {
		b.Fatalf("%d of %d verified dead (%v)", verified, n, err)
	}
	b.ReportMetric(gatehouse.Seconds(), "gatehouse-s")
	b.ReportMetric(rawTime.Seconds(), "raw-s")
	b.ReportMetric(rawBefore.Seconds(), "raw-before-s")
	b.ReportMetric(rawAfter.Seconds(), "raw-after-s")
	b.ReportMetric(gatehouse.Seconds()/rawTime.Seconds(), "ratio")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(floor.Seconds()/rawTime.Seconds(), "floor-ratio")
	b.ReportMetric(float64(n), "grants")
}
