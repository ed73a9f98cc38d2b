package vault_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// BenchmarkIssueGrant compares, on the same Vault in the same run,
// Gatehouse's grant issuance with the raw Vault calls for the same work
// (policy write + orphan token create, wrapped). Report the ratio of the
// two ns/op; make bench prints both.
func BenchmarkIssueGrant(b *testing.B) {
	ctx := context.Background()
	c := stack.VaultClient(b)
	if err := c.EnsureKV2Mount(ctx, "tenant-bench", "bench"); err != nil {
		b.Fatal(err)
	}
	b.Run("gatehouse", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			spec := vault.GrantSpec{GrantID: fmt.Sprintf("bench-g-%d", i), Tenant: "bench", Subject: "s",
				Mount: "tenant-bench", Path: "app/db", TTL: 10 * time.Minute}
			if _, err := c.IssueGrant(ctx, spec, 5*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-vault", func(b *testing.B) {
		cfg := vaultapi.DefaultConfig()
		cfg.Address = stack.Vault.Addr
		raw, err := vaultapi.NewClient(cfg)
		if err != nil {
			b.Fatal(err)
		}
		raw.SetToken(stack.Vault.RootToken)
		raw.SetWrappingLookupFunc(func(op, path string) string {
			if path == "auth/token/create-orphan" {
				return "5m"
			}
			return ""
		})
		f := false
		i := 0
		for b.Loop() {
			i++
			name := fmt.Sprintf("bench-r-%d", i)
			if err := raw.Sys().PutPolicy(name, `path "tenant-bench/data/app/db" { capabilities = ["read"] }`); err != nil {
				b.Fatal(err)
			}
			if _, err := raw.Auth().Token().CreateOrphan(&vaultapi.TokenCreateRequest{
				Policies: []string{name}, NoDefaultPolicy: true, Renewable: &f, TTL: "10m", ExplicitMaxTTL: "10m",
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
