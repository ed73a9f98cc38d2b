package tenants

import (
	"context"

	"github.com/gatehouse/gatehouse/audit"
)

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

// Registry is the platform operators' view of every tenant.
type Registry interface {
	// Overview lists every tenant, with its sessions active in w; an error
	// only when the store cannot be read.
	Overview(ctx context.Context, w SessionWindow) ([]Overview, error)
	// ApplyKillSwitch applies k to the tenant slug as actor, auditing it with
	// reason, and returns how many sessions it ended. It returns the apperr
	// of CheckKillSwitch, or apperr.NotFound, and then changes nothing.
	ApplyKillSwitch(ctx context.Context, slug string, k KillSwitch, reason, actor string, meta audit.Meta) (int64, error)
}
