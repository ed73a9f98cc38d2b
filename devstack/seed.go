package devstack

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
)

// Seed makes the demo organizations exist: in Vault, Gatehouse's mount
// with each IdP client secret and a KV v2 mount per tenant with demo
// secrets; in PostgreSQL, each tenant active with its domain, IdP (issuer
// from issuers), role mappings and store binding. Running it again
// refreshes the IdP settings and changes nothing else.
func Seed(ctx context.Context, pool *pgxpool.Pool, vc *vault.Client, orgs []DemoOrg, issuers map[string]string) error {
	const actor = "seed"
	store := postgres.NewTenantStore(pool)
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		return err
	}
	requests := postgres.NewRequestStore(pool, inserter, time.Now)
	if err := vc.EnsureKV2Mount(ctx, tenants.GatehouseMount, "Gatehouse's own secrets"); err != nil {
		return err
	}
	for _, o := range orgs {
		if o.Unseeded {
			continue
		}
		issuer, ok := issuers[o.Slug]
		if !ok {
			return fmt.Errorf("no IdP issuer for demo organization %s", o.Slug)
		}
		ref := tenants.ClientSecretRef(o.Slug)
		if err := vc.PutClientSecret(ctx, ref, o.ClientSecret()); err != nil {
			return err
		}
		mount := tenants.VaultMountFor(o.Slug)
		if err := vc.EnsureKV2Mount(ctx, mount, "secrets of tenant "+o.Slug); err != nil {
			return err
		}
		for path, data := range o.Secrets {
			if err := vc.PutKV2(ctx, mount, path, data); err != nil {
				return err
			}
		}
		t, err := tenants.NewTenant(o.Slug, o.Name, []string{o.Domain})
		if err != nil {
			return err
		}
		t.Status = tenants.StatusActive
		idp := tenants.IdentityProvider{
			IssuerURL: issuer, ClientID: "gatehouse", ClientSecretRef: ref,
			Scopes: []string{"openid", "email", "profile", "groups"}, GroupsClaim: "groups",
			RequireEmailVerified: true, Enabled: true,
		}
		err = store.Register(ctx, tenants.Registration{
			Tenant: t, IdP: idp, Mappings: o.Mappings,
			Binding: tenants.StoreBinding{Kind: tenants.StoreVaultKV2, Location: mount},
		}, actor)
		if apperr.CodeOf(err) == apperr.Conflict {
			err = store.SetIdentityProvider(ctx, o.Slug, idp, actor)
		}
		if err != nil {
			return fmt.Errorf("seeding tenant %s: %w", o.Slug, err)
		}
		var tenantID string
		if err := pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", o.Slug).Scan(&tenantID); err != nil {
			return err
		}
		for _, r := range o.Resources {
			r.Mount = mount
			if _, err := requests.AddResource(ctx, tenantID, r, actor, audit.Meta{}); err != nil && apperr.CodeOf(err) != apperr.Conflict {
				return fmt.Errorf("seeding resource %s: %w", r.Name, err)
			}
		}
	}
	return nil
}
