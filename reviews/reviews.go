// Package reviews runs access review decisions: a kept item is recorded;
// a revoked one first cuts the access it stands for — a role mapping
// removed (and the sessions holding the role ended), a share revoked
// through the emergency revocation machinery, a resource's break-glass
// eligibility withdrawn — then the decision is recorded. The rules are in
// approvals; persistence in the postgres adapter.
package reviews

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
)

// Store is what the service needs of the stores.
type Store interface {
	ReviewItem(ctx context.Context, tenantID, campaignID, itemID string) (approvals.ReviewItem, error)
	RecordReviewDecision(ctx context.Context, tenantID, campaignID, itemID string, d approvals.ReviewDecision, note, actor string, meta audit.Meta) error
	Resource(ctx context.Context, tenantID, id string) (approvals.Resource, error)
	SetBreakGlass(ctx context.Context, tenantID, resourceID string, b approvals.BreakGlass, actor string, meta audit.Meta) error
	StartRevocation(ctx context.Context, sc approvals.Scope, v approvals.Viewer, reason, actor string, rotate bool, meta audit.Meta) (string, error)
}

// Service decides review items.
type Service struct {
	Store   Store
	Tenants tenants.Admin
}

// Decide records the decision on an open item of the tenant's campaign,
// revoking the item's access first when the decision is revoke. A refusal
// (say, removing the last tenant-admin mapping) leaves the item open.
func (s *Service) Decide(ctx context.Context, tenantID, campaignID, itemID string, d approvals.ReviewDecision, note, actor string, meta audit.Meta) error {
	if err := approvals.CheckReviewDecision(d, note); err != nil {
		return err
	}
	it, err := s.Store.ReviewItem(ctx, tenantID, campaignID, itemID)
	if err != nil {
		return err
	}
	if d == approvals.Revoke {
		if err := s.revoke(ctx, tenantID, it, note, actor, meta); err != nil {
			return err
		}
	}
	return s.Store.RecordReviewDecision(ctx, tenantID, campaignID, itemID, d, note, actor, meta)
}

func (s *Service) revoke(ctx context.Context, tenantID string, it approvals.ReviewItem, note, actor string, meta audit.Meta) error {
	switch it.Kind {
	case approvals.ItemRoleMapping:
		group, role, _ := strings.Cut(it.Ref, "\t")
		return s.Tenants.ChangeMapping(ctx, tenantID, false, tenants.RoleMapping{Group: group, Role: tenants.Role(role)}, actor, meta)
	case approvals.ItemShare:
		_, err := s.Store.StartRevocation(ctx, approvals.Scope{Kind: approvals.ScopeShare, Value: it.Ref}, approvals.Viewer{TenantID: tenantID},
			"Access review: "+note, actor, false, meta)
		return err
	case approvals.ItemBreakGlass:
		r, err := s.Store.Resource(ctx, tenantID, it.Ref)
		if err != nil {
			return err
		}
		b := r.BreakGlass
		b.Enabled = false
		return s.Store.SetBreakGlass(ctx, tenantID, it.Ref, b, actor, meta)
	}
	return nil
}
