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

// BenchmarkConcurrentApprovalRace has 50 approvers approve the same
// request (quorum 2) at once, per iteration a new request, and reports how
// long the 50 decisions take together and how many grant jobs they
// enqueued (exactly one per request, or it fails).
func BenchmarkConcurrentApprovalRace(b *testing.B) {
	pool, store, acme, _ := requestFixture(b)
	ctx := context.Background()
	var resID string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM resources").Scan(&resID); err != nil {
		b.Fatal(err)
	}
	const approvers = 50
	var total time.Duration
	n, grantJobs := 0, 0
	for b.Loop() {
		n++
		who := approvals.Person{Subject: fmt.Sprintf("race-%d", n), Email: "r@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
		id, err := store.Submit(ctx, acme, resID, who, approvals.Submission{Level: approvals.Read, Justification: "race of approvers"}, audit.Meta{})
		if err != nil {
			b.Fatal(err)
		}
		var approved atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range approvers {
			wg.Go(func() {
				<-start
				state, err := store.Decide(ctx, acme, id, approver(i), true, "", 0, audit.Meta{})
				if err == nil && state == approvals.Approved {
					approved.Add(1)
				}
			})
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		total += time.Since(t0)
		var jobs int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'issue_grant' AND args->>'request_id' = $1", id).Scan(&jobs); err != nil {
			b.Fatal(err)
		}
		if approved.Load() != 1 || jobs != 1 {
			b.Fatalf("%d approving decisions and %d grant jobs for one request", approved.Load(), jobs)
		}
		grantJobs += jobs
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/race")
	b.ReportMetric(float64(grantJobs)/float64(n), "grant-jobs/request")
}
