package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

func registration(t testing.TB, slug, name string, domains ...string) tenants.Registration {
	t.Helper()
	tn, err := tenants.NewTenant(slug, name, domains)
	if err != nil {
		t.Fatal(err)
	}
	tn.Status = tenants.StatusActive
	return tenants.Registration{
		Tenant: tn,
		IdP: tenants.IdentityProvider{IssuerURL: "https://idp.example/" + slug, ClientID: "gatehouse",
			ClientSecretRef: "gatehouse/idp/" + slug, Scopes: []string{"openid"}, GroupsClaim: "groups"},
		Mappings: []tenants.RoleMapping{{Group: "admins", Role: tenants.RoleTenantAdmin}},
		Binding:  tenants.StoreBinding{Kind: tenants.StoreVaultKV2, Location: "tenant-" + slug},
	}
}

func TestRegisterAndFindTenants(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewTenantStore(stack.NewPool(t))
	if err := store.Register(ctx, registration(t, "acme", "Acme Corp", "acme.test", "acme.example"), "test"); err != nil {
		t.Fatal(err)
	}
	if err := store.Register(ctx, registration(t, "globex", "Globex", "globex.test"), "test"); err != nil {
		t.Fatal(err)
	}
	active, err := store.ListActive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range active {
		names = append(names, a.DisplayName)
	}
	if !slices.Equal(names, []string{"Acme Corp", "Globex"}) {
		t.Fatalf("active tenants = %v", names)
	}
	got, err := store.ByEmailDomain(ctx, "acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if got.Slug != "acme" || !slices.Equal(got.EmailDomains, []string{"acme.example", "acme.test"}) {
		t.Fatalf("ByEmailDomain = %+v", got)
	}
	if _, err := store.ByEmailDomain(ctx, "initech.test"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown domain: %v", err)
	}
}

func TestRegisterConflictsChangeNothing(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	store := postgres.NewTenantStore(pool)
	if err := store.Register(ctx, registration(t, "acme", "Acme Corp", "acme.test"), "test"); err != nil {
		t.Fatal(err)
	}

	err := store.Register(ctx, registration(t, "acme", "Other Acme", "other.test"), "test")
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || e.Message == "" {
		t.Fatalf("duplicate slug: %v", err)
	}
	err = store.Register(ctx, registration(t, "initech", "Initech", "initech.test", "acme.test"), "test")
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict {
		t.Fatalf("claimed domain: %v", err)
	}

	var tenantsN, domainsN, idpsN int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM tenant_email_domains),
		(SELECT count(*) FROM identity_providers)`).Scan(&tenantsN, &domainsN, &idpsN); err != nil {
		t.Fatal(err)
	}
	if tenantsN != 1 || domainsN != 1 || idpsN != 1 {
		t.Fatalf("after refused registrations: %d tenants, %d domains, %d IdPs; want 1 each", tenantsN, domainsN, idpsN)
	}
}
