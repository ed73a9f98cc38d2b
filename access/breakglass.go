package access

import (
	"context"
	"log/slog"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
)

// Emergency is the outcome of breaking glass.
type Emergency struct {
	RequestID string
	Issued    bool // false: Vault could not issue yet; the backstop job retries
}

// BreakGlass gives the responder emergency access to the resource: the
// rules are checked and the grant recorded — with the urgent notices to
// everyone responsible and the audit event — in one transaction, then the
// credential is issued at once through the same minting path as
// just-in-time grants (jobs.Issue). When Vault cannot issue right now the
// grant stays issuing and its backstop job retries; nothing is lost.
// fresh says whether the session is a recent forced re-authentication.
// Refusals are the store's apperr errors (audited there).
func (s *Service) BreakGlass(ctx context.Context, h Holder, resourceID string, e approvals.Emergency, fresh bool, meta audit.Meta) (Emergency, error) {
	t, err := s.Store.BreakGlass(ctx, h.TenantID, resourceID, h.Person, e, fresh, meta)
	if err != nil {
		return Emergency{}, err
	}
	return s.issueEmergency(ctx, t), nil
}

// BreakGlassShared is BreakGlass on a resource shared with the holder's
// organization under shareID (the store's BreakGlassShared: the share's
// terms apply, and the owner organization is told too).
func (s *Service) BreakGlassShared(ctx context.Context, h Holder, shareID, resourceID string, e approvals.Emergency, fresh bool, meta audit.Meta) (Emergency, error) {
	t, err := s.Store.BreakGlassShared(ctx, h.TenantID, shareID, resourceID, h.Person, e, fresh, meta)
	if err != nil {
		return Emergency{}, err
	}
	return s.issueEmergency(ctx, t), nil
}

// issueEmergency issues the recorded break-glass grant t at once; when
// Vault cannot, its backstop job retries.
func (s *Service) issueEmergency(ctx context.Context, t jobs.GrantTarget) Emergency {
	if err := jobs.Issue(ctx, s.Store, s.Vault, t, s.Now()); err != nil {
		if s.Log != nil {
			s.Log.Warn("break-glass issuance deferred to its job", slog.String("request", t.RequestID), slog.String("error", err.Error()))
		}
		return Emergency{RequestID: t.RequestID}
	}
	return Emergency{RequestID: t.RequestID, Issued: true}
}
