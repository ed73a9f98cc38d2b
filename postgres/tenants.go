package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// TenantStore reads and writes tenants. It implements tenants.Directory.
type TenantStore struct {
	pool *pgxpool.Pool
	// Jobs, when set, enqueues the revocation of a suspended tenant's
	// grants in the suspension's transaction (set by the composition root).
	Jobs jobs.Inserter
}

// NewTenantStore returns a store over pool.
func NewTenantStore(pool *pgxpool.Pool) *TenantStore { return &TenantStore{pool: pool} }

// ListActive returns the active tenants ordered by display name.
func (s *TenantStore) ListActive(ctx context.Context) ([]tenants.Tenant, error) {
	rows, err := db.New(s.pool).ListTenantsWithDomains(ctx, string(tenants.StatusActive))
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The organization list cannot be read right now.", err)
	}
	out := make([]tenants.Tenant, 0, len(rows))
	for _, r := range rows {
		out = append(out, tenants.Tenant{Slug: r.Slug, DisplayName: r.DisplayName, EmailDomains: r.EmailDomains, Status: tenants.Status(r.Status)})
	}
	return out, nil
}

// ByEmailDomain returns the tenant owning domain, or an apperr.NotFound error.
func (s *TenantStore) ByEmailDomain(ctx context.Context, domain string) (tenants.Tenant, error) {
	r, err := db.New(s.pool).GetTenantByEmailDomain(ctx, domain)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.Tenant{}, apperr.New(apperr.NotFound, "No organization uses that email domain.")
	}
	if err != nil {
		return tenants.Tenant{}, apperr.Wrap(apperr.Unavailable, "Organizations cannot be looked up right now.", err)
	}
	return tenants.Tenant{Slug: r.Slug, DisplayName: r.DisplayName, EmailDomains: r.EmailDomains, Status: tenants.Status(r.Status)}, nil
}

// Register creates a tenant with its email domains, identity provider, role
// mappings and store binding in one transaction, as actor. A taken slug or
// email domain is an apperr.Conflict naming which; nothing is written then.
func (s *TenantStore) Register(ctx context.Context, reg tenants.Registration, actor string) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := insertTenant(ctx, q, reg.Tenant, actor)
		if err != nil {
			return err
		}
		idp := reg.IdP
		if err := q.UpsertIdentityProvider(ctx, db.UpsertIdentityProviderParams{
			TenantID: t.ID, IssuerUrl: idp.IssuerURL, ClientID: idp.ClientID, ClientSecretRef: idp.ClientSecretRef,
			Scopes: idp.Scopes, GroupsClaim: idp.GroupsClaim, RequireEmailVerified: idp.RequireEmailVerified,
			StepUpAcr: idp.StepUpACR, Actor: actor,
		}); err != nil {
			return fmt.Errorf("saving identity provider: %w", err)
		}
		for _, m := range reg.Mappings {
			if err := q.InsertRoleMapping(ctx, db.InsertRoleMappingParams{TenantID: t.ID, IdpGroup: m.Group, Role: string(m.Role)}); err != nil {
				return fmt.Errorf("saving role mapping: %w", err)
			}
		}
		if err := q.InsertStoreBinding(ctx, db.InsertStoreBindingParams{
			TenantID: t.ID, Kind: string(reg.Binding.Kind), Location: reg.Binding.Location, Actor: actor,
		}); err != nil {
			return fmt.Errorf("saving store binding: %w", err)
		}
		return nil
	})
}

// insertTenant inserts t and its email domains. A taken slug or domain is
// an apperr.Conflict naming which, with a field for the form.
func insertTenant(ctx context.Context, q *db.Queries, t tenants.Tenant, actor string) (db.Tenant, error) {
	row, err := q.InsertTenant(ctx, db.InsertTenantParams{
		Slug: t.Slug, DisplayName: t.DisplayName, Status: string(t.Status), Actor: actor,
	})
	if err != nil {
		return row, conflictOr(err, "tenants_slug_key", "slug", fmt.Sprintf("An organization with the slug %q exists already.", t.Slug))
	}
	for _, d := range t.EmailDomains {
		if err := q.InsertEmailDomain(ctx, db.InsertEmailDomainParams{Domain: d, TenantID: row.ID}); err != nil {
			return row, conflictOr(err, "tenant_email_domains_pkey", "email_domains", fmt.Sprintf("The email domain %s belongs to another organization.", d))
		}
	}
	return row, nil
}

// conflictOr turns a unique violation of constraint into an apperr.Conflict
// with msg (also as the message of field), and returns any other error as is.
func conflictOr(err error, constraint, field, msg string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint {
		return &apperr.Error{Code: apperr.Conflict, Message: msg, Fields: map[string]string{field: msg}, Err: err}
	}
	return err
}

// SetIdentityProvider replaces the identity provider of the tenant slug, as
// actor. It returns apperr.NotFound when there is no such tenant.
func (s *TenantStore) SetIdentityProvider(ctx context.Context, slug string, idp tenants.IdentityProvider, actor string) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		id, err := q.GetTenantIDBySlug(ctx, slug)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, fmt.Sprintf("There is no organization %q.", slug))
		}
		if err != nil {
			return err
		}
		return q.UpsertIdentityProvider(ctx, db.UpsertIdentityProviderParams{
			TenantID: id, IssuerUrl: idp.IssuerURL, ClientID: idp.ClientID, ClientSecretRef: idp.ClientSecretRef,
			Scopes: idp.Scopes, GroupsClaim: idp.GroupsClaim, RequireEmailVerified: idp.RequireEmailVerified,
			StepUpAcr: idp.StepUpACR, Actor: actor,
		})
	})
}
