package tenants

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/audit"
)

// Member is a person who has signed in to a tenant.
type Member struct {
	Subject   string
	Email     string
	Name      string
	Groups    []string
	Roles     []Role // as of their last sign-in
	FirstSeen time.Time
	LastLogin time.Time
	Sessions  int64 // active in the window asked for
}

// Admin is what a tenant admin manages of their own tenant. Every method
// is scoped to one tenant ID, taken from the admin's session.
type Admin interface {
	// Mappings returns the tenant's group → role mappings.
	Mappings(ctx context.Context, tenantID string) ([]RoleMapping, error)
	// ChangeMapping adds (add=true) or removes m, keeping CheckMappings
	// true, audited as actor. It returns CheckMappings' error, or
	// apperr.NotFound when removing a mapping that does not exist.
	ChangeMapping(ctx context.Context, tenantID string, add bool, m RoleMapping, actor string, meta audit.Meta) error
	// Members returns everyone who has signed in to the tenant, with their
	// sessions active in w.
	Members(ctx context.Context, tenantID string, w SessionWindow) ([]Member, error)
}

// SessionWindow is when a session counts as active: not past its absolute
// timeout at Now, and seen at or after IdleSince (Now less the idle
// timeout). Session counts take one, so rows that ended but are not yet
// swept are never counted as open.
type SessionWindow struct {
	Now       time.Time
	IdleSince time.Time
}
