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
	var rep VerifyReport
	q := db.New(pool)
	heads, err := q.ListAuditHeads(ctx)
	if err != nil {
		return rep, fmt.Errorf("reading audit heads: %w", err)
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
		}
	}
	return rep, nil
}
