package jobs_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
)

var operator = approvals.Viewer{Operator: true}

// jitGrant makes an active grant of acme's Orders DB for the acme member
// who (submitted, approved twice, issued) and returns its request ID.
func (sw shareWorld) jitGrant(t testing.TB, who string) string {
	t.Helper()
	req := sw.pendingFinal(t, who)
	sw.approveAndIssue(t, req)
	return req
}

// pendingFinal submits who's request and records its first approval.
func (sw shareWorld) pendingFinal(t testing.TB, who string) string {
	t.Helper()
	ctx := context.Background()
	p := sw.p(who)
	p.Roles = []tenants.Role{tenants.RoleRequester}
	req, err := sw.store.Submit(ctx, sw.tenant, sw.res, p, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.store.Decide(ctx, sw.tenant, req, sw.p("acme/approver1"), true, "", 0, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	return req
}

// approveAndIssue records the final approval and runs the issue job's work
// (errors are the caller's to expect: a blocked scope refuses).
func (sw shareWorld) approveAndIssue(t testing.TB, req string) error {
	ctx := context.Background()
	if _, err := sw.store.Decide(ctx, sw.tenant, req, sw.p("acme/approver2"), true, "", 0, audit.Meta{}); err != nil {
		return err
	}
	issue := &jobs.IssueGrantWorker{Store: sw.store, Vault: sw.svc.Vault, Now: time.Now}
	return issue.Work(ctx, &river.Job[jobs.IssueGrantArgs]{Args: jobs.IssueGrantArgs{RequestID: req}, JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 25}})
}

func (sw shareWorld) state(t testing.TB, req string) approvals.State {
	t.Helper()
	var s string
	if err := sw.pool.QueryRow(context.Background(), "SELECT state FROM requests WHERE id::text = $1", req).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return approvals.State(s)
}

func (sw shareWorld) revoke(t testing.TB, raw string, rotate bool) string {
	t.Helper()
	sc, err := approvals.ParseScope(raw)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sw.store.StartRevocation(context.Background(), sc, operator, "leaked credential in CI logs", "operator@gatehouse.test", rotate, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEachScopeRevokesItsGrantsVerifiedDeadAndBlocksNewAccess(t *testing.T) {
	for i, tc := range []struct {
		scope   func(sw shareWorld, share, acmeGrant string) string
		revoked []string // of "acme", "globex": whose grant ends
		retry   func(sw shareWorld, share string) error
	}{
		{func(_ shareWorld, _, g string) string { return "grant:" + g }, []string{"acme"}, nil},
		{func(shareWorld, string, string) string { return "user:requester@globex.test" }, []string{"globex"},
			func(sw shareWorld, share string) error {
				_, err := sw.svc.RequestShared(context.Background(), sw.holder("globex/requester"), share, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
				return err
			}},
		{func(sw shareWorld, _, _ string) string { return "resource:" + sw.res }, []string{"acme", "globex"},
			func(sw shareWorld, _ string) error {
				_, err := sw.store.Submit(context.Background(), sw.tenant, sw.res, sw.p("acme/approver1"), approvals.Submission{Level: approvals.Read}, audit.Meta{})
				return err
			}},
		{func(_ shareWorld, s, _ string) string { return "share:" + s }, []string{"globex"}, nil},
		{func(shareWorld, string, string) string { return "tenant:globex" }, []string{"globex"}, nil},
		{func(shareWorld, string, string) string { return "idp:acme" }, []string{"acme"},
			func(sw shareWorld, _ string) error {
				_, err := sw.store.Submit(context.Background(), sw.tenant, sw.res, sw.p("acme/admin"), approvals.Submission{Level: approvals.Read}, audit.Meta{})
				return err
			}},
		{func(shareWorld, string, string) string { return "tenant:acme" }, []string{"acme", "globex"}, nil},
	} {
		sw := newShareWorld(t, fmt.Sprintf("tenant-rv%d", i), time.Now)
		ctx := context.Background()
		share := sw.activeShare(t, sw.terms(approvals.PreApproved, time.Now()))
		grants := map[string]string{"acme": sw.jitGrant(t, "acme/requester")}
		var err error
		if grants["globex"], err = sw.svc.RequestShared(ctx, sw.holder("globex/requester"), share, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{}); err != nil {
			t.Fatal(err)
		}
		tokens := map[string]*vaultapi.Client{"acme": sw.tokenOf(t, "acme/requester", grants["acme"]), "globex": sw.tokenOf(t, "globex/requester", grants["globex"])}
		scope := tc.scope(sw, share, grants["acme"])
		id := sw.revoke(t, scope, strings.HasPrefix(scope, "resource:"))
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
			t.Fatalf("%s: %v", scope, err)
		}
		for side, req := range grants {
			want := approvals.Active
			if slices.Contains(tc.revoked, side) {
				want = approvals.Revoked
			}
			if got := sw.state(t, req); got != want {
				t.Errorf("%s: %s's grant is %s, want %s", scope, side, got, want)
			}
			_, readErr := tokens[side].KVv2(sw.mount).Get(ctx, "db/orders")
			if (want == approvals.Revoked) != (readErr != nil) {
				t.Errorf("%s: %s's token reads: %v", scope, side, readErr == nil)
			}
		}
		r, err := sw.store.Revocation(ctx, id, operator)
		if err != nil || !r.Completed || r.Progress.Verified != len(tc.revoked) || r.Progress.Percent() != 100 {
			t.Fatalf("%s: revocation %+v %v", scope, r.Progress, err)
		}
		if strings.HasPrefix(scope, "resource:") && (len(r.Rotated) != 1 || !strings.HasSuffix(r.Rotated[0], "@2")) {
			t.Errorf("%s: rotated %v", scope, r.Rotated)
		}
		if tc.retry != nil {
			if err := tc.retry(sw, share); !errors.Is(err, approvals.ErrBlocked) {
				t.Errorf("%s: new access in the scope: %v", scope, err)
			}
		}
		// A second run changes nothing.
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
			t.Fatalf("%s: second run: %v", scope, err)
		}
	}
}

func TestRevocationIsRefusedOutsideTheViewersTenant(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv9", time.Now)
	ctx := context.Background()
	acmeAdmin := approvals.Viewer{TenantID: sw.tenant}
	for _, raw := range []string{"tenant:globex", "idp:initech", "user:admin@globex.test", "resource:00000000-0000-4000-8000-000000000000", "tenant:nowhere"} {
		sc, err := approvals.ParseScope(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sw.store.StartRevocation(ctx, sc, acmeAdmin, "reason enough", "admin@acme.test", false, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("%s by acme's admin: %v", raw, err)
		}
	}
	var n int
	if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM revocations").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d revocations recorded by refused attempts", n)
	}
	if _, err := sw.store.StartRevocation(ctx, approvals.Scope{Kind: approvals.ScopeTenant, Value: "acme"}, acmeAdmin, "reason enough", "admin@acme.test", false, audit.Meta{}); err != nil {
		t.Fatalf("acme's admin freezing acme: %v", err)
	}
}

// TestATenantAdminRevokesAPersonInTheirOwnOrganizationOnly: a person who
// belongs to acme and globex, revoked by acme's admin, loses acme's access
// (sessions, grants on acme's secrets, sign-in) and keeps globex's; globex
// cannot see or lift acme's revocation. An operator's revocation of the
// same person covers both organizations.
func TestATenantAdminRevokesAPersonInTheirOwnOrganizationOnly(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv23", time.Now)
	ctx := context.Background()
	const email = "requester@globex.test"
	if _, err := sw.pool.Exec(ctx, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
		VALUES ($1, 'acme-contractor', $2, 'Contractor', '{}', ARRAY['requester'], now(), now())`, sw.tenant, email); err != nil {
		t.Fatal(err)
	}
	share := sw.activeShare(t, sw.terms(approvals.PreApproved, time.Now()))
	onAcme, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), share, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil || sw.state(t, onAcme) != approvals.Active {
		t.Fatalf("shared grant: %v", err)
	}
	var onGlobex string // an active grant on a secret of globex's own
	if err := sw.pool.QueryRow(ctx, `WITH res AS (
			INSERT INTO resources (tenant_id, name, classification, store_kind, mount, path, policy, created_by)
			VALUES ($1, 'Globex ledger', 'high', 'vault-kv2', 'tenant-globex', 'ledger', '{}', 'test') RETURNING id),
		req AS (
			INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
			                      justification, state, policy, submitted_at, updated_at)
			SELECT $1, res.id, 'globex-requester', $2, '{}', 'read', 3600, 'month end', 'active', '{}', now(), now() FROM res RETURNING id)
		INSERT INTO grants (request_id, tenant_id, issued_at, expires_at) SELECT id, $1, now(), now() + interval '1 hour' FROM req
		RETURNING request_id::text`, sw.globex, email).Scan(&onGlobex); err != nil {
		t.Fatal(err)
	}
	ids := postgres.NewIdentityStore(sw.pool, time.Now)
	signInAt := func(tenant, subject string, lastSeen time.Time) error {
		now := time.Now()
		hash := make([]byte, 32)
		_, _ = rand.Read(hash)
		return ids.CreateSession(ctx, hash, identity.Session{Identity: identity.Identity{TenantID: tenant, Subject: subject, Email: email,
			Roles: []tenants.Role{tenants.RoleRequester}, AuthTime: now}, CreatedAt: lastSeen, LastSeen: lastSeen, ExpiresAt: now.Add(time.Hour)},
			audit.Meta{}, audit.Event{TenantID: tenant, Actor: email, Action: "login.succeeded", Outcome: audit.Success})
	}
	signIn := func(tenant, subject string) error { return signInAt(tenant, subject, time.Now()) }
	// Sessions count as active in the window Resume applies: here, seen in
	// the last 30 minutes.
	window := func() tenants.SessionWindow {
		now := time.Now()
		return tenants.SessionWindow{Now: now, IdleSince: now.Add(-30 * time.Minute)}
	}
	sessionsIn := func(tenant string) int {
		var n int
		if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE email = $1 AND tenant_id::text = $2", email, tenant).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := signIn(sw.tenant, "acme-contractor"); err != nil {
		t.Fatal(err)
	}
	if err := signIn(sw.globex, "globex-requester"); err != nil {
		t.Fatal(err)
	}
	// An idle session in acme, ended but not yet swept: not counted as
	// open, and still deleted by the revocation.
	if err := signInAt(sw.tenant, "acme-contractor", time.Now().Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}

	acmeAdmin, globexAdmin := approvals.Viewer{TenantID: sw.tenant}, approvals.Viewer{TenantID: sw.globex}
	sc := approvals.Scope{Kind: approvals.ScopeUser, Value: email}
	im, err := sw.store.RevocationImpact(ctx, sc, acmeAdmin, window())
	if err != nil || im.Sessions != 1 || im.Grants != 1 {
		t.Fatalf("acme's preview: %+v %v; want acme's one active session and one grant", im, err)
	}
	if im, err := sw.store.RevocationImpact(ctx, sc, operator, window()); err != nil || im.Sessions != 2 || im.Grants != 2 {
		t.Fatalf("the operator's preview: %+v %v; want both organizations' active sessions and grants", im, err)
	}
	id, err := sw.store.StartRevocation(ctx, sc, acmeAdmin, "contractor laptop stolen", "admin@acme.test", false, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
		t.Fatal(err)
	}
	if sw.state(t, onAcme) != approvals.Revoked || sw.state(t, onGlobex) != approvals.Active {
		t.Fatalf("after acme's revocation: the grant on acme's secret is %s, on globex's %s; want revoked, active",
			sw.state(t, onAcme), sw.state(t, onGlobex))
	}
	if sessionsIn(sw.tenant) != 0 || sessionsIn(sw.globex) != 1 {
		t.Fatalf("sessions left: acme %d, globex %d; want 0, 1", sessionsIn(sw.tenant), sessionsIn(sw.globex))
	}
	if err := signIn(sw.tenant, "acme-contractor"); apperr.CodeOf(err) != apperr.Forbidden || sessionsIn(sw.tenant) != 0 {
		t.Fatalf("signing in to acme again: %v", err)
	}
	if err := signIn(sw.globex, "globex-requester"); err != nil {
		t.Fatalf("signing in to globex: %v", err)
	}
	if _, err := sw.store.Revocation(ctx, id, globexAdmin); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("globex's admin reading acme's revocation: %v", err)
	}
	if err := sw.store.LiftRevocation(ctx, id, globexAdmin, "admin@globex.test", audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("globex's admin lifting acme's revocation: %v", err)
	}
	if list, err := sw.store.Revocations(ctx, acmeAdmin, paging.First(100)); err != nil || len(list.Rows) != 1 || list.Rows[0].ID != id {
		t.Fatalf("acme's list: %v %v", list, err)
	}

	global, err := sw.store.StartRevocation(ctx, sc, operator, "account takeover", "operator@gatehouse.test", false, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, global); err != nil {
		t.Fatal(err)
	}
	if sw.state(t, onGlobex) != approvals.Revoked || sessionsIn(sw.globex) != 0 {
		t.Fatalf("after the operator's revocation: globex's grant is %s, %d sessions left", sw.state(t, onGlobex), sessionsIn(sw.globex))
	}
	if err := signIn(sw.globex, "globex-requester"); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("signing in to globex after the operator's revocation: %v", err)
	}
	for _, v := range []approvals.Viewer{acmeAdmin, globexAdmin} {
		if _, err := sw.store.Revocation(ctx, global, v); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a tenant admin reading the operator's revocation of a person in every organization: %v", err)
		}
	}
}

// revokedWhileReading starts a revocation of the grant right after Vault
// has read its secret for a reveal, as an operator racing the reveal would.
type revokedWhileReading struct {
	access.Vault
	revoke func()
}

func (r revokedWhileReading) RevealWithGrant(ctx context.Context, g vault.GrantSpec, path string) (map[string]any, error) {
	data, err := r.Vault.RevealWithGrant(ctx, g, path)
	r.revoke()
	return data, err
}

func TestARevealRacingARevocationShowsNothing(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv24", time.Now)
	ctx := context.Background()
	req := sw.jitGrant(t, "acme/requester")
	racing := revokedWhileReading{Vault: sw.svc.Vault, revoke: func() { sw.revoke(t, "grant:"+req, false) }}
	svc := &access.Service{Store: sw.store, Vault: racing, Now: time.Now}
	data, err := svc.Reveal(ctx, sw.holder("acme/requester"), req, audit.Meta{})
	if !errors.Is(err, approvals.ErrBlocked) || data != nil {
		t.Fatalf("a reveal the block overtook: %v, value shown: %v", err, data != nil)
	}
	var revealed int
	if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'grant.revealed'").Scan(&revealed); err != nil || revealed != 0 {
		t.Fatalf("%d reveals audited (%v)", revealed, err)
	}
	// The same reveal with no revocation racing it shows the value, audited.
	other := sw.jitGrant(t, "acme/admin")
	if data, err := sw.svc.Reveal(ctx, sw.holder("acme/admin"), other, audit.Meta{}); err != nil || data == nil {
		t.Fatalf("an ordinary reveal: %v", err)
	}
	if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'grant.revealed'").Scan(&revealed); err != nil || revealed != 1 {
		t.Fatalf("%d reveals audited (%v)", revealed, err)
	}
}

// TestAnItemVerifiedDeadStaysVerified: two runs of one revocation (the CLI
// beside a worker) may both work an item; one's later failure does not undo
// the other's verification.
func TestAnItemVerifiedDeadStaysVerified(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv25", time.Now)
	ctx := context.Background()
	req := sw.jitGrant(t, "acme/requester")
	id := sw.revoke(t, "grant:"+req, false)
	if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
		t.Fatal(err)
	}
	if err := sw.store.RecordRevocationItem(ctx, id, req, "Vault is unreachable"); err != nil {
		t.Fatal(err)
	}
	r, err := sw.store.Revocation(ctx, id, operator)
	if err != nil || r.Progress.Verified != 1 || r.Progress.Failed != 0 || r.Items[0].LastError != "" {
		t.Fatalf("after a late failure: %+v %+v %v", r.Progress, r.Items, err)
	}
}

// TestARevocationKeepsRetryingForADay: a Vault outage of hours must not
// exhaust the revocation job's attempts (River would then drop it, leaving
// the revocation running until a restart).
func TestARevocationKeepsRetryingForADay(t *testing.T) {
	w := &jobs.RevokeScopeWorker{}
	opts := jobs.RevokeScopeArgs{}.InsertOpts()
	start := time.Now()
	at := start
	for attempt := 1; attempt < opts.MaxAttempts; attempt++ {
		next := w.NextRetry(&river.Job[jobs.RevokeScopeArgs]{JobRow: &rivertype.JobRow{Attempt: attempt}})
		at = at.Add(next.Sub(time.Now()))
	}
	if span := at.Sub(start); span < 23*time.Hour {
		t.Fatalf("%d attempts span %s; want about a day", opts.MaxAttempts, span.Round(time.Minute))
	}
}

// flakyVault fails revocations while down, and stops the run (as a killed
// worker would) after a number of revocations when limit > 0.
type flakyVault struct {
	jobs.GrantVault
	down   atomic.Bool
	limit  int64
	count  atomic.Int64
	cancel context.CancelFunc
}

func (f *flakyVault) RevokeGrant(ctx context.Context, grantID, accessor string) error {
	if f.down.Load() {
		return errors.New("dial tcp 127.0.0.1:8200: connect: connection refused")
	}
	if f.limit > 0 && f.count.Add(1) > f.limit {
		f.cancel()
		return context.Canceled
	}
	return f.GrantVault.RevokeGrant(ctx, grantID, accessor)
}

// policyKeeper revokes the token of grant keep but leaves its policy in
// place, as a delete Vault acknowledged and lost would; other grants it
// revokes in full.
type policyKeeper struct {
	jobs.GrantVault
	keep string
}

func (p *policyKeeper) RevokeGrant(ctx context.Context, grantID, accessor string) error {
	if grantID != p.keep {
		return p.GrantVault.RevokeGrant(ctx, grantID, accessor)
	}
	if accessor == "" {
		return nil // a policy delete alone (a freeze's sweep ends the token)
	}
	return p.GrantVault.(*vault.Client).RevokeToken(ctx, accessor)
}

// listingDown cannot list Vault's policies.
type listingDown struct{ jobs.GrantVault }

func (listingDown) LiveGrantPolicies(context.Context, []string) ([]string, error) {
	return nil, errors.New("listing the policies: Error making API request. Code: 503. Errors: * Vault is sealed")
}

// scope is the revocation scope of kind "resource" (the world's resource)
// or "tenant" (a freeze of acme).
func (sw shareWorld) scope(kind string) string {
	if kind == "tenant" {
		return "tenant:acme"
	}
	return "resource:" + sw.res
}

// When the policies cannot be listed, nothing of the batch counts as
// verified dead: each grant is recorded as failed with the reason and stays
// active, and the run fails; the next run, listing again, completes. So it
// goes for a resource's grants (listed per batch) and for a freeze's (listed
// once while the mount is swept).
func TestABatchWhosePoliciesCannotBeListedIsNotVerifiedDead(t *testing.T) {
	for i, scope := range []string{"resource", "tenant"} {
		sw := newShareWorld(t, fmt.Sprintf("tenant-rv%d", 15+5*i), time.Now)
		ctx := context.Background()
		reqs := []string{sw.jitGrant(t, "acme/requester"), sw.jitGrant(t, "acme/admin")}
		id := sw.revoke(t, sw.scope(scope), false)
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, listingDown{sw.svc.Vault}, jobs.RevokeConcurrency, id); err == nil ||
			!strings.Contains(err.Error(), "2 of 2 grants not yet verified dead") {
			t.Fatalf("%s: a run that could not list the policies: %v", scope, err)
		}
		r, err := sw.store.Revocation(ctx, id, operator)
		if err != nil || r.Completed || r.Progress.Failed != 2 || r.Progress.Verified != 0 {
			t.Fatalf("%s: progress: %+v %v", scope, r.Progress, err)
		}
		for _, it := range r.Items {
			if !strings.Contains(it.LastError, "verifying its policy deleted") || !strings.Contains(it.LastError, "Vault is sealed") {
				t.Fatalf("%s: item: %+v", scope, it)
			}
		}
		for _, req := range reqs {
			if s := sw.state(t, req); s != approvals.Active {
				t.Fatalf("%s: grant %s is %s before its policy was verified gone", scope, req, s)
			}
		}
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
			t.Fatal(err)
		}
		for _, req := range reqs {
			if s := sw.state(t, req); s != approvals.Revoked {
				t.Fatalf("%s: grant %s is %s after the second run", scope, req, s)
			}
		}
	}
}

// inFlight counts the grants being revoked at once, keeping each call a
// little longer so that every allowed slot fills.
type inFlight struct {
	jobs.GrantVault
	now, most atomic.Int64
}

func (f *inFlight) RevokeGrant(ctx context.Context, grantID, accessor string) error {
	n := f.now.Add(1)
	defer f.now.Add(-1)
	for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
	}
	time.Sleep(20 * time.Millisecond)
	return f.GrantVault.RevokeGrant(ctx, grantID, accessor)
}

// A revocation ends exactly as many grants at once as it is configured to.
func TestARevocationEndsAsManyGrantsAtOnceAsConfigured(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv14", time.Now)
	ctx := context.Background()
	var reqs []string
	for i := range 7 { // one open grant per person and resource: seven people
		p := approvals.Person{Tenant: sw.tenant, Subject: fmt.Sprintf("acme-holder%d", i), Email: fmt.Sprintf("holder%d@acme.test", i),
			Name: "Holder", Roles: []tenants.Role{tenants.RoleRequester}}
		if _, err := sw.pool.Exec(ctx, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
			VALUES ($1, $2, $3, 'Holder', '{}', '{requester}', now(), now())`, sw.tenant, p.Subject, p.Email); err != nil {
			t.Fatal(err)
		}
		sw.people[fmt.Sprintf("acme/holder%d", i)] = p
		reqs = append(reqs, sw.jitGrant(t, fmt.Sprintf("acme/holder%d", i)))
	}
	id := sw.revoke(t, "resource:"+sw.res, false)
	v := &inFlight{GrantVault: sw.svc.Vault}
	if err := jobs.RunRevocation(ctx, sw.store, sw.store, v, 3, id); err != nil {
		t.Fatal(err)
	}
	if most := v.most.Load(); most != 3 {
		t.Fatalf("%d grants were revoked at once, want 3", most)
	}
	for _, req := range reqs {
		if s := sw.state(t, req); s != approvals.Revoked {
			t.Fatalf("grant %s is %s", req, s)
		}
	}
}

