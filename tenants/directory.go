package tenants

import "context"

// Directory finds tenants for sign-in: the organization picker and
// home-realm discovery by email domain.
type Directory interface {
	// ListActive returns the active tenants ordered by display name.
	// It returns an error only when the store cannot be read.
	ListActive(ctx context.Context) ([]Tenant, error)
	// ByEmailDomain returns the tenant that owns domain (lower-case), or an
	// apperr.NotFound error when no tenant does.
	ByEmailDomain(ctx context.Context, domain string) (Tenant, error)
}
