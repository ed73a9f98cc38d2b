package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/channels"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/notifytest"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/testenv"
)

var stack *testenv.Stack

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Vault: true, Moto: true}, &stack) }

type world struct {
	pool    *pgxpool.Pool
	store   *postgres.RequestStore
	vault   *vault.Client
	tenant  string
	smtp    *notifytest.TestSMTPServer
	webhook *httptest.Server
	chat    chan string
	chans   *channels.Service // the workers' channels (w.channels() unless a test changes them)
}

// approvedRequest seeds a tenant with a Vault mount and secret, a resource,
// and a request approved by two approvers (its grant job now queued).
func approvedRequest(t testing.TB, mount string) (world, string) {
	t.Helper()
	w, res := newWorld(t, mount, time.Now)
	ctx := context.Background()
	req, err := w.store.Submit(ctx, w.tenant, res, approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}},
		approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"a1", "a2"} {
		if _, err := w.store.Decide(ctx, w.tenant, req, approvals.Person{Subject: a, Roles: []tenants.Role{tenants.RoleApprover}}, true, "", 0, audit.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	return w, req
}

// newWorld seeds a tenant "acme" with a Vault mount holding db/orders and
// db/other, its chat webhook, and the resource "Orders DB" (db/orders, two
// approvals), over a store running on the clock now; it returns the world
// and the resource's ID.
func newWorld(t testing.TB, mount string, now func() time.Time) (world, string) {
	t.Helper()
	ctx := context.Background()
	w := world{pool: stack.NewPool(t), vault: stack.VaultClient(t), chat: make(chan string, 100)}
	var err error
	if w.smtp, err = notifytest.StartTestSMTPServer(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.smtp.Close() })
	w.webhook = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		select { // never block the sender: benchmarks post more than anyone reads
		case w.chat <- body["text"]:
		default:
		}
	}))
	t.Cleanup(w.webhook.Close)
	tn, _ := tenants.NewTenant("acme", "Acme", []string{"acme.test"})
	tn.Status = tenants.StatusActive
	if err := postgres.NewTenantStore(w.pool).Register(ctx, tenants.Registration{Tenant: tn,
		IdP:      tenants.IdentityProvider{IssuerURL: "https://idp.example", ClientID: "c", ClientSecretRef: "gatehouse/idp/acme", Scopes: []string{"openid"}, GroupsClaim: "groups"},
		Mappings: []tenants.RoleMapping{{Group: "admins", Role: tenants.RoleTenantAdmin}},
		Binding:  tenants.StoreBinding{Kind: tenants.StoreVaultKV2, Location: mount}}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := w.pool.QueryRow(ctx, "SELECT id::text FROM tenants").Scan(&w.tenant); err != nil {
		t.Fatal(err)
	}
	if err := w.vault.EnsureKV2Mount(ctx, mount, "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"db/orders", "db/other"} {
		if err := w.vault.PutKV2(ctx, mount, p, map[string]any{"password": "value-of-" + p}); err != nil {
			t.Fatal(err)
		}
	}
	inserter, err := jobs.NewInserter(w.pool)
	if err != nil {
		t.Fatal(err)
	}
	w.store = postgres.NewRequestStore(w.pool, inserter, now)
	w.chans = w.channels()
	if err := w.store.SetWebhook(ctx, w.tenant, w.webhook.URL, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	res, err := w.store.AddResource(ctx, w.tenant, approvals.Resource{Name: "Orders DB", Classification: approvals.High,
		Mount: mount, Path: "db/orders", Policy: twoApprovals()}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return w, res
}

// channels is the tenant channels as `gatehouse serve` wires them: the
// in-process SMTP server as Gatehouse's relay (its CA also trusted for
// organizations' own relays, which may be on loopback here), and the
// webhook receiver.
func (w world) channels() *channels.Service {
	return &channels.Service{Store: w.store, Secrets: w.vault, Audit: postgres.NewIdentityStore(w.pool, time.Now),
		Relay: &notify.Mailer{Addr: w.smtp.Addr, From: "gatehouse@acme.test", TLS: w.smtp.ClientTLS,
			PublicURL: "https://gatehouse.example", Now: time.Now},
		Chat: &notify.Webhook{Client: w.webhook.Client(), PublicURL: "https://gatehouse.example"},
		TLS:  w.smtp.ClientTLS, Local: true}
}

// twoApprovals is the test resources' policy: requesters ask, two
// approvers approve, reads only, 10 minutes by default, an hour at most.
func twoApprovals() approvals.Policy {
	return approvals.Policy{
		Requesters:      approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
		Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 2}},
		DefaultDuration: 10 * time.Minute, MaxDuration: time.Hour, Levels: []approvals.Level{approvals.Read}, PendingTimeout: time.Hour,
	}
}

