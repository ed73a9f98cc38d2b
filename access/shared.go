package access

import (
	"context"
	"log/slog"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
)

// RequestShared asks for access to a resource shared with the holder's
// organization. Under a pre-approved share the credential is issued at
// once through the same minting path as every grant (jobs.Issue; when
// Vault cannot issue right now, its backstop job retries); under a
// per-access share the request waits for the share's approvers. It returns
// the request's ID; refusals are the store's apperr errors.
func (s *Service) RequestShared(ctx context.Context, h Holder, shareID, resourceID string, sub approvals.Submission, meta audit.Meta) (string, error) {
	id, t, err := s.Store.RequestShared(ctx, h.TenantID, shareID, resourceID, h.Person, sub, meta)
	if err != nil || t == nil {
		return id, err
	}
	if err := jobs.Issue(ctx, s.Store, s.Vault, *t, s.Now()); err != nil && s.Log != nil {
		s.Log.Warn("shared grant issuance deferred to its job", slog.String("request", id), slog.String("error", err.Error()))
	}
	return id, nil
}
