package vault_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// seedTwoTenants makes two tenant mounts with secrets, via the root client.
func seedTwoTenants(t *testing.T) *vault.Client {
	t.Helper()
	ctx := context.Background()
	c := stack.VaultClient(t)
	for _, m := range []string{"tenant-ga", "tenant-gb"} {
		if err := c.EnsureKV2Mount(ctx, m, "test"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"app/db", "app/cache", "other/key"} {
			if err := c.PutKV2(ctx, m, p, map[string]any{"v": m + "/" + p}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

// unwrap redeems the wrapping token as the holder would (`vault unwrap`)
// and returns a client holding the grant token.
func unwrap(t *testing.T, wrapping string) (*vaultapi.Client, *vaultapi.Secret) {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	holder, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	holder.SetToken("")
	sec, err := holder.Logical().Unwrap(wrapping)
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	holder.SetToken(sec.Auth.ClientToken)
	return holder, sec
}

func canRead(holder *vaultapi.Client, mount, path string) bool {
	s, err := holder.KVv2(mount).Get(context.Background(), path)
	return err == nil && s != nil
}

func TestAGrantTokenReadsExactlyItsPath(t *testing.T) {
	ctx := context.Background()
	c := seedTwoTenants(t)
	spec := vault.GrantSpec{GrantID: "g-exact", Tenant: "ga", Subject: "req@ga", Mount: "tenant-ga", Path: "app/db", TTL: 5 * time.Minute}
	issued, err := c.IssueGrant(ctx, spec, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if issued.Accessor == "" || issued.WrappingToken == "" || issued.WrapTTL != 2*time.Minute {
		t.Fatalf("issued %+v", issued)
	}
	holder, sec := unwrap(t, issued.WrappingToken)
	if sec.Auth.Accessor != issued.Accessor {
		t.Fatal("the stored accessor is not the wrapped token's")
	}
	if !canRead(holder, "tenant-ga", "app/db") {
		t.Fatal("the grant cannot read its own secret")
	}
	for _, other := range [][2]string{{"tenant-ga", "app/cache"}, {"tenant-ga", "other/key"}, {"tenant-gb", "app/db"}} {
		if canRead(holder, other[0], other[1]) {
			t.Errorf("the grant reads %s/%s", other[0], other[1])
		}
	}
	if _, err := holder.KVv2("tenant-ga").Put(ctx, "app/db", map[string]any{"v": "x"}); err == nil {
		t.Error("a read grant can write")
	}
	if _, err := holder.Logical().List("tenant-ga/metadata/"); err == nil {
		t.Error("the grant can list the mount")
	}
	// The token: orphan, not renewable, TTL = the grant, only its policy, with metadata.
	// (Looked up by accessor as root: the grant token lacks even Vault's default policy.)
	info, err := rootAPI(t).Auth().Token().LookupAccessor(issued.Accessor)
	if err != nil {
		t.Fatal(err)
	}
	ttl, _ := info.TokenTTL()
	renewable, _ := info.TokenIsRenewable()
	policies, _ := info.TokenPolicies()
	if ttl > 5*time.Minute || ttl < 4*time.Minute || renewable || strings.Join(policies, ",") != vault.PolicyName("g-exact") {
		t.Errorf("token ttl %s renewable %v policies %v", ttl, renewable, policies)
	}
	if meta, _ := info.TokenMetadata(); meta["grant_id"] != "g-exact" || meta["subject"] != "req@ga" {
		t.Errorf("metadata %v", meta)
	}
	// A wrapping token is good once.
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	again, _ := vaultapi.NewClient(cfg)
	again.SetToken("")
	if _, err := again.Logical().Unwrap(issued.WrappingToken); err == nil {
		t.Error("the wrapping token unwrapped twice")
	}

	// Revoked: the token is dead, verified by accessor, the policy gone
	// (read, or listed), and revoking again is safe.
	if err := c.VerifyGrantDead(ctx, "g-exact", issued.Accessor); err == nil {
		t.Fatal("a live grant verified dead")
	}
	if err := c.VerifyTokenDead(ctx, "g-exact", issued.Accessor); err == nil {
		t.Fatal("a live token verified dead")
	}
	if live, err := c.LiveGrantPolicies(ctx, []string{"g-none", "g-exact"}); err != nil || !slices.Equal(live, []string{"g-exact"}) {
		t.Fatalf("live policies before revoking: %v %v", live, err)
	}
	if err := c.RevokeGrant(ctx, "g-exact", issued.Accessor); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyGrantDead(ctx, "g-exact", issued.Accessor); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyTokenDead(ctx, "g-exact", issued.Accessor); err != nil {
		t.Fatal(err)
	}
	if live, err := c.LiveGrantPolicies(ctx, []string{"g-none", "g-exact"}); err != nil || len(live) != 0 {
		t.Fatalf("live policies after revoking: %v %v", live, err)
	}
	if canRead(holder, "tenant-ga", "app/db") {
		t.Fatal("the revoked token still reads")
	}
	if err := c.RevokeGrant(ctx, "g-exact", issued.Accessor); err != nil {
		t.Fatalf("second revocation: %v", err)
	}
}

func TestPrefixAndReadWriteGrants(t *testing.T) {
	ctx := context.Background()
	c := seedTwoTenants(t)
	issued, err := c.IssueGrant(ctx, vault.GrantSpec{GrantID: "g-prefix", Tenant: "gb", Subject: "s", Mount: "tenant-gb",
		Path: "app/", Write: true, TTL: time.Minute}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	holder, _ := unwrap(t, issued.WrappingToken)
	if !canRead(holder, "tenant-gb", "app/db") || !canRead(holder, "tenant-gb", "app/cache") {
		t.Fatal("a prefix grant cannot read under its prefix")
	}
	if canRead(holder, "tenant-gb", "other/key") || canRead(holder, "tenant-ga", "app/db") {
		t.Fatal("a prefix grant reads outside its prefix")
	}
	if _, err := holder.KVv2("tenant-gb").Put(ctx, "app/db", map[string]any{"v": "rotated"}); err != nil {
		t.Fatalf("a read-write grant cannot write: %v", err)
	}
	if err := c.RevokeGrant(ctx, "g-prefix", issued.Accessor); err != nil {
		t.Fatal(err)
	}
}

func TestRevealUsesAThrowawayTokenConfinedToTheGrant(t *testing.T) {
	ctx := context.Background()
	c := seedTwoTenants(t)
	spec := vault.GrantSpec{GrantID: "g-reveal", Tenant: "ga", Subject: "s", Mount: "tenant-ga", Path: "app/db", TTL: time.Minute}
	issued, err := c.IssueGrant(ctx, spec, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	before := accessorCount(t)
	data, err := c.RevealWithGrant(ctx, spec, "app/db")
	if err != nil || data["v"] != "tenant-ga/app/db" {
		t.Fatalf("reveal returned the wrong value or failed: %v", err)
	}
	if _, err := c.RevealWithGrant(ctx, spec, "other/key"); err == nil {
		t.Fatal("reveal read outside the grant")
	}
	if after := accessorCount(t); after != before {
		t.Fatalf("reveal left %d tokens behind", after-before)
	}
	if err := c.RevokeGrant(ctx, "g-reveal", issued.Accessor); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevealWithGrant(ctx, spec, "app/db"); err == nil {
		t.Fatal("reveal works after revocation")
	}
}

func TestGrantSpecsThatCouldEscapeTheirPathAreRefused(t *testing.T) {
	c := stack.VaultClient(t)
	base := vault.GrantSpec{GrantID: "g-bad", Mount: "tenant-ga", Path: "app/db", TTL: time.Minute}
	for name, edit := range map[string]func(*vault.GrantSpec){
		"dot-dot":       func(g *vault.GrantSpec) { g.Path = "app/../other/key" },
		"glob":          func(g *vault.GrantSpec) { g.Path = "app/*" },
		"hcl injection": func(g *vault.GrantSpec) { g.Path = `app/db" { capabilities = ["sudo"] } path "*` },
		"absolute":      func(g *vault.GrantSpec) { g.Path = "/sys/policy" },
		"mount escape":  func(g *vault.GrantSpec) { g.Mount = "sys" + "/../tenant-gb" },
		"bad id":        func(g *vault.GrantSpec) { g.GrantID = "x y" },
		"too short":     func(g *vault.GrantSpec) { g.TTL = time.Second },
	} {
		g := base
		edit(&g)
		if _, err := c.IssueGrant(context.Background(), g, time.Minute); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
}

func rootAPI(t *testing.T) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(stack.Vault.RootToken)
	return c
}

func accessorCount(t *testing.T) int {
	t.Helper()
	s, err := rootAPI(t).Logical().List("auth/token/accessors")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := s.Data["keys"].([]any)
	return len(keys)
}
