package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// Overview lists every tenant with its IdP state and its sessions active
// in w.
func (s *TenantStore) Overview(ctx context.Context, w tenants.SessionWindow) ([]tenants.Overview, error) {
	rows, err := db.New(s.pool).ListTenantsOverview(ctx, db.ListTenantsOverviewParams{Now: w.Now, IdleSince: w.IdleSince})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The organization list cannot be read right now.", err)
	}
	out := make([]tenants.Overview, 0, len(rows))
	for _, r := range rows {
		out = append(out, tenants.Overview{
			Tenant:    tenants.Tenant{Slug: r.Slug, DisplayName: r.DisplayName, EmailDomains: r.EmailDomains, Status: tenants.Status(r.Status)},
			IssuerURL: r.IssuerUrl.String, IdPEnabled: r.IdpStatus.String == "enabled", Sessions: r.Sessions,
		})
	}
	return out, nil
}

// ApplyKillSwitch applies k to the tenant slug in one transaction: the
// tenant row is locked, the rule checked against its current state, the
// status changed, its sessions deleted when k cuts it off, and the action
// audited with reason and the number of sessions ended. It returns that
// number, or the rule's apperr (nothing changes then).
func (s *TenantStore) ApplyKillSwitch(ctx context.Context, slug string, k tenants.KillSwitch, reason, actor string, meta audit.Meta) (int64, error) {
	var ended int64
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		st, err := q.LockTenantState(ctx, slug)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, fmt.Sprintf("There is no organization %q.", slug))
		}
		if err != nil {
			return err
		}
		if err := tenants.CheckKillSwitch(k, slug, tenants.Status(st.Status), st.IdpStatus == "enabled", reason); err != nil {
			return err
		}
		switch k {
		case tenants.Suspend:
			err = q.UpdateTenantStatus(ctx, db.UpdateTenantStatusParams{ID: st.ID, Status: string(tenants.StatusSuspended), Actor: actor})
		case tenants.Reactivate:
			err = q.UpdateTenantStatus(ctx, db.UpdateTenantStatusParams{ID: st.ID, Status: string(tenants.StatusActive), Actor: actor})
		case tenants.DisableIdP:
			err = q.UpdateIdPStatus(ctx, db.UpdateIdPStatusParams{TenantID: st.ID, Status: "disabled", Actor: actor})
		case tenants.EnableIdP:
			err = q.UpdateIdPStatus(ctx, db.UpdateIdPStatusParams{TenantID: st.ID, Status: "enabled", Actor: actor})
		}
		if err != nil {
			return err
		}
		if k.Ends() {
			if ended, err = q.DeleteTenantSessions(ctx, st.ID); err != nil {
				return err
			}
		}
		if k == tenants.Suspend && s.Jobs != nil { // its members' grants end too, shared ones included
			if _, err := s.Jobs.InsertTx(ctx, tx, jobs.RevokeTenantGrantsArgs{TenantID: st.ID.String()}, nil); err != nil {
				return fmt.Errorf("enqueueing the revocation of the tenant's grants: %w", err)
			}
		}
		return appendAudit(ctx, q, time.Now(), meta.Stamp(audit.Event{
			TenantID: st.ID.String(), Actor: actor, Action: k.AuditAction(), Target: slug, Outcome: audit.Success,
			Detail: map[string]string{"reason": reason, "sessions_ended": strconv.FormatInt(ended, 10)},
		}))
	})
	return ended, err
}
