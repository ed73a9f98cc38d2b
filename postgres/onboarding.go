package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// StartOnboarding creates the tenant t in status onboarding with its email
// domains and an empty wizard, audited. A taken slug or domain is an
// apperr.Conflict with the field named; nothing is written then.
func (s *TenantStore) StartOnboarding(ctx context.Context, t tenants.Tenant, actor string, meta audit.Meta) error {
	t.Status = tenants.StatusOnboarding
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := insertTenant(ctx, q, t, actor)
		if err != nil {
			return err
		}
		if err := q.InsertOnboarding(ctx, db.InsertOnboardingParams{TenantID: row.ID, Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, time.Now(), meta.Stamp(audit.Event{
			TenantID: row.ID.String(), Actor: actor, Action: "onboarding.started", Target: t.Slug, Outcome: audit.Success,
		}))
	})
}

// Onboarding returns the wizard state of the tenant slug, or apperr.NotFound
// when there is no such tenant or it never went through the wizard.
func (s *TenantStore) Onboarding(ctx context.Context, slug string) (tenants.Onboarding, error) {
	return loadOnboarding(ctx, db.New(s.pool), slug)
}

func loadOnboarding(ctx context.Context, q *db.Queries, slug string) (tenants.Onboarding, error) {
	r, err := q.GetOnboarding(ctx, slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.Onboarding{}, apperr.New(apperr.NotFound, fmt.Sprintf("There is no organization %q being onboarded.", slug))
	}
	if err != nil {
		return tenants.Onboarding{}, err
	}
	o := tenants.Onboarding{
		TenantID:  r.ID.String(),
		Tenant:    tenants.Tenant{Slug: r.Slug, DisplayName: r.DisplayName, EmailDomains: r.EmailDomains, Status: tenants.Status(r.Status)},
		IssuerURL: r.IssuerUrl, ClientID: r.ClientID,
		Settings: tenants.IdPSettings{Scopes: r.Scopes, GroupsClaim: r.GroupsClaim, RequireEmailVerified: r.RequireEmailVerified, StepUpACR: r.StepUpAcr}, ClientSecretRef: r.ClientSecretRef,
		ClientVerified: r.ClientVerifiedAt.Valid, VaultMount: r.VaultMount, VaultReady: r.VaultReadyAt.Valid,
	}
	if err := json.Unmarshal(r.Endpoints, &o.Endpoints); err != nil {
		return o, fmt.Errorf("onboarding endpoints: %w", err)
	}
	if o.Mappings, err = listMappings(ctx, q, r.ID); err != nil {
		return o, err
	}
	if r.TestAt.Valid {
		o.Test = &tenants.TestSignIn{Email: r.TestEmail, Groups: r.TestGroups, At: r.TestAt.Time}
		for _, x := range r.TestRoles {
			o.Test.Roles = append(o.Test.Roles, tenants.Role(x))
		}
	}
	return o, nil
}

