package approvals

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/audit"
)

// Store keeps the catalog, requests and decisions (implemented by the
// postgres adapter). Every method is scoped to the tenant ID of the
// caller's session; another tenant's object is apperr.NotFound.
type Store interface {
	Catalog(ctx context.Context, tenantID string) ([]Resource, error)
	Resource(ctx context.Context, tenantID, id string) (Resource, error)
	AddResource(ctx context.Context, tenantID string, r Resource, actor string, meta audit.Meta) (string, error)
	SetPolicy(ctx context.Context, tenantID, resourceID string, p Policy, actor string, meta audit.Meta) error
	VaultMount(ctx context.Context, tenantID string) (string, error)
	Submit(ctx context.Context, tenantID, resourceID string, who Person, sub Submission, meta audit.Meta) (string, error)
	RequestsOf(ctx context.Context, tenantID, subject string) ([]Summary, error)
	// Inbox lists, oldest first, up to limit pending requests p may decide
	// now (Request.Eligible), and how many there are in all (limit 0: the
	// count only).
	Inbox(ctx context.Context, tenantID string, p Person, limit int) ([]Detail, int, error)
	Detail(ctx context.Context, tenantID, id string) (Detail, error)
	Decide(ctx context.Context, tenantID, id string, approver Person, approve bool, comment string, shorten time.Duration, meta audit.Meta) (State, error)
	Cancel(ctx context.Context, tenantID, id string, who Person, meta audit.Meta) error
	// RetryIssuing moves a request whose issuing failed back to issuing and
	// enqueues its grant job again, audited. Only its requester or a tenant
	// admin of the resource's organization may; apperr.Conflict unless the
	// request failed.
	RetryIssuing(ctx context.Context, tenantID, id string, who Person, meta audit.Meta) error
	People(ctx context.Context, tenantID string) ([]Person, error)
	// OwnedElsewhere reports whether id ("request", "resource" or "share") belongs to
	// another tenant, so a cross-tenant probe can be audited.
	OwnedElsewhere(ctx context.Context, kind, tenantID, id string) (bool, error)
}
