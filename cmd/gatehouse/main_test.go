package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/testenv"
)

var stack *testenv.Stack

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Vault: true}, &stack) }

func runCmd(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func setEnv(t *testing.T, dbURL, vaultToken string) {
	t.Setenv("GATEHOUSE_DATABASE_URL", dbURL)
	t.Setenv("GATEHOUSE_VAULT_ADDR", stack.Vault.Addr)
	t.Setenv("GATEHOUSE_VAULT_TOKEN", vaultToken)
	t.Setenv("GATEHOUSE_LISTEN", "127.0.0.1:0")
}

func TestVersionAndUsage(t *testing.T) {
	out, err := runCmd(t, context.Background(), "version")
	if err != nil || strings.TrimSpace(out) != version {
		t.Fatalf("version = %q, %v", out, err)
	}
	if _, err := runCmd(t, context.Background(), "frobnicate"); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %v", err)
	}
	if _, err := runCmd(t, context.Background(), "migrate", "sideways"); err == nil {
		t.Fatal("migrate sideways accepted")
	}
}

func TestServeFailsFastWithTheReason(t *testing.T) {
	migrated := stack.NewDatabase(t)
	cases := []struct {
		name, db, token, want string
	}{
		{"no database URL", "", stack.Vault.RootToken, "GATEHOUSE_DATABASE_URL"},
		{"PostgreSQL unreachable", "postgres://gatehouse@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", stack.Vault.RootToken, "not reachable"},
		{"schema not migrated", stack.NewEmptyDatabase(t), stack.Vault.RootToken, "gatehouse migrate up"},
		{"no Vault token", migrated, "", "GATEHOUSE_VAULT_TOKEN is required"},
		{"Vault token refused", migrated, "not-a-token", "rejected Gatehouse's token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.db, tc.token)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err := runCmd(t, ctx, "serve")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve = %v, want an error mentioning %q", err, tc.want)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Fatalf("error shows the Vault token: %v", err)
			}
			if time.Since(start) > 20*time.Second {
				t.Fatalf("took %s to fail", time.Since(start))
			}
		})
	}
	setEnv(t, migrated, stack.Vault.RootToken)
	t.Setenv("GATEHOUSE_VAULT_ADDR", "http://127.0.0.1:1")
	if _, err := runCmd(t, context.Background(), "serve"); err == nil || !strings.Contains(err.Error(), "vault at http://127.0.0.1:1 is not reachable") {
		t.Fatalf("Vault unreachable: %v", err)
	}
	setEnv(t, migrated, stack.Vault.RootToken)
	t.Setenv("GATEHOUSE_PUBLIC_URL", "http://console.example.com")
	if _, err := runCmd(t, context.Background(), "serve"); err == nil || !strings.Contains(err.Error(), "HTTPS") {
		t.Fatalf("plain HTTP public URL on a public host: %v", err)
	}
}

