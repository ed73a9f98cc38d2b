package postgres

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// A revocation's block can make shares unusable without ending them (a
// frozen tenant's, a killed IdP's people's, a revoked resource's): the
// organizations on their other side are told, grant or no grant.

// sharePartners returns the organizations on the other side of the shares
// the scope blocks, with how many each (see the SharePartners query): for
// a tenant, an IdP or a resource. A share scope's two sides are its scope
// tenants already; a grant or a person blocks no share as such.
func sharePartners(ctx context.Context, q *db.Queries, sc approvals.Scope, tenant uuid.UUID) ([]db.SharePartnersRow, error) {
	switch sc.Kind {
	case approvals.ScopeTenant, approvals.ScopeIdP, approvals.ScopeResource:
		return q.SharePartners(ctx, db.SharePartnersParams{Kind: string(sc.Kind), Value: sc.Value, TenantID: tenant})
	}
	return nil, nil
}

// partnerNote tells a share partner of the scope what the block means for
// its n shares with the scope's organization.
func partnerNote(kind approvals.ScopeKind, n int) string {
	shares := strconv.Itoa(n) + " share(s)"
	switch kind {
	case approvals.ScopeIdP:
		return "Its people cannot use the " + shares + " your organization offers them until the block is lifted."
	case approvals.ScopeResource:
		return "The resource cannot be reached under the " + shares + " your organization receives until the block is lifted."
	}
	return "Your organization's " + shares + " with it cannot be used until the block is lifted."
}
