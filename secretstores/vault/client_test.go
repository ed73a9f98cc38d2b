package vault_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/testenv"
)

var stack *testenv.Stack

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Vault: true}, &stack) }

func TestVerifyAcceptsAValidTokenAndNamesABadOneWithoutShowingIt(t *testing.T) {
	ctx := context.Background()
	if err := stack.VaultClient(t).Verify(ctx); err != nil {
		t.Fatalf("Verify with the root token: %v", err)
	}
	const badToken = "hvs.not-a-real-token-0123456789"
	bad, err := vault.New(stack.Vault.Addr, badToken)
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Verify(ctx)
	if err == nil || !strings.Contains(err.Error(), "rejected Gatehouse's token") {
		t.Fatalf("Verify with a bad token = %v", err)
	}
	if strings.Contains(err.Error(), badToken) {
		t.Fatalf("error shows the token: %v", err)
	}
	// A token of an outdated Gatehouse policy (orphans minted with sudo,
	// before the token roles) is named as such.
	if err := rootAPI(t).Sys().PutPolicy("gatehouse-outdated", `
path "auth/token/lookup-self" { capabilities = ["read"] }
path "sys/capabilities-self" { capabilities = ["update"] }
path "auth/token/create-orphan" { capabilities = ["create", "update", "sudo"] }`); err != nil {
		t.Fatal(err)
	}
	outdated, _ := vault.New(stack.Vault.Addr, stack.VaultToken(t, "gatehouse-outdated"))
	if err := outdated.Verify(ctx); err == nil || !strings.Contains(err.Error(), "install the current gatehouse policy") {
		t.Fatalf("Verify with an outdated policy = %v", err)
	}
	down, _ := vault.New("http://127.0.0.1:1", "x")
	if err := down.Verify(ctx); err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Fatalf("Verify against a closed port = %v", err)
	}
}

func TestKV2MountsAreCreatedOnceAndHoldVersions(t *testing.T) {
	ctx := context.Background()
	c := stack.VaultClient(t)
	for range 2 { // idempotent
		if err := c.EnsureKV2Mount(ctx, "tenant-kvtest", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PutKV2(ctx, "tenant-kvtest", "app/db", map[string]any{"password": "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutKV2(ctx, "tenant-kvtest", "app/db", map[string]any{"password": "v2"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetKV2(ctx, "tenant-kvtest", "app/db")
	if err != nil {
		t.Fatal(err)
	}
	if got["password"] != "v2" {
		t.Fatalf("latest version = %v", got)
	}
	if _, err := c.GetKV2(ctx, "tenant-kvtest", "app/missing"); err == nil {
		t.Fatal("reading a missing secret succeeded")
	}
}

func TestKV2MountRefusesAPathHeldByAnotherEngine(t *testing.T) {
	ctx := context.Background()
	// The dev server mounts cubbyhole/ itself; it is not KV v2.
	err := stack.VaultClient(t).EnsureKV2Mount(ctx, "cubbyhole", "test")
	if err == nil || !strings.Contains(err.Error(), "not KV v2") {
		t.Fatalf("EnsureKV2Mount over cubbyhole = %v", err)
	}
}