// startWorkers runs a River client until stopped (or the test ends).
func startWorkers(t testing.TB, w world, v jobs.GrantVault, now func() time.Time) *river.Client[pgx.Tx] {
	t.Helper()
	c, err := jobs.NewClient(w.pool, jobs.Workers{Grants: w.store, Sweeper: w.store, Reviews: w.store, Shares: w.store, Revocations: w.store, Vault: v, Now: now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: 100 * time.Millisecond,
		Channels: w.chans, Webhook: w.chans.Chat, Notices: w.store})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func waitState(t *testing.T, w world, req string, want approvals.State, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var state string
	for time.Now().Before(deadline) {
		if err := w.pool.QueryRow(context.Background(), "SELECT state FROM requests WHERE id::text = $1", req).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == string(want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("request is %s after %s, want %s", state, within, want)
}

// handOver mints the holder's token as "Get token" does and returns a
// client holding it. The token lives a minute (Vault's floor here) while
// the grant ends in seconds: the expiry job, not Vault's TTL, must kill it.
func handOver(t *testing.T, w world, req, mount string) (*vaultapi.Client, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.store.ActiveGrantExpiry(ctx, w.tenant, req, "req"); err != nil {
		t.Fatal(err)
	}
	issued, err := w.vault.MintGrantToken(ctx, vault.GrantSpec{GrantID: req, Tenant: "acme", Subject: "req", Mount: mount,
		Path: "db/orders", TTL: time.Minute}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.store.HandOverToken(ctx, w.tenant, req, "req", issued.Accessor, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	holder, _ := vaultapi.NewClient(cfg)
	holder.SetToken("")
	sec, err := holder.Logical().Unwrap(issued.WrappingToken)
	if err != nil {
		t.Fatal(err)
	}
	holder.SetToken(sec.Auth.ClientToken)
	return holder, issued.Accessor
}

func TestApprovedRequestsAreIssuedAndExpireOnTime(t *testing.T) {
	w, req := approvedRequest(t, "tenant-jobs1")
	// The worker's clock makes the 10-minute grant end 8 s from now (time
	// enough, on a loaded machine, for its due reminder to go out first:
	// the expiry sweep ends it on the second).
	soon := func() time.Time { return time.Now().Add(-10*time.Minute + 8*time.Second) }
	startWorkers(t, w, w.vault, soon)
	waitState(t, w, req, approvals.Active, 10*time.Second)

	holder, accessor := handOver(t, w, req, "tenant-jobs1")
	if s, err := holder.KVv2("tenant-jobs1").Get(context.Background(), "db/orders"); err != nil || s.Data["password"] != "value-of-db/orders" {
		t.Fatalf("the grant cannot read its secret: %v", err)
	}
	if _, err := holder.KVv2("tenant-jobs1").Get(context.Background(), "db/other"); err == nil {
		t.Fatal("the grant reads another secret")
	}

	waitState(t, w, req, approvals.Expired, 20*time.Second)
	if err := w.vault.VerifyGrantDead(context.Background(), req, accessor); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	// The requester was told by email, and the tenant's chat saw every step.
	want := []string{"Request approved", "Access granted: Orders DB", "Access ends soon: Orders DB", "Access ended: Orders DB"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var subjects []string
		for _, m := range w.smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == "requester@acme.test" {
				subjects = append(subjects, m.Data)
			}
		}
		all := strings.Join(subjects, "\n")
		ok := true
		for _, s := range want {
			ok = ok && strings.Contains(all, s)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("emails to the requester lack %v:\n%s", want, all)
		}
		time.Sleep(200 * time.Millisecond)
	}
	seen := map[string]bool{}
	chatWant := []string{"Request approved", "Access granted: Orders DB", "Access ended: Orders DB", "Access request: Orders DB"}
	for len(seen) < len(chatWant) {
		select {
		case text := <-w.chat:
			for _, s := range chatWant {
				if strings.Contains(text, s) {
					seen[s] = true
				}
			}
			if strings.Contains(text, "value-of-") {
				t.Fatal("a secret value reached the chat")
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("chat saw only %v", seen)
		}
	}
	if _, err := holder.KVv2("tenant-jobs1").Get(context.Background(), "db/orders"); err == nil {
		t.Fatal("the expired grant still reads")
	}
}

func TestAnExpiryMissedWhileDownRunsAtStartUp(t *testing.T) {
	w, req := approvedRequest(t, "tenant-jobs2")
	soon := func() time.Time { return time.Now().Add(-10*time.Minute + 2*time.Second) }
	c := startWorkers(t, w, w.vault, soon)
	waitState(t, w, req, approvals.Active, 10*time.Second)
	_, accessor := handOver(t, w, req, "tenant-jobs2")
	if err := c.Stop(context.Background()); err != nil { // Gatehouse goes down before the expiry
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	waitState(t, w, req, approvals.Active, time.Second) // nothing ended it meanwhile
	startWorkers(t, w, w.vault, soon)                   // and comes back
	waitState(t, w, req, approvals.Expired, 10*time.Second)
	if err := w.vault.VerifyGrantDead(context.Background(), req, accessor); err != nil {
		t.Fatal(err)
	}
}

func TestIssuanceWaitsOutAVaultOutage(t *testing.T) {
	w, req := approvedRequest(t, "tenant-jobs3")
	down, err := vault.New("http://127.0.0.1:1", "x") // Vault unreachable
	if err != nil {
		t.Fatal(err)
	}
	c := startWorkers(t, w, down, time.Now)
	waitState(t, w, req, approvals.Issuing, 10*time.Second)
	time.Sleep(time.Second)
	waitState(t, w, req, approvals.Issuing, time.Second) // still issuing: nothing lost, nothing failed
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	startWorkers(t, w, w.vault, time.Now) // Vault is back
	waitState(t, w, req, approvals.Active, 30*time.Second)
	var attempts int
	if err := w.pool.QueryRow(context.Background(), "SELECT attempt FROM river_job WHERE kind = 'issue_grant'").Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts < 2 {
		t.Fatalf("issued in %d attempt(s): the outage was not exercised", attempts)
	}
}

func TestAPermanentVaultRefusalFailsTheRequestWithTheReason(t *testing.T) {
	w, req := approvedRequest(t, "tenant-jobs4")
	// A Gatehouse identity Vault refuses: a token with no policy at all.
	weak := stack.VaultToken(t, "gatehouse-test-nothing") // a policy that grants nothing
	refused, err := vault.New(stack.Vault.Addr, weak)
	if err != nil {
		t.Fatal(err)
	}
	startWorkers(t, w, refused, time.Now)
	waitState(t, w, req, approvals.Failed, 10*time.Second)
	var reason string
	if err := w.pool.QueryRow(context.Background(), "SELECT failure_reason FROM requests WHERE id::text = $1", req).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	// Vault's reason in plain words, never its address or the request's URL.
	if !strings.Contains(reason, "HTTP 403: permission denied") || strings.Contains(reason, stack.Vault.Addr) ||
		strings.Contains(reason, "URL") || strings.Contains(reason, "/v1/") {
		t.Fatalf("failure reason %q", reason)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(fmt.Sprint(w.smtp.Messages()), "Access could not be issued") {
		if time.Now().After(deadline) {
			t.Fatal("the requester was not told")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The requester retries: a second grant job runs, and Vault, still
	// refusing, fails it again. (A second retry at once is refused while
	// the first is issuing: TestARetryIsNotTakenForTheFailedAttemptsStillRunningJob;
	// here the running worker may already have failed it again.)
	ctx := context.Background()
	requester := approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	if err := w.store.RetryIssuing(ctx, w.tenant, req, approvals.Person{Subject: "a1", Roles: []tenants.Role{tenants.RoleApprover}}, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("an approver retrying: %v", err)
	}
	if err := w.store.RetryIssuing(ctx, w.tenant, req, requester, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		var jobs int
		var state string
		if err := w.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM river_job WHERE kind = 'issue_grant' AND state = 'completed'),
			(SELECT state FROM requests WHERE id::text = $1)`, req).Scan(&jobs, &state); err != nil {
			t.Fatal(err)
		}
		if jobs == 2 && state == string(approvals.Failed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the retry: %d grant jobs done, request %s", jobs, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRelinquishingKillsTheTokenAtOnce(t *testing.T) {
	w, req := approvedRequest(t, "tenant-jobs5")
	startWorkers(t, w, w.vault, time.Now)
	waitState(t, w, req, approvals.Active, 10*time.Second)
	holder, accessor := handOver(t, w, req, "tenant-jobs5")
	svc := &access.Service{Store: w.store, Vault: w.vault, Now: time.Now}
	h := access.Holder{TenantID: w.tenant, TenantSlug: "acme", Person: approvals.Person{Subject: "req", Email: "requester@acme.test"}}
	stranger := access.Holder{TenantID: w.tenant, TenantSlug: "acme", Person: approvals.Person{Subject: "someone-else"}}
	if err := svc.Relinquish(context.Background(), stranger, req); err == nil {
		t.Fatal("someone else relinquished the grant")
	}
	if err := svc.Relinquish(context.Background(), h, req); err != nil {
		t.Fatal(err)
	}
	waitState(t, w, req, approvals.Revoked, time.Second)
	if err := w.vault.VerifyGrantDead(context.Background(), req, accessor); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.KVv2("tenant-jobs5").Get(context.Background(), "db/orders"); err == nil {
		t.Fatal("the relinquished token still reads")
	}
}

// A retry right after the failure, while the failed attempt's job is still
// running in River, gets a job of its own (not dropped as its duplicate).
func TestARetryIsNotTakenForTheFailedAttemptsStillRunningJob(t *testing.T) {
	w, req := approvedRequest(t, "tenant-jobs-retry")
	ctx := context.Background()
	if _, err := w.pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE kind = 'issue_grant'`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.StartIssuing(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := w.store.FailIssuing(ctx, req, "Vault refused the grant (HTTP 403: permission denied)."); err != nil {
		t.Fatal(err)
	}
	requester := approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	if err := w.store.RetryIssuing(ctx, w.tenant, req, requester, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	var running, available int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'available')
		FROM river_job WHERE kind = 'issue_grant' AND args->>'request_id' = $1`, req).Scan(&running, &available); err != nil {
		t.Fatal(err)
	}
	if running != 1 || available != 1 {
		t.Fatalf("after the retry: %d running and %d available grant jobs; want the failed attempt's and the retry's", running, available)
	}
	if err := w.store.RetryIssuing(ctx, w.tenant, req, requester, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("retrying a request already issuing again: %v", err)
	}
}