func TestMigrateThenServeThenShutDownCleanly(t *testing.T) {
	setEnv(t, stack.NewEmptyDatabase(t), stack.Vault.RootToken)
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	t.Setenv("GATEHOUSE_LISTEN", addr)

	out, err := runCmd(t, context.Background(), "migrate", "up")
	if err != nil || !strings.Contains(out, "database is up to date") {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	out, err = runCmd(t, context.Background(), "audit", "verify")
	if err != nil || !strings.Contains(out, "0 broken") {
		t.Fatalf("audit verify on a fresh database: %v\n%s", err, out)
	}
	out, err = runCmd(t, context.Background(), "migrate", "status")
	if err != nil || !strings.Contains(out, "applied") || regexp.MustCompile(`(?m)^\S+\s+pending\s`).MatchString(out) {
		t.Fatalf("migrate status: %v\n%s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := runCmd(t, ctx, "serve", "--shutdown-grace", "2s")
		done <- err
	}()
	if err := devstack.WaitHTTP(context.Background(), "http://"+addr+"/readyz", 20*time.Second); err != nil {
		cancel()
		t.Fatalf("serve never became ready: %v (serve returned %v)", err, <-done)
	}
	resp, err := http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Sign in to Gatehouse") {
		t.Fatalf("/login = %d", resp.StatusCode)
	}
	if _, err := runCmd(t, context.Background(), "healthcheck"); err != nil {
		t.Fatalf("healthcheck against the running console: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
		if _, err := runCmd(t, context.Background(), "healthcheck"); err == nil {
			t.Fatal("healthcheck passed with the console stopped")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

func TestRevokeFromTheCommandLine(t *testing.T) {
	ctx := context.Background()
	dbURL := stack.NewDatabase(t)
	pool, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	vc := stack.VaultClient(t)
	tn, _ := tenants.NewTenant("acme", "Acme", []string{"acme.test"})
	tn.Status = tenants.StatusActive
	if err := postgres.NewTenantStore(pool).Register(ctx, tenants.Registration{Tenant: tn,
		IdP:      tenants.IdentityProvider{IssuerURL: "https://idp.example", ClientID: "c", ClientSecretRef: "gatehouse/idp/acme", Scopes: []string{"openid"}, GroupsClaim: "groups"},
		Mappings: []tenants.RoleMapping{{Group: "admins", Role: tenants.RoleTenantAdmin}},
		Binding:  tenants.StoreBinding{Kind: tenants.StoreVaultKV2, Location: "tenant-cli"}}, "test"); err != nil {
		t.Fatal(err)
	}
	var tenantID string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM tenants").Scan(&tenantID); err != nil {
		t.Fatal(err)
	}
	if err := vc.EnsureKV2Mount(ctx, "tenant-cli", "test"); err != nil {
		t.Fatal(err)
	}
	if err := vc.PutKV2(ctx, "tenant-cli", "db", map[string]any{"password": "p"}); err != nil {
		t.Fatal(err)
	}
	inserter, _ := jobs.NewInserter(pool)
	store := postgres.NewRequestStore(pool, inserter, time.Now)
	approver := []tenants.Role{tenants.RoleApprover}
	res, err := store.AddResource(ctx, tenantID, approvals.Resource{Name: "DB", Classification: approvals.High, Mount: "tenant-cli", Path: "db",
		Policy: approvals.Policy{Requesters: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
			Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: approver}, Required: 1}},
			DefaultDuration: 10 * time.Minute, MaxDuration: time.Hour, Levels: []approvals.Level{approvals.Read}, PendingTimeout: time.Hour}}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	who := approvals.Person{Tenant: tenantID, Subject: "r", Email: "r@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	req, err := store.Submit(ctx, tenantID, res, who, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Decide(ctx, tenantID, req, approvals.Person{Tenant: tenantID, Subject: "a", Roles: approver}, true, "", 0, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	target, err := store.StartIssuing(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Issue(ctx, store, vc, target, time.Now()); err != nil {
		t.Fatal(err)
	}
	setEnv(t, dbURL, stack.GatehouseToken(t))

	for _, bad := range [][]string{
		{"revoke", "--scope", "planet:earth", "--reason", "leaked key"},
		{"revoke", "--scope", "tenant:acme"},
		{"revoke", "--scope", "tenant:nowhere", "--reason", "leaked key"},
		{"revoke", "--scope", "tenant:acme", "--reason", "leaked key", "--revoke-concurrency", "0"},
		{"revoke", "--scope", "tenant:acme", "--reason", "leaked key", "--revoke-concurrency", "lots"},
	} {
		if out, err := runCmd(t, ctx, bad...); err == nil {
			t.Fatalf("%v succeeded:\n%s", bad, out)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM revocations").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d revocations after refused commands", n)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"revoke", "--scope", "tenant:acme", "--reason", "compromised partner", "--revoke-concurrency", "3"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var rep approvals.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	if !rep.Completed || rep.VerifiedDead != 1 || rep.Scope != "tenant:acme" || len(rep.Items) != 1 || rep.Items[0].State != "verified" {
		t.Fatalf("report: %+v", rep)
	}
	if err := vc.VerifyGrantDead(ctx, req, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Submit(ctx, tenantID, res, who, approvals.Submission{Level: approvals.Read}, audit.Meta{}); !errors.Is(err, approvals.ErrBlocked) {
		t.Fatalf("a request in the frozen tenant: %v", err)
	}
}
