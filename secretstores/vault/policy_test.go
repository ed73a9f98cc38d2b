package vault_test

import (
	"context"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// TestGatehouseRunsWithItsLeastPrivilegePolicy runs every Vault operation
// Gatehouse performs with a token holding only the gatehouse policy, and
// checks what that token must not be able to do.
func TestGatehouseRunsWithItsLeastPrivilegePolicy(t *testing.T) {
	ctx := context.Background()
	root := stack.VaultClient(t)
	if err := root.EnsureKV2Mount(ctx, "gatehouse", "Gatehouse's own secrets"); err != nil {
		t.Fatal(err)
	}
	token, err := root.InstallGatehousePolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := vault.New(stack.Vault.Addr, token)
	if err != nil {
		t.Fatal(err)
	}

	// What Gatehouse does.
	if err := gh.Verify(ctx); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := gh.EnsureKV2Mount(ctx, "tenant-leastpriv", "onboarding"); err != nil {
		t.Fatalf("mounting a tenant: %v", err)
	}
	if err := gh.PutClientSecret(ctx, "gatehouse/idp/leastpriv", "s3cret"); err != nil {
		t.Fatalf("storing an IdP secret: %v", err)
	}
	if v, err := gh.ReadClientSecret(ctx, "gatehouse/idp/leastpriv"); err != nil || v != "s3cret" {
		t.Fatalf("reading an IdP secret: %v", err)
	}
	if err := root.PutKV2(ctx, "tenant-leastpriv", "app/db", map[string]any{"password": "tenant-value"}); err != nil {
		t.Fatal(err)
	}
	if keys, err := gh.ListKV2(ctx, "tenant-leastpriv", ""); err != nil || len(keys) != 1 {
		t.Fatalf("browsing key names: %v %v", keys, err)
	}
	spec := vault.GrantSpec{GrantID: "lp-grant", Tenant: "leastpriv", Subject: "s", Mount: "tenant-leastpriv", Path: "app/db", TTL: time.Minute}
	issued, err := gh.IssueGrant(ctx, spec, time.Minute)
	if err != nil {
		t.Fatalf("issuing a grant: %v", err)
	}
	if data, err := gh.RevealWithGrant(ctx, spec, "app/db"); err != nil || data["password"] != "tenant-value" {
		t.Fatalf("revealing through the grant failed: %v", err)
	}
	if err := gh.RevokeGrant(ctx, "lp-grant", issued.Accessor); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	if err := gh.VerifyGrantDead(ctx, "lp-grant", issued.Accessor); err != nil {
		t.Fatalf("verifying dead: %v", err)
	}
	if live, err := gh.LiveGrantPolicies(ctx, []string{"lp-grant"}); err != nil || len(live) != 0 {
		t.Fatalf("listing the policies to verify a batch: %v %v", live, err)
	}

	// What it must not do.
	if _, err := gh.GetKV2(ctx, "tenant-leastpriv", "app/db"); err == nil {
		t.Error("Gatehouse's own token reads a tenant's secret value")
	}
	if err := gh.EnsureKV2Mount(ctx, "other-mount", "x"); err == nil {
		t.Error("Gatehouse mounts outside tenant-*")
	}
	if err := gh.WriteGrantPolicy(ctx, vault.GrantSpec{GrantID: "x", Mount: "tenant-leastpriv", Path: "a", TTL: time.Minute}); err != nil {
		t.Errorf("writing a grant policy: %v", err)
	}
	if err := rootPolicyWrite(t, token); err == nil {
		t.Error("Gatehouse writes a policy outside gatehouse-grant-*")
	}
}

// rootPolicyWrite tries to overwrite the "default" policy with token.
func rootPolicyWrite(t *testing.T, token string) error {
	c := rootAPI(t)
	c.SetToken(token)
	return c.Sys().PutPolicy("default", `path "*" { capabilities = ["sudo"] }`)
}

func TestAuditCheckpointsCanBeAddedButNeverRemovedByGatehouse(t *testing.T) {
	ctx := context.Background()
	root := stack.VaultClient(t)
	if err := root.EnsureKV2Mount(ctx, "gatehouse", "Gatehouse's own secrets"); err != nil {
		t.Fatal(err)
	}
	token, err := root.InstallGatehousePolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := vault.New(stack.Vault.Addr, token)
	if err != nil {
		t.Fatal(err)
	}
	cps := []audit.Checkpoint{audit.NewCheckpoint("c1", 7, []byte{1, 2, 3}, time.Unix(1000, 0))}
	if err := gh.WriteCheckpoints(ctx, cps); err != nil {
		t.Fatalf("writing checkpoints: %v", err)
	}
	got, err := gh.ReadCheckpoints(ctx)
	if err != nil || len(got) != 1 || got[0].Seq != 7 || got[0].Hash != "010203" {
		t.Fatalf("reading checkpoints: %+v %v", got, err)
	}
	// Gatehouse's token cannot delete, destroy or rewrite the history of the anchor.
	raw := clientWithToken(t, token)
	for _, path := range []string{"gatehouse/data/audit/checkpoints", "gatehouse/metadata/audit/checkpoints"} {
		if _, err := raw.Logical().DeleteWithContext(ctx, path); err == nil {
			t.Errorf("Gatehouse deleted %s", path)
		}
	}
	if _, err := raw.Logical().WriteWithContext(ctx, "gatehouse/destroy/audit/checkpoints", map[string]any{"versions": []int{1}}); err == nil {
		t.Error("Gatehouse destroyed a checkpoint version")
	}
}

// clientWithToken is a bare API client of the test Vault holding token.
func clientWithToken(t *testing.T, token string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}