// SaveStep records the result of wizard step step from o for the tenant
// slug, under the tenant's row lock, audited. It fails with the domain's
// apperr when the step is not reachable yet (or any more).
func (s *TenantStore) SaveStep(ctx context.Context, slug string, step tenants.Step, o tenants.Onboarding, actor string, meta audit.Meta) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		cur, err := loadOnboarding(ctx, q, slug)
		if err != nil {
			return err
		}
		if err := cur.CheckReachable(step); err != nil {
			return err
		}
		id := uuid.MustParse(cur.TenantID)
		now := time.Now()
		detail := map[string]string{}
		switch step {
		case tenants.StepIssuer:
			eps, _ := json.Marshal(o.Endpoints)
			err = q.SaveOnboardingIssuer(ctx, db.SaveOnboardingIssuerParams{TenantID: id, IssuerUrl: o.IssuerURL, Endpoints: eps,
				Scopes: o.Settings.Scopes, GroupsClaim: o.Settings.GroupsClaim, RequireEmailVerified: o.Settings.RequireEmailVerified,
				StepUpAcr: o.Settings.StepUpACR, Actor: actor})
			detail["issuer"] = o.IssuerURL
		case tenants.StepClient:
			err = q.SaveOnboardingClient(ctx, db.SaveOnboardingClientParams{TenantID: id, ClientID: o.ClientID,
				ClientSecretRef: o.ClientSecretRef, VerifiedAt: pgtype.Timestamptz{Time: now, Valid: o.ClientVerified}, Actor: actor})
			detail["client_id"] = o.ClientID
		case tenants.StepMappings:
			if err = tenants.CheckMappings(slug, o.Mappings); err != nil {
				return err
			}
			if err = q.DeleteRoleMappings(ctx, id); err != nil {
				return err
			}
			for _, m := range o.Mappings {
				if err = q.InsertRoleMapping(ctx, db.InsertRoleMappingParams{TenantID: id, IdpGroup: m.Group, Role: string(m.Role)}); err != nil {
					return err
				}
			}
			detail["mappings"] = fmt.Sprint(len(o.Mappings))
		case tenants.StepVault:
			err = q.SaveOnboardingVault(ctx, db.SaveOnboardingVaultParams{TenantID: id, VaultMount: o.VaultMount,
				ReadyAt: pgtype.Timestamptz{Time: now, Valid: o.VaultReady}, Actor: actor})
			detail["mount"] = o.VaultMount
		case tenants.StepTestSignIn:
			roles := make([]string, len(o.Test.Roles))
			for i, r := range o.Test.Roles {
				roles[i] = string(r)
			}
			err = q.SaveOnboardingTest(ctx, db.SaveOnboardingTestParams{TenantID: id, Email: o.Test.Email,
				Groups: nonNil(o.Test.Groups), Roles: roles, At: pgtype.Timestamptz{Time: o.Test.At, Valid: true}, Actor: actor})
			detail["tested_as"] = o.Test.Email
		default:
			return apperr.New(apperr.Invalid, "Unknown step.")
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{
			TenantID: cur.TenantID, Actor: actor, Action: "onboarding.step", Target: slug + ": " + tenants.StepNames()[step-1],
			Outcome: audit.Success, Detail: detail,
		}))
	})
}

// Activate completes the wizard: the IdP and store binding recorded in it
// become the tenant's, and the tenant turns active, audited. It fails with
// apperr.Conflict when a step is incomplete.
func (s *TenantStore) Activate(ctx context.Context, slug, actor string, meta audit.Meta) error {
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		o, err := loadOnboarding(ctx, q, slug)
		if err != nil {
			return err
		}
		if err := o.CheckReachable(tenants.StepActivate); err != nil {
			return err
		}
		id := uuid.MustParse(o.TenantID)
		if err := q.UpsertIdentityProvider(ctx, db.UpsertIdentityProviderParams{
			TenantID: id, IssuerUrl: o.IssuerURL, ClientID: o.ClientID, ClientSecretRef: o.ClientSecretRef,
			Scopes: o.Settings.Scopes, GroupsClaim: o.Settings.GroupsClaim, RequireEmailVerified: o.Settings.RequireEmailVerified,
			StepUpAcr: o.Settings.StepUpACR, Actor: actor,
		}); err != nil {
			return err
		}
		if err := q.InsertStoreBinding(ctx, db.InsertStoreBindingParams{TenantID: id, Kind: string(tenants.StoreVaultKV2), Location: o.VaultMount, Actor: actor}); err != nil {
			return err
		}
		if err := q.UpdateTenantStatus(ctx, db.UpdateTenantStatusParams{ID: id, Status: string(tenants.StatusActive), Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, time.Now(), meta.Stamp(audit.Event{
			TenantID: o.TenantID, Actor: actor, Action: "tenant.activated", Target: slug, Outcome: audit.Success,
		}))
	})
}
