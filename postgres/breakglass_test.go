package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// TestTheEscalationQueryAgreesWithTheRule: the sweep's query selects and
// orders reviews by approvals.NextEscalation computed in SQL. Over a grid
// of due and last-escalated times around now (both sides of every
// boundary, to the microsecond), under the default SLA and a tenant's own,
// it returns exactly the reviews approvals.EscalationDue says are due, each
// with the rule's next-escalation instant, in that order.
func TestTheEscalationQueryAgreesWithTheRule(t *testing.T) {
	pool, store, acme, req := requestFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	type review struct{ due, last time.Time }
	reviews := map[uuid.UUID]review{}
	us := time.Microsecond
	for _, due := range []time.Duration{us, 0, -us, -time.Hour, -25 * time.Hour, -72 * time.Hour} {
		for _, last := range []time.Duration{1, 0, -time.Hour, -2*time.Hour + us, -2 * time.Hour, -2*time.Hour - us,
			-24*time.Hour + us, -24 * time.Hour, -25 * time.Hour, -72 * time.Hour} {
			r := review{due: now.Add(due)}
			if last != 1 { // 1: never escalated
				r.last = now.Add(last)
			}
			var id uuid.UUID
			if err := pool.QueryRow(ctx, `
				INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
				                      justification, kind, state, policy, submitted_at, updated_at)
				SELECT tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
				       justification, 'break-glass', 'expired', policy, submitted_at, updated_at
				FROM requests WHERE id::text = $1 RETURNING id`, req).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, `INSERT INTO breakglass_reviews (request_id, tenant_id, due_at, last_escalated_at)
				VALUES ($1, $2, $3, $4)`, id, acme, r.due, pgtype.Timestamptz{Time: r.last, Valid: !r.last.IsZero()}); err != nil {
				t.Fatal(err)
			}
			reviews[id] = r
		}
	}
	for _, sla := range []time.Duration{approvals.DefaultReviewSLA, 2 * time.Hour} {
		if sla != approvals.DefaultReviewSLA {
			if err := store.SetBreakGlassLimits(ctx, acme, approvals.Limits{PerResponder: 1, PerTenant: 3, ReviewSLA: sla}, "admin", audit.Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		var want []uuid.UUID
		for id, r := range reviews {
			if approvals.EscalationDue(r.due, r.last, now, sla) {
				want = append(want, id)
			}
		}
		rows, err := db.New(pool).LockReviewsToEscalate(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		var got []uuid.UUID
		for i, row := range rows {
			r := reviews[row.RequestID]
			if next := approvals.NextEscalation(r.due, r.last, sla); !row.NextEscalationAt.Equal(next) {
				t.Errorf("SLA %s, due %s, last %s: the query's next escalation is %s, the rule's %s", sla,
					r.due.Sub(now), r.last.Sub(now), row.NextEscalationAt.Sub(now), next.Sub(now))
			}
			if i > 0 && row.NextEscalationAt.Before(rows[i-1].NextEscalationAt) {
				t.Errorf("SLA %s: row %d is due an escalation before row %d", sla, i, i-1)
			}
			got = append(got, row.RequestID)
		}
		slices.SortFunc(want, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		slices.SortFunc(got, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		if !slices.Equal(got, want) || len(want) == 0 || len(want) == len(reviews) {
			t.Fatalf("SLA %s: the query returned %d reviews, the rule says %d of %d are due", sla, len(got), len(want), len(reviews))
		}
	}
}
