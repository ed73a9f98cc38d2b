package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
)

// BenchmarkThousandRequestsSubmittedAndApproved submits 1,000 requests and
// approves each twice (the policy's quorum, which enqueues its grant job),
// from 50 concurrent clients, and reports requests/s.
func BenchmarkThousandRequestsSubmittedAndApproved(b *testing.B) {
	pool, store, acme, _ := requestFixture(b)
	var resID string
	if err := pool.QueryRow(context.Background(), "SELECT id::text FROM resources").Scan(&resID); err != nil {
		b.Fatal(err)
	}
	const requests, clients = 1000, 50
	var round atomic.Int64
	for b.Loop() {
		r := round.Add(1)
		start := time.Now()
		next := make(chan int, requests)
		for i := range requests {
			next <- i
		}
		close(next)
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				ctx := context.Background()
				for i := range next {
					who := approvals.Person{Subject: fmt.Sprintf("r%d-%d", r, i), Email: "r@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
					id, err := store.Submit(ctx, acme, resID, who, approvals.Submission{Level: approvals.Read, Justification: "load test request"}, audit.Meta{})
					if err != nil {
						b.Error(err)
						return
					}
					for _, a := range []string{"a1", "a2"} {
						if _, err := store.Decide(ctx, acme, id, approvals.Person{Subject: a, Roles: []tenants.Role{tenants.RoleApprover}}, true, "", 0, audit.Meta{}); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(requests)/time.Since(start).Seconds(), "requests/s")
	}
}
