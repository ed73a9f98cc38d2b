package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// revocationLock orders access against revocations: every transaction
// that grants access takes it shared as its first lock (accessTx), and
// starting a revocation takes it exclusively. So a revocation's block, once
// committed, is seen by every later access, and every access committed
// before it is seen by the revocation's run. Taking it first everywhere
// keeps lock order consistent (no deadlock with row locks).
const revocationLock = 7202611

// accessTx runs fn in a transaction that grants or uses access (see
// revocationLock): it takes the revocation lock shared as the
// transaction's first statement, before fn runs any query or takes any row
// lock, so lock order is the same on every access path and a revocation's
// block committed before the lock was granted is seen by fn. fn gets the
// queries and the transaction; the transaction commits when fn returns nil
// and rolls back otherwise. It returns fn's error, the lock's or the
// commit's.
func accessTx(ctx context.Context, pool *pgxpool.Pool, fn func(q *db.Queries, tx pgx.Tx) error) error {
	return InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := lockBlocksShared(ctx, tx); err != nil {
			return err
		}
		return fn(db.New(tx), tx)
	})
}

func lockBlocksShared(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", revocationLock)
	return err
}

func lockBlocksExclusive(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", revocationLock)
	return err
}

// blockKey is what identifies an access for the revocation blocks.
type blockKey struct {
	Tenant          uuid.UUID // the resource's
	RequesterTenant uuid.UUID // the person's (the resource's when zero)
	Email           string
	Resource        uuid.UUID
	Share           pgtype.UUID
	Request         uuid.UUID // zero for a new request
}

// blocked returns approvals.ErrBlocked when an unlifted revocation covers k.
func blocked(ctx context.Context, q *db.Queries, k blockKey) error {
	if k.RequesterTenant == uuid.Nil {
		k.RequesterTenant = k.Tenant
	}
	p := db.BlockedParams{TenantID: k.Tenant, RequesterTenantID: k.RequesterTenant, Email: k.Email, ResourceID: k.Resource.String()}
	if k.Share.Valid {
		p.ShareID = uuid.UUID(k.Share.Bytes).String()
	}
	if k.Request != uuid.Nil {
		p.RequestID = k.Request.String()
	}
	b, err := q.Blocked(ctx, p)
	if err != nil {
		return err
	}
	if b {
		return approvals.ErrBlocked
	}
	return nil
}

func uuidOr(u pgtype.UUID) uuid.UUID {
	if !u.Valid {
		return uuid.Nil
	}
	return uuid.UUID(u.Bytes)
}

// CheckNotBlocked returns approvals.ErrBlocked when an unlifted revocation
// covers the request d (checked before a reveal reads anything).
func (s *RequestStore) CheckNotBlocked(ctx context.Context, d approvals.Detail) error {
	k, err := blockKeyOf(d)
	if err != nil {
		return err
	}
	return blocked(ctx, db.New(s.pool), k)
}

// RecordReveal audits a reveal of d's secret (evs) after the value was
// read, under the revocation lock: when a revocation covering d committed
// since CheckNotBlocked, it returns approvals.ErrBlocked and records
// nothing, and the caller must not show the value.
func (s *RequestStore) RecordReveal(ctx context.Context, d approvals.Detail, evs ...audit.Event) error {
	k, err := blockKeyOf(d)
	if err != nil {
		return err
	}
	return accessTx(ctx, s.pool, func(q *db.Queries, _ pgx.Tx) error {
		if err := blocked(ctx, q, k); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), evs...)
	})
}

// blockKeyOf is the block key of the request d.
func blockKeyOf(d approvals.Detail) (blockKey, error) {
	k := blockKey{Email: d.Requester.Email}
	var err error
	if k.Tenant, err = uuid.Parse(d.TenantID); err != nil {
		return k, errNoRequest
	}
	k.RequesterTenant, _ = uuid.Parse(d.RequesterTenant)
	k.Resource, _ = uuid.Parse(d.ResourceID)
	k.Request, _ = uuid.Parse(d.ID)
	if sh, err := uuid.Parse(d.ShareID); err == nil {
		k.Share = pgUUID(sh)
	}
	return k, nil
}
