package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// appendAudit appends evs to their chains through q, which must be inside
// the caller's transaction, so the events commit with the change they
// record: each event is linked to its chain's previous hash and the chain's
// head advanced; events of one chain keep their order.
//
// It is the transaction's last write, and a transaction calls it once. It
// locks the head of every chain it writes, in chain-name order, before the
// first append; the heads are then the last locks the transaction takes.
// So two transactions writing the same organizations' trails (the two sides
// of a share, a revocation across tenants), in whatever order they list
// them, queue on the first head instead of deadlocking.
func appendAudit(ctx context.Context, q *db.Queries, at time.Time, evs ...audit.Event) error {
	heads := map[string]db.LockAuditHeadRow{}
	chains := make([]string, 0, len(evs))
	for _, ev := range evs {
		chains = append(chains, audit.ChainOf(ev.TenantID))
	}
	slices.Sort(chains)
	for _, chain := range slices.Compact(chains) {
		head, err := q.LockAuditHead(ctx, chain)
		if err != nil {
			return err
		}
		heads[chain] = head
	}
	at = at.UTC().Truncate(time.Microsecond) // what PostgreSQL keeps, so the hash verifies
	for _, ev := range evs {
		p, err := appendParams(ev, at)
		if err != nil {
			return err
		}
		head := heads[p.Chain.String]
		p.Seq = pgtype.Int8{Int64: head.Seq + 1, Valid: true}
		p.PrevHash = head.Hash
		p.Hash = audit.Hash(head.Hash, audit.Record{Chain: p.Chain.String, Seq: p.Seq.Int64, OccurredAt: at, Event: ev})
		n, err := q.AppendAuditEvent(ctx, p)
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("audit chain %s: the head did not move to event %d", p.Chain.String, p.Seq.Int64)
		}
		heads[p.Chain.String] = db.LockAuditHeadRow{Seq: p.Seq.Int64, Hash: p.Hash}
	}
	return nil
}

// appendParams is ev's row, but for its place in the chain.
func appendParams(ev audit.Event, at time.Time) (db.AppendAuditEventParams, error) {
	var tid pgtype.UUID
	if ev.TenantID != "" {
		u, err := uuid.Parse(ev.TenantID)
		if err != nil {
			return db.AppendAuditEventParams{}, fmt.Errorf("audit tenant id: %w", err)
		}
		tid = pgtype.UUID{Bytes: u, Valid: true}
	}
	detail, err := json.Marshal(nonNilMap(ev.Detail))
	if err != nil {
		return db.AppendAuditEventParams{}, err
	}
	return db.AppendAuditEventParams{
		TenantID: tid, OccurredAt: at, Actor: ev.Actor, Action: ev.Action, Target: ev.Target,
		Outcome: string(ev.Outcome), Ip: ev.IP, UserAgent: ev.UserAgent, RequestID: ev.RequestID, Detail: detail,
		Chain: pgtype.Text{String: audit.ChainOf(ev.TenantID), Valid: true},
	}, nil
}
