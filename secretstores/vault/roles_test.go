package vault_test

import (
	"context"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// One call ends every token Gatehouse minted on a mount, and nothing else:
// not the tokens of a mount whose name extends it, not a token minted
// without the mount's role (as before roles existed). Run with Gatehouse's
// least-privilege token, as in production.
func TestRevokeMountTokensEndsTheMountsTokensOnly(t *testing.T) {
	ctx := context.Background()
	root := stack.VaultClient(t)
	for _, m := range []string{"tenant-rm", "tenant-rm2"} {
		if err := root.EnsureKV2Mount(ctx, m, "test"); err != nil {
			t.Fatal(err)
		}
		if err := root.PutKV2(ctx, m, "app/db", map[string]any{"v": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	gh, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t))
	if err != nil {
		t.Fatal(err)
	}
	issue := func(id, mount string) string {
		t.Helper()
		issued, err := gh.IssueGrant(ctx, vault.GrantSpec{GrantID: id, Tenant: "rm", Subject: "s", Mount: mount, Path: "app/db", TTL: time.Hour}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return issued.Accessor
	}
	swept := []string{issue("rm-1", "tenant-rm"), issue("rm-2", "tenant-rm")}
	other := issue("rm2-1", "tenant-rm2")
	legacy, err := rootAPI(t).Auth().Token().CreateOrphan(&vaultapi.TokenCreateRequest{
		Policies: []string{vault.PolicyName("rm-1")}, NoDefaultPolicy: true, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := rootAPI(t).Auth().Token().LookupAccessor(swept[0])
	if err != nil || info.Data["path"] != "auth/token/create/"+vault.TokenRole("tenant-rm") || info.Data["orphan"] != true {
		t.Fatalf("a grant token's path %v, orphan %v (%v)", info.Data["path"], info.Data["orphan"], err)
	}

	if err := gh.RevokeMountTokens(ctx, "tenant-rm"); err != nil {
		t.Fatal(err)
	}
	for _, acc := range swept {
		if err := gh.VerifyTokenDead(ctx, "rm", acc); err != nil {
			t.Errorf("a token of the mount: %v", err)
		}
	}
	if err := gh.VerifyTokenDead(ctx, "rm2-1", other); err == nil {
		t.Error("the sweep of tenant-rm ended a token of tenant-rm2")
	}
	if err := gh.VerifyTokenDead(ctx, "legacy", legacy.Auth.Accessor); err == nil {
		t.Error("the sweep ended a token minted without the mount's role")
	}
	if err := gh.RevokeMountTokens(ctx, "tenant-rm"); err != nil {
		t.Fatalf("a second sweep: %v", err)
	}
	if err := gh.RevokeMountTokens(ctx, "../sys"); err == nil {
		t.Fatal("a sweep of a path that is not a mount name")
	}
	if err := gh.VerifyTokenDead(ctx, "rm2-1", other); err == nil {
		t.Error("a second sweep ended a token of tenant-rm2")
	}
}

// Gatehouse's token can make a mount's token role only as Gatehouse makes
// it, cannot mint orphans outside a role, and may sweep only its roles.
func TestGatehouseCannotWidenATokenRole(t *testing.T) {
	ctx := context.Background()
	if err := stack.VaultClient(t).EnsureKV2Mount(ctx, "tenant-rw", "test"); err != nil {
		t.Fatal(err)
	}
	gh := clientWithToken(t, stack.GatehouseToken(t))
	role := "auth/token/roles/" + vault.TokenRole("tenant-rw")
	pinned := func() map[string]any {
		return map[string]any{"orphan": true, "renewable": false, "token_type": "service", "token_no_default_policy": true,
			"allowed_policies_glob": []any{vault.PolicyName("*")}}
	}
	if _, err := gh.Logical().WriteWithContext(ctx, role, pinned()); err != nil {
		t.Fatalf("the pinned role: %v", err)
	}
	for name, change := range map[string]func(map[string]any){
		"any policy":          func(m map[string]any) { m["allowed_policies_glob"] = []any{"*"} },
		"a second glob":       func(m map[string]any) { m["allowed_policies_glob"] = []any{vault.PolicyName("*"), "admin*"} },
		"a comma-joined glob": func(m map[string]any) { m["allowed_policies_glob"] = vault.PolicyName("*") + ",admin" },
		"a policy list":       func(m map[string]any) { m["allowed_policies"] = []any{"default"} },
		"renewable":           func(m map[string]any) { m["renewable"] = true },
		"not orphan":          func(m map[string]any) { m["orphan"] = false },
		"a longer life":       func(m map[string]any) { m["token_explicit_max_ttl"] = "8760h" },
	} {
		m := pinned()
		change(m)
		if _, err := gh.Logical().WriteWithContext(ctx, role, m); err == nil {
			t.Errorf("Gatehouse wrote its token role with %s", name)
		}
	}
	if _, err := gh.Auth().Token().CreateOrphanWithContext(ctx, &vaultapi.TokenCreateRequest{Policies: []string{vault.PolicyName("x")}}); err == nil {
		t.Error("Gatehouse minted an orphan token outside its roles")
	}
	if _, err := gh.Auth().Token().CreateWithRoleWithContext(ctx, &vaultapi.TokenCreateRequest{Policies: []string{"default"}}, vault.TokenRole("tenant-rw")); err == nil {
		t.Error("Gatehouse minted a token with a policy not a grant's through its role")
	}
	if _, err := gh.Logical().WriteWithContext(ctx, "sys/leases/revoke-prefix/auth/token/create-orphan", nil); err == nil {
		t.Error("Gatehouse revoked by a prefix outside its roles")
	}
}
