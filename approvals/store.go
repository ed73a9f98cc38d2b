package approvals

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/paging"
)

// Store keeps the catalog, requests and decisions (implemented by the
// postgres adapter). Every method is scoped to the tenant ID of the
// caller's session; another tenant's object is apperr.NotFound.
type Store interface {
	// Catalog returns the tenant's catalog: its resources not retired.
	Catalog(ctx context.Context, tenantID string) ([]Resource, error)
	// Resource returns one of the tenant's resources, retired or not
	// (Resource.Retired says): for admins' pages and jobs.
	Resource(ctx context.Context, tenantID, id string) (Resource, error)
	// Requestable returns one of the tenant's resources in the catalog:
	// apperr.NotFound for a retired one, as for a missing one.
	Requestable(ctx context.Context, tenantID, id string) (Resource, error)
	AddResource(ctx context.Context, tenantID string, r Resource, actor string, meta audit.Meta) (string, error)
	// EditResource changes a resource's details by EditDetails, audited
	// (resource.updated, naming each field changed) in the same
	// transaction; apperr.Invalid for bad details, nothing changed then.
	EditResource(ctx context.Context, tenantID, id string, d ResourceDetails, actor string, meta audit.Meta) error
	// RetiredResources returns the tenant's retired resources, most
	// recently retired first.
	RetiredResources(ctx context.Context, tenantID string) ([]Resource, error)
	// ResourceInUse counts what keeps a resource from being retired.
	ResourceInUse(ctx context.Context, tenantID, id string) (InUse, error)
	// RetireResource takes a resource out of the catalog when CheckRetire
	// allows (apperr.Invalid or apperr.Conflict otherwise), audited
	// (resource.retired) in the same transaction, ordered against every
	// path creating access to it.
	RetireResource(ctx context.Context, tenantID, id, confirm, reason, actor string, meta audit.Meta) error
	// RestoreResource puts a retired resource back in the catalog with
	// reason as CheckRestore allows (apperr.Invalid or apperr.Conflict
	// otherwise), audited (resource.restored) in the same transaction.
	RestoreResource(ctx context.Context, tenantID, id, reason, actor string, meta audit.Meta) error
	// SetPolicy gives a resource its own policy (it no longer follows its
	// classification's), audited.
	SetPolicy(ctx context.Context, tenantID, resourceID string, p Policy, actor string, meta audit.Meta) error
	// FollowClassPolicy makes a resource carry its classification's policy
	// from now on, audited; apperr.Invalid when the tenant has none for it.
	FollowClassPolicy(ctx context.Context, tenantID, resourceID, actor string, meta audit.Meta) error
	// ClassPolicies returns the tenant's policy for each classification, in
	// the order of Classifications.
	ClassPolicies(ctx context.Context, tenantID string) ([]ClassPolicy, error)
	// SetClassPolicy sets the tenant's policy for a classification and, in
	// the same transaction, on every resource that follows it, each change
	// audited. It returns how many resources follow it. Pending requests
	// keep their snapshots.
	SetClassPolicy(ctx context.Context, tenantID string, c Classification, p Policy, actor string, meta audit.Meta) (int, error)
	VaultMount(ctx context.Context, tenantID string) (string, error)
	Submit(ctx context.Context, tenantID, resourceID string, who Person, sub Submission, meta audit.Meta) (string, error)
	// RequestsOf returns one page of the requests the subject of the
	// tenant made as q asks, newest first, and where the next page
	// starts; an invalid q is apperr.Invalid.
	RequestsOf(ctx context.Context, tenantID, subject string, q paging.Query) (paging.Page[Summary], error)
	// ActiveGrantsOf returns every active grant of the subject of the
	// tenant, newest first; apperr.Unavailable when they cannot be read.
	ActiveGrantsOf(ctx context.Context, tenantID, subject string) ([]Summary, error)
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
