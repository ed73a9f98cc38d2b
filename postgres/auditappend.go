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
// them, queue on the first head instead of deadlocking. Each chain's events
// go in with one statement, however many there are.
func appendAudit(ctx context.Context, q *db.Queries, at time.Time, evs ...audit.Event) error {
	byChain := map[string][]audit.Event{}
	for _, ev := range evs {
		c := audit.ChainOf(ev.TenantID)
		byChain[c] = append(byChain[c], ev)
	}
	chains := make([]string, 0, len(byChain))
	for c := range byChain {
		chains = append(chains, c)
	}
	slices.Sort(chains)
	heads := make([]db.LockAuditHeadRow, len(chains))
	for i, c := range chains {
		var err error
		if heads[i], err = q.LockAuditHead(ctx, c); err != nil {
			return err
		}
	}
	at = at.UTC().Truncate(time.Microsecond) // what PostgreSQL keeps, so the hash verifies
	for i, c := range chains {
		p, err := chained(c, heads[i], at, byChain[c])
		if err != nil {
			return err
		}
		n, err := q.AppendAuditEvents(ctx, p)
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("audit chain %s: the head did not move to event %d", c, p.Seqs[len(p.Seqs)-1])
		}
	}
	return nil
}

// chained links evs, all of chain, after head: their rows, each event's
// hash covering the previous one's.
func chained(chain string, head db.LockAuditHeadRow, at time.Time, evs []audit.Event) (db.AppendAuditEventsParams, error) {
	p := db.AppendAuditEventsParams{Chain: chain, OccurredAt: at}
	if tenant := evs[0].TenantID; tenant != "" {
		u, err := uuid.Parse(tenant)
		if err != nil {
			return p, fmt.Errorf("audit tenant id: %w", err)
		}
		p.TenantID = pgtype.UUID{Bytes: u, Valid: true}
	}
	seq, prev := head.Seq, head.Hash
	for _, ev := range evs {
		detail, err := json.Marshal(nonNilMap(ev.Detail))
		if err != nil {
			return p, err
		}
		seq++
		hash := audit.Hash(prev, audit.Record{Chain: chain, Seq: seq, OccurredAt: at, Event: ev})
		p.Actors, p.Actions, p.Targets = append(p.Actors, ev.Actor), append(p.Actions, ev.Action), append(p.Targets, ev.Target)
		p.Outcomes, p.Ips, p.UserAgents = append(p.Outcomes, string(ev.Outcome)), append(p.Ips, ev.IP), append(p.UserAgents, ev.UserAgent)
		p.RequestIds, p.Details = append(p.RequestIds, ev.RequestID), append(p.Details, string(detail))
		p.Seqs, p.PrevHashes, p.Hashes = append(p.Seqs, seq), append(p.PrevHashes, prev), append(p.Hashes, hash)
		prev = hash
	}
	return p, nil
}
