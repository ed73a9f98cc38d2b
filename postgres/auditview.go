package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// AuditLog reads the audit trail for the console: a tenant's events (every
// tenant's for platform operators) and the verifications of the chains.
type AuditLog struct {
	pool        *pgxpool.Pool
	now         func() time.Time
	checkpoints CheckpointSource
}

// CheckpointSource reads the latest external checkpoints (Vault's anchor).
type CheckpointSource func(ctx context.Context) ([]audit.Checkpoint, error)

// NewAuditLog returns the reader over pool; verifications also check the
// chains against source's checkpoints when source is not nil.
func NewAuditLog(pool *pgxpool.Pool, now func() time.Time, source CheckpointSource) *AuditLog {
	return &AuditLog{pool: pool, now: now, checkpoints: source}
}

// Search returns up to limit events matching f, newest first, from the
// tenant's trail (every trail when every is set). Paging is by the keyset
// f.Before, and only the filters given become predicates (the statement is
// built for them), so each filter can use its index: a page costs the same
// at millions of events. An actor filter that is a whole email matches that
// person exactly (indexed); anything else matches a part of the actor.
func (l *AuditLog) Search(ctx context.Context, tenantID string, every bool, f audit.Filter, limit int) ([]audit.Entry, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	tid, _ := uuid.Parse(tenantID)
	if !every && tid == uuid.Nil {
		return nil, apperr.New(apperr.Forbidden, "No audit trail to show.")
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !every {
		where = append(where, "tenant_id = "+arg(tid))
	}
	if f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	if a := strings.TrimSpace(f.Actor); a != "" {
		if e, err := mail.ParseAddress(a); err == nil && e.Address == a {
			where = append(where, "actor_email = "+arg(strings.ToLower(a)))
		} else {
			where = append(where, "actor ILIKE '%' || "+arg(a)+" || '%'")
		}
	}
	if f.Action != "" {
		p := arg(f.Action)
		where = append(where, "(action = "+p+" OR action LIKE "+p+" || '.%')")
	}
	if f.Target != "" {
		where = append(where, "target = "+arg(f.Target))
	}
	if f.Outcome != "" {
		where = append(where, "outcome = "+arg(string(f.Outcome)))
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "occurred_at < "+arg(f.Until))
	}
	sql := "SELECT id, tenant_id, occurred_at, actor, action, target, outcome, ip, user_agent, request_id, detail FROM audit_events"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY id DESC LIMIT " + arg(limit)
	rows, err := l.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The audit trail cannot be read right now.", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var tenant pgtype.UUID
		var detail []byte
		if err := rows.Scan(&e.ID, &tenant, &e.OccurredAt, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.IP, &e.UserAgent,
			&e.RequestID, &detail); err != nil {
			return nil, err
		}
		if tenant.Valid {
			e.TenantID = uuidString(tenant.Bytes)
		}
		if err := json.Unmarshal(detail, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit event %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Verify walks the tenant's chain (every chain when every is set), records
// the result with who asked, and returns it.
func (l *AuditLog) Verify(ctx context.Context, tenantID string, every bool, by string) (audit.Verification, error) {
	scope := tenantID
	if every {
		scope = ""
	}
	var cps []audit.Checkpoint
	if l.checkpoints != nil {
		var err error
		if cps, err = l.checkpoints(ctx); err != nil {
			return audit.Verification{}, apperr.Wrap(apperr.Unavailable, "The audit checkpoints cannot be read from Vault right now.", err)
		}
	}
	rep, err := VerifyAuditWith(ctx, l.pool, scope, cps)
	if err != nil {
		return audit.Verification{}, err
	}
	v := audit.Verification{At: l.now(), By: by, Chains: rep.Chains, Events: rep.Events, Problems: rep.Problems}
	problems, _ := json.Marshal(nonNilProblems(rep.Problems))
	var tid = pgUUIDOrNull(uuid.Nil)
	if !every {
		u, err := uuid.Parse(tenantID)
		if err != nil {
			return v, errNoRequest
		}
		tid = pgUUID(u)
	}
	err = db.New(l.pool).InsertAuditVerification(ctx, db.InsertAuditVerificationParams{TenantID: tid, VerifiedAt: v.At, VerifiedBy: by,
		Chains: int32(rep.Chains), Events: rep.Events, Problems: problems})
	return v, err
}

func nonNilProblems(p []audit.Problem) []audit.Problem {
	if p == nil {
		return []audit.Problem{}
	}
	return p
}

// LastVerification returns the latest recorded verification of the
// tenant's chain (of every chain when every is set), or false.
func (l *AuditLog) LastVerification(ctx context.Context, tenantID string, every bool) (audit.Verification, bool, error) {
	tid, _ := uuid.Parse(tenantID)
	r, err := db.New(l.pool).LastAuditVerification(ctx, db.LastAuditVerificationParams{EveryTenant: every, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Verification{}, false, nil
	}
	if err != nil {
		return audit.Verification{}, false, err
	}
	v := audit.Verification{At: r.VerifiedAt, By: r.VerifiedBy, Chains: int(r.Chains), Events: r.Events}
	if err := json.Unmarshal(r.Problems, &v.Problems); err != nil {
		return v, false, fmt.Errorf("audit verification problems: %w", err)
	}
	return v, true, nil
}
