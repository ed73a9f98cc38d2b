package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// VerifyReport is the result of walking the audit chains.
type VerifyReport struct {
	Chains   int
	Events   int64
	Problems []audit.Problem // the first problem of each broken chain
}

// VerifyAudit walks every audit chain (or only the chain of tenantID when
// not empty) and reports the first modified, missing or truncated event of
// each. It returns an error only when the trail cannot be read.
func VerifyAudit(ctx context.Context, pool *pgxpool.Pool, tenantID string) (VerifyReport, error) {
	return VerifyAuditWith(ctx, pool, tenantID, nil)
}

// VerifyAuditWith is VerifyAudit that also checks each chain against its
// external checkpoint (cps, from the Vault anchor or the export file): a
// trail cut back below its checkpoint, or rewritten under it (even with
// its head rewritten to match), is reported.
func VerifyAuditWith(ctx context.Context, pool *pgxpool.Pool, tenantID string, cps []audit.Checkpoint) (VerifyReport, error) {
	var rep VerifyReport
	q := db.New(pool)
	heads, err := q.ListAuditHeads(ctx)
	if err != nil {
		return rep, fmt.Errorf("reading audit heads: %w", err)
	}
	checkpoint := map[string]audit.Checkpoint{}
	for _, cp := range cps {
		if tenantID == "" || cp.Chain == audit.ChainOf(tenantID) {
			checkpoint[cp.Chain] = cp
		}
	}
	has := map[string]bool{}
	for _, h := range heads {
		has[h.Chain] = true
	}
	for chain, cp := range checkpoint { // a checkpointed chain with no head at all was wiped out
		if !has[chain] && cp.Seq > 0 {
			rep.Problems = append(rep.Problems, audit.Problem{Chain: chain, Seq: cp.Seq, What: "truncated (the whole chain is gone)"})
		}
	}
	for _, h := range heads {
		if tenantID != "" && h.Chain != audit.ChainOf(tenantID) {
			continue
		}
		rows, err := q.ListChain(ctx, textOf(h.Chain))
		if err != nil {
			return rep, fmt.Errorf("reading chain %s: %w", h.Chain, err)
		}
		records := make([]audit.StoredRecord, 0, len(rows))
		for _, r := range rows {
			ev := audit.Event{Actor: r.Actor, Action: r.Action, Target: r.Target, Outcome: audit.Outcome(r.Outcome),
				IP: r.Ip, UserAgent: r.UserAgent, RequestID: r.RequestID}
			if r.TenantID.Valid {
				ev.TenantID = uuidString(r.TenantID.Bytes)
			}
			if err := json.Unmarshal(r.Detail, &ev.Detail); err != nil {
				return rep, fmt.Errorf("chain %s event %d: detail: %w", h.Chain, r.Seq.Int64, err)
			}
			records = append(records, audit.StoredRecord{
				Record:   audit.Record{Chain: h.Chain, Seq: r.Seq.Int64, OccurredAt: r.OccurredAt, Event: ev},
				PrevHash: r.PrevHash, Hash: r.Hash,
			})
		}
		rep.Chains++
		rep.Events += int64(len(records))
		if p := audit.Verify(h.Chain, records, h.Seq, h.Hash); p != nil {
			rep.Problems = append(rep.Problems, *p)
		} else if cp, ok := checkpoint[h.Chain]; ok {
			if p := audit.CheckAgainst(cp, records); p != nil {
				rep.Problems = append(rep.Problems, *p)
			}
		}
	}
	return rep, nil
}

// AuditHeads returns every chain's head as a checkpoint, for the anchors.
func (l *AuditLog) AuditHeads(ctx context.Context) ([]audit.Checkpoint, error) {
	heads, err := db.New(l.pool).ListAuditHeads(ctx)
	if err != nil {
		return nil, err
	}
	now := l.now()
	out := make([]audit.Checkpoint, 0, len(heads))
	for _, h := range heads {
		out = append(out, audit.NewCheckpoint(h.Chain, h.Seq, h.Hash, now))
	}
	return out, nil
}
