package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// Mappings returns the tenant's group → role mappings.
func (s *TenantStore) Mappings(ctx context.Context, tenantID string) ([]tenants.RoleMapping, error) {
	id, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, apperr.Wrap(apperr.NotFound, "No such organization.", err)
	}
	return listMappings(ctx, db.New(s.pool), id)
}

func listMappings(ctx context.Context, q *db.Queries, id uuid.UUID) ([]tenants.RoleMapping, error) {
	rows, err := q.ListRoleMappings(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]tenants.RoleMapping, 0, len(rows))
	for _, r := range rows {
		out = append(out, tenants.RoleMapping{Group: r.IdpGroup, Role: tenants.Role(r.Role)})
	}
	return out, nil
}

// ChangeMapping adds or removes one mapping under the tenant's row lock, so
// two admins removing the last two tenant-admin mappings at once cannot
// both succeed. The change and its audit event commit together.
func (s *TenantStore) ChangeMapping(ctx context.Context, tenantID string, add bool, m tenants.RoleMapping, actor string, meta audit.Meta) error {
	id, err := uuid.Parse(tenantID)
	if err != nil {
		return apperr.Wrap(apperr.NotFound, "No such organization.", err)
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		slug, err := q.LockTenantByID(ctx, id)
		if err != nil {
			return err
		}
		current, err := listMappings(ctx, q, id)
		if err != nil {
			return err
		}
		next, action := append(current, m), "role_mapping.added"
		if !add {
			action, next = "role_mapping.removed", nil
			found := false
			for _, c := range current {
				if c == m {
					found = true
					continue
				}
				next = append(next, c)
			}
			if !found {
				return apperr.New(apperr.NotFound, "That mapping does not exist (any more).")
			}
		}
		if err := tenants.CheckMappings(slug, next); err != nil {
			return err
		}
		if add {
			err = q.InsertRoleMapping(ctx, db.InsertRoleMappingParams{TenantID: id, IdpGroup: m.Group, Role: string(m.Role)})
		} else {
			_, err = q.DeleteRoleMapping(ctx, db.DeleteRoleMappingParams{TenantID: id, IdpGroup: m.Group, Role: string(m.Role)})
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, q, time.Now(), meta.Stamp(audit.Event{
			TenantID: tenantID, Actor: actor, Action: action, Target: m.Group + " → " + string(m.Role), Outcome: audit.Success,
		}))
	})
}

// Members returns everyone who has signed in to the tenant, by email, with
// their sessions active in w.
func (s *TenantStore) Members(ctx context.Context, tenantID string, w tenants.SessionWindow) ([]tenants.Member, error) {
	id, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, apperr.Wrap(apperr.NotFound, "No such organization.", err)
	}
	rows, err := db.New(s.pool).ListMembers(ctx, db.ListMembersParams{TenantID: id, Now: w.Now, IdleSince: w.IdleSince})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "Members cannot be listed right now.", err)
	}
	out := make([]tenants.Member, 0, len(rows))
	for _, r := range rows {
		m := tenants.Member{Subject: r.Subject, Email: r.Email, Name: r.DisplayName, Groups: r.Groups,
			FirstSeen: r.FirstSeenAt, LastLogin: r.LastLoginAt, Sessions: r.Sessions}
		for _, x := range r.Roles {
			m.Roles = append(m.Roles, tenants.Role(x))
		}
		out = append(out, m)
	}
	return out, nil
}
