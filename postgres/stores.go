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
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// BindingStore keeps tenants' cloud store bindings (settings only: the
// credentials are in Vault, at the binding's CredentialRef). Every query is
// scoped to the tenant: another tenant's binding is not found.
type BindingStore struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewBindingStore returns the binding store over pool.
func NewBindingStore(pool *pgxpool.Pool, now func() time.Time) *BindingStore {
	return &BindingStore{pool: pool, now: now}
}

var errNoStoreBinding = apperr.New(apperr.NotFound, "There is no such store binding in your organization.")

// Add records a validated binding (its ID and CredentialRef set by the
// caller, its credentials already in Vault), audited. A location bound
// already (by any tenant) is apperr.Conflict.
func (s *BindingStore) Add(ctx context.Context, b tenants.CloudBinding, actor string, meta audit.Meta) error {
	id, err := uuid.Parse(b.ID)
	if err != nil {
		return fmt.Errorf("binding id: %w", err)
	}
	tid, err := uuid.Parse(b.TenantID)
	if err != nil {
		return errNoStoreBinding
	}
	settings, err := json.Marshal(b.Settings)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		err := q.InsertCloudBinding(ctx, db.InsertCloudBindingParams{ID: id, TenantID: tid, Kind: string(b.Kind), Location: b.Location(),
			Name: b.Name, Settings: settings, CredentialRef: b.CredentialRef, Actor: actor})
		if err != nil {
			return conflictOr(err, "store_bindings_kind_location_key", "location", "That store location is bound already.")
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{
			TenantID: b.TenantID, Actor: actor, Action: "store.bound", Target: string(b.Kind) + " " + b.Location(), Outcome: audit.Success,
		}))
	})
}

// List returns the tenant's cloud bindings by name.
func (s *BindingStore) List(ctx context.Context, tenantID string) ([]tenants.CloudBinding, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, nil
	}
	rows, err := db.New(s.pool).ListCloudBindings(ctx, tid)
	if err != nil {
		return nil, err
	}
	out := make([]tenants.CloudBinding, 0, len(rows))
	for _, r := range rows {
		b, err := bindingFrom(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Get returns one of the tenant's cloud bindings, or apperr.NotFound.
func (s *BindingStore) Get(ctx context.Context, tenantID, id string) (tenants.CloudBinding, error) {
	tid, bid, err := parseIDs(tenantID, id, errNoStoreBinding)
	if err != nil {
		return tenants.CloudBinding{}, err
	}
	r, err := db.New(s.pool).GetCloudBinding(ctx, db.GetCloudBindingParams{ID: bid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.CloudBinding{}, errNoStoreBinding
	}
	if err != nil {
		return tenants.CloudBinding{}, err
	}
	return bindingFrom(r)
}

// RecordCheck records a connection test's outcome (checkErr "" passed),
// audited.
func (s *BindingStore) RecordCheck(ctx context.Context, tenantID, id, checkErr, actor string, meta audit.Meta) error {
	tid, bid, err := parseIDs(tenantID, id, errNoStoreBinding)
	if err != nil {
		return err
	}
	outcome, detail := audit.Success, map[string]string(nil)
	if checkErr != "" {
		outcome, detail = audit.Failure, map[string]string{"error": checkErr}
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.RecordBindingCheck(ctx, db.RecordBindingCheckParams{ID: bid, TenantID: tid,
			CheckedAt: pgtype.Timestamptz{Time: s.now(), Valid: true}, CheckError: checkErr}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{
			TenantID: tenantID, Actor: actor, Action: "store.checked", Target: id, Outcome: outcome, Detail: detail,
		}))
	})
}

func bindingFrom(r db.StoreBinding) (tenants.CloudBinding, error) {
	b := tenants.CloudBinding{ID: r.ID.String(), TenantID: r.TenantID.String(), Name: r.Name, Kind: tenants.StoreKind(r.Kind),
		CredentialRef: r.CredentialRef, CheckedAt: r.CheckedAt.Time, CheckError: r.CheckError}
	if err := json.Unmarshal(r.Settings, &b.Settings); err != nil {
		return b, fmt.Errorf("binding settings: %w", err)
	}
	return b, nil
}

// cloudBinding returns the kind and location of the tenant's cloud binding
// id, or apperr.Invalid naming the field when there is none.
func cloudBinding(ctx context.Context, q *db.Queries, tenantID uuid.UUID, id string) (struct{ Kind, Location string }, error) {
	var out struct{ Kind, Location string }
	bid, err := uuid.Parse(id)
	if err != nil {
		return out, apperr.InvalidFields("The resource needs correcting.", map[string]string{"binding": "Pick one of your organization's store bindings."})
	}
	r, err := q.GetCloudBinding(ctx, db.GetCloudBindingParams{ID: bid, TenantID: tenantID})
	if errors.Is(err, pgx.ErrNoRows) {
		return out, apperr.InvalidFields("The resource needs correcting.", map[string]string{"binding": "Pick one of your organization's store bindings."})
	}
	if err != nil {
		return out, err
	}
	out.Kind, out.Location = r.Kind, r.Location
	return out, nil
}

// storeKind is the store_kind column of a resource.
func storeKind(r approvals.Resource) string {
	if r.StoreKind == "" {
		return string(tenants.StoreVaultKV2)
	}
	return r.StoreKind
}

// bindingRef is the binding_id column of a resource (NULL for Vault).
func bindingRef(id string) pgtype.UUID {
	u, err := uuid.Parse(id)
	if err != nil {
		return pgtype.UUID{}
	}
	return pgUUID(u)
}