// A revocation verifies each grant's policy gone, not only its token: a
// grant whose policy survives is recorded as failed, stays active, and the
// run fails, until a later run deletes it. So it goes for a resource's
// grants (listed per batch) and for a freeze's (listed once while the
// mount is swept, then cut on its own and listed again).
func TestAGrantWhosePolicySurvivesIsNotVerifiedDead(t *testing.T) {
	for i, scope := range []string{"resource", "tenant"} {
		sw := newShareWorld(t, fmt.Sprintf("tenant-rv%d", 13+8*i), time.Now)
		ctx := context.Background()
		kept, other := sw.jitGrant(t, "acme/requester"), sw.jitGrant(t, "acme/admin")
		token := sw.tokenOf(t, "acme/requester", kept)
		id := sw.revoke(t, sw.scope(scope), false)

		err := jobs.RunRevocation(ctx, sw.store, sw.store, &policyKeeper{GrantVault: sw.svc.Vault, keep: kept}, jobs.RevokeConcurrency, id)
		if err == nil || !strings.Contains(err.Error(), "1 of 2 grants not yet verified dead") {
			t.Fatalf("%s: a run leaving a policy behind: %v", scope, err)
		}
		if _, err := token.Auth().Token().LookupSelf(); err == nil {
			t.Fatalf("%s: the kept grant's token is still alive", scope)
		}
		r, err := sw.store.Revocation(ctx, id, operator)
		if err != nil || r.Completed || r.Progress.Failed != 1 || r.Progress.Verified != 1 {
			t.Fatalf("%s: progress: %+v %v", scope, r.Progress, err)
		}
		for _, it := range r.Items {
			if it.RequestID == kept && (it.State != "failed" || !strings.Contains(it.LastError, "its policy still exists")) {
				t.Fatalf("%s: the kept grant's item: %+v", scope, it)
			}
		}
		if s := sw.state(t, kept); s != approvals.Active {
			t.Fatalf("%s: the grant whose policy survived is %s", scope, s)
		}
		if s := sw.state(t, other); s != approvals.Revoked {
			t.Fatalf("%s: the other grant is %s", scope, s)
		}

		if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
			t.Fatal(err)
		}
		if r, err := sw.store.Revocation(ctx, id, operator); err != nil || !r.Completed || r.Progress.Verified != 2 {
			t.Fatalf("%s: after the second run: %+v %v", scope, r.Progress, err)
		}
		for _, req := range []string{kept, other} {
			if s := sw.state(t, req); s != approvals.Revoked {
				t.Fatalf("%s: grant %s is %s", scope, req, s)
			}
			if err := sw.svc.Vault.VerifyGrantDead(ctx, req, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestRevocationSurvivesVaultDownAndACrashAndNotifiesBothSides(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv10", time.Now)
	ctx := context.Background()
	share := sw.activeShare(t, sw.terms(approvals.PreApproved, time.Now()))
	var reqs []string
	for _, who := range []string{"acme/requester", "acme/admin"} {
		reqs = append(reqs, sw.jitGrant(t, who))
	}
	shared, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), share, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	reqs = append(reqs, shared)
	id := sw.revoke(t, "resource:"+sw.res, false)

	// Vault is down: the run fails, and the progress says which and why.
	fv := &flakyVault{GrantVault: sw.svc.Vault}
	fv.down.Store(true)
	if err := jobs.RunRevocation(ctx, sw.store, sw.store, fv, jobs.RevokeConcurrency, id); err == nil {
		t.Fatal("a run with Vault down reported success")
	}
	r, err := sw.store.Revocation(ctx, id, operator)
	if err != nil || r.Progress.Failed != len(reqs) || !strings.Contains(r.Items[0].LastError, "connection refused") || r.Completed {
		t.Fatalf("progress with Vault down: %+v %v", r.Progress, err)
	}
	// Vault is back, but the worker is killed after two grants.
	fv.down.Store(false)
	runCtx, cancel := context.WithCancel(ctx)
	fv.limit, fv.cancel = 1, cancel
	if err := jobs.RunRevocation(runCtx, sw.store, sw.store, fv, jobs.RevokeConcurrency, id); err == nil {
		t.Fatal("an interrupted run reported success")
	}
	if r, _ := sw.store.Revocation(ctx, id, operator); r.Completed || r.Progress.Verified == len(reqs) {
		t.Fatalf("the interruption did not interrupt: %+v", r.Progress)
	}
	// Gatehouse restarts: the unfinished revocation resumes and completes.
	c := startWorkers(t, sw.world, sw.svc.Vault, time.Now)
	if err := jobs.ResumeRevocations(ctx, sw.store, c); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := sw.store.Revocation(ctx, id, operator)
		if err != nil {
			t.Fatal(err)
		}
		if r.Completed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not completed after restart: %+v", r.Progress)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, req := range reqs {
		if s := sw.state(t, req); s != approvals.Revoked {
			t.Fatalf("grant %s is %s", req, s)
		}
		if err := sw.svc.Vault.VerifyGrantDead(ctx, req, ""); err != nil {
			t.Fatalf("grant %s: %v", req, err)
		}
	}
	// Both organizations of the share are told, and every holder is
	// delivered their "access ended" notice (enqueued in bulk at completion).
	var told, ended []string
	deadline = time.Now().Add(10 * time.Second)
	for !(slices.Contains(told, "admin@acme.test") && slices.Contains(told, "admin@globex.test") &&
		slices.Contains(ended, "requester@acme.test") && slices.Contains(ended, "admin@acme.test") && slices.Contains(ended, "requester@globex.test")) {
		told, ended = nil, nil
		for _, m := range sw.smtp.Messages() {
			if strings.Contains(m.Data, "Emergency revocation") {
				told = append(told, m.To...)
			}
			if strings.Contains(m.Data, "revoked in an emergency revocation") {
				ended = append(ended, m.To...)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("revocation notices went to %v, access-ended notices to %v", told, ended)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rep, err := postgres.VerifyAudit(ctx, sw.pool, ""); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit chains: %+v %v", rep, err)
	}
}

func TestNoGrantIsIssuedInsideAScopeAfterItsBlock(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv11", time.Now)
	ctx := context.Background()
	var reqs []string
	for i := 0; i < 14; i++ {
		p := approvals.Person{Tenant: sw.tenant, Subject: fmt.Sprintf("racer-%d", i), Email: fmt.Sprintf("racer-%d@acme.test", i), Roles: []tenants.Role{tenants.RoleRequester}}
		req, err := sw.store.Submit(ctx, sw.tenant, sw.res, p, approvals.Submission{Level: approvals.Read}, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sw.store.Decide(ctx, sw.tenant, req, sw.p("acme/approver1"), true, "", 0, audit.Meta{}); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, req)
	}
	before, racing, after := reqs[:5], reqs[5:10], reqs[10:]
	// Five are approved and issued before the freeze of acme...
	for _, req := range before {
		if err := sw.approveAndIssue(t, req); err != nil {
			t.Fatal(err)
		}
	}
	// ...five final approvals race it...
	var wg sync.WaitGroup
	for _, req := range racing {
		wg.Add(1)
		go func() { defer wg.Done(); _ = sw.approveAndIssue(t, req) }()
	}
	id := sw.revoke(t, "tenant:acme", false)
	// ...and four come after it: refused.
	for _, req := range after {
		if err := sw.approveAndIssue(t, req); !errors.Is(err, approvals.ErrBlocked) {
			t.Fatalf("a final approval after the block: %v", err)
		}
	}
	if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, req := range reqs {
		if s := sw.state(t, req); s == approvals.Active || s == approvals.Issuing {
			t.Fatalf("request %s is %s after the freeze and its revocation", req, s)
		}
		if err := sw.svc.Vault.VerifyGrantDead(ctx, req, ""); err != nil {
			t.Fatalf("request %s: %v", req, err)
		}
	}
	r, err := sw.store.Revocation(ctx, id, operator)
	if err != nil || !r.Completed || r.Progress.Failed != 0 || r.Progress.Verified < len(before) {
		t.Fatalf("revocation: %+v %v", r.Progress, err)
	}
}

func TestARevocationTellsEachHolderOnceAndEachOrganizationOnce(t *testing.T) {
	sw := newShareWorld(t, "tenant-rv12", time.Now)
	ctx := context.Background()
	payments, err := sw.store.AddResource(ctx, sw.tenant, approvals.Resource{Name: "Payments DB", Classification: approvals.High,
		Mount: sw.mount, Path: "db/payments", Policy: twoApprovals()}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	onPayments := sw
	onPayments.res = payments
	reqs := []string{sw.jitGrant(t, "acme/requester"), onPayments.jitGrant(t, "acme/requester"), sw.jitGrant(t, "acme/admin")}
	var since time.Time
	if err := sw.pool.QueryRow(ctx, "SELECT now()").Scan(&since); err != nil {
		t.Fatal(err)
	}
	id := sw.revoke(t, "tenant:acme", false)
	if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
		t.Fatal(err)
	}
	rows, err := sw.pool.Query(ctx, `SELECT args->>'channel', coalesce(args->'to'->>0, ''), args->'message'->>'Subject', args->'message'->>'Text'
		FROM river_job WHERE kind = 'notify' AND args->>'tenant_id' = $1 AND created_at >= $2 ORDER BY id`, sw.tenant, since)
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for rows.Next() {
		var channel, to, subject, text string
		if err := rows.Scan(&channel, &to, &subject, &text); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(subject, "Access ended") {
			sent = append(sent, channel+" "+to+": "+subject+" — "+text)
		} else if strings.HasPrefix(subject, "Emergency revocation") {
			sent = append(sent, channel+" "+to+": "+subject)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(sent)
	want := []string{
		"chat : Emergency revocation: tenant:acme",
		"email admin@acme.test: Access ended: Orders DB — Your access has ended (revoked in an emergency revocation).",
		"email admin@acme.test: Emergency revocation: tenant:acme",
		"email requester@acme.test: Access ended: 2 grants — Your access to Orders DB, Payments DB has ended (revoked in an emergency revocation).",
	}
	if !slices.Equal(sent, want) {
		t.Fatalf("notices:\n%s\nwant:\n%s", strings.Join(sent, "\n"), strings.Join(want, "\n"))
	}
	for _, req := range reqs {
		if s := sw.state(t, req); s != approvals.Revoked {
			t.Fatalf("grant %s is %s", req, s)
		}
		var n int
		if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'grant.revoked' AND target = $1", req).Scan(&n); err != nil || n != 1 {
			t.Fatalf("grant %s: %d grant.revoked events (%v)", req, n, err)
		}
	}
	if rep, err := postgres.VerifyAudit(ctx, sw.pool, ""); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit chains: %+v %v", rep, err)
	}
}

// sweepCounter counts a revocation's mount sweeps, its revocations of
// single tokens and its policy listings, and notes whether the policies
// were listed while a sweep ran (each sweep waits up to 10 s for the first
// listing); with miss set, its sweeps do nothing and fail, as a Vault
// without the mount's role (or a Gatehouse policy without the sweep) would.
type sweepCounter struct {
	jobs.GrantVault
	miss                     bool
	sweeps, single, listings atomic.Int64
	listed                   chan struct{} // closed by the first listing
	listedInSweep            atomic.Bool
}

func newSweepCounter(v jobs.GrantVault, miss bool) *sweepCounter {
	return &sweepCounter{GrantVault: v, miss: miss, listed: make(chan struct{})}
}

func (s *sweepCounter) LiveGrantPolicies(ctx context.Context, grantIDs []string) ([]string, error) {
	if s.listings.Add(1) == 1 {
		close(s.listed)
	}
	return s.GrantVault.LiveGrantPolicies(ctx, grantIDs)
}

func (s *sweepCounter) RevokeMountTokens(ctx context.Context, mount string) error {
	s.sweeps.Add(1)
	select {
	case <-s.listed:
		s.listedInSweep.Store(true)
	case <-time.After(10 * time.Second):
	}
	if s.miss {
		return errors.New("revoking the tokens of mount " + mount + ": permission denied")
	}
	return s.GrantVault.RevokeMountTokens(ctx, mount)
}

func (s *sweepCounter) RevokeGrant(ctx context.Context, grantID, accessor string) error {
	if accessor != "" {
		s.single.Add(1)
	}
	return s.GrantVault.RevokeGrant(ctx, grantID, accessor)
}

// A tenant freeze ends the tokens on the tenant's mount with one sweep,
// the other side's grant on it included (a share), and no token one by
// one; when the sweep misses, each token is still looked up, found alive
// and revoked on its own, and the freeze completes all the same.
func TestATenantFreezeSweepsItsMountAndStillVerifiesEveryToken(t *testing.T) {
	for i, miss := range []bool{false, true} {
		sw := newShareWorld(t, fmt.Sprintf("tenant-rv%d", 16+i), time.Now)
		ctx := context.Background()
		share := sw.activeShare(t, sw.terms(approvals.PreApproved, time.Now()))
		reqs := []string{sw.jitGrant(t, "acme/requester"), sw.jitGrant(t, "acme/admin")}
		shared, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), share, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, shared)
		tokens := []*vaultapi.Client{sw.tokenOf(t, "acme/requester", reqs[0]), sw.tokenOf(t, "acme/admin", reqs[1]), sw.tokenOf(t, "globex/requester", reqs[2])}
		// A narrower scope never sweeps: the mount holds tokens outside it.
		v := newSweepCounter(sw.svc.Vault, miss)
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, v, jobs.RevokeConcurrency, sw.revoke(t, "grant:"+reqs[0], false)); err != nil {
			t.Fatal(err)
		}
		if v.sweeps.Load() != 0 || v.single.Load() != 1 || v.listings.Load() != 1 {
			t.Fatalf("a grant's revocation: %d sweeps, %d single revocations, %d listings", v.sweeps.Load(), v.single.Load(), v.listings.Load())
		}
		v = newSweepCounter(sw.svc.Vault, miss)
		id := sw.revoke(t, "tenant:acme", false)
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, v, jobs.RevokeConcurrency, id); err != nil {
			t.Fatalf("miss=%v: %v", miss, err)
		}
		wantSingle := int64(0)
		if miss {
			wantSingle = int64(len(reqs) - 1)
		}
		// The policies the workers deleted are listed once, while the sweep
		// runs; the recorder lists none again, even for a token found alive.
		if v.sweeps.Load() != 1 || v.single.Load() != wantSingle || v.listings.Load() != 1 || !v.listedInSweep.Load() {
			t.Errorf("miss=%v: %d sweeps, %d single revocations, %d listings (during the sweep: %v); want 1, %d, 1 (true)",
				miss, v.sweeps.Load(), v.single.Load(), v.listings.Load(), v.listedInSweep.Load(), wantSingle)
		}
		r, err := sw.store.Revocation(ctx, id, operator)
		if err != nil || !r.Completed || r.Progress.Verified != len(reqs)-1 || r.Progress.Failed != 0 {
			t.Fatalf("miss=%v: %+v %v", miss, r.Progress, err)
		}
		// Run again once completed, the freeze sweeps nothing: the tenant may
		// be thawed and minting again.
		again := newSweepCounter(sw.svc.Vault, miss)
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, again, jobs.RevokeConcurrency, id); err != nil || again.sweeps.Load() != 0 {
			t.Fatalf("miss=%v: a completed freeze run again: %d sweeps (%v)", miss, again.sweeps.Load(), err)
		}
		for i, req := range reqs {
			if s := sw.state(t, req); s != approvals.Revoked {
				t.Errorf("miss=%v: grant %s is %s", miss, req, s)
			}
			if err := sw.svc.Vault.VerifyGrantDead(ctx, req, ""); err != nil {
				t.Errorf("miss=%v: %v", miss, err)
			}
			if _, err := tokens[i].Auth().Token().LookupSelf(); err == nil {
				t.Errorf("miss=%v: grant %s's token is alive", miss, req)
			}
		}
	}
}
