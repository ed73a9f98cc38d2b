package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
)

// TestARevocationListsEveryNoticeItSent: a revocation's record of who
// was told holds every notice, however many (its report is final); the
// recipients and reasons of another organization's stay hidden from a
// tenant admin, not from an operator.
func TestARevocationListsEveryNoticeItSent(t *testing.T) {
	pool, store, acme, _ := requestFixture(t)
	globex := tenantID(t, pool, "globex")
	ctx := context.Background()
	admin := approvals.Viewer{TenantID: acme}
	var res string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM resources WHERE name = 'Orders DB'").Scan(&res); err != nil {
		t.Fatal(err)
	}
	id, err := store.StartRevocation(ctx, approvals.Scope{Kind: approvals.ScopeResource, Value: res}, admin,
		"leaked laptop", "admin@acme.test", false, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	before, err := store.Revocation(ctx, id, admin)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Minute)
	tellEvents(t, pool, acme, id, "acme", at, 300)
	tellEvents(t, pool, globex, id, "globex", at.Add(time.Second), 6)
	if _, err := pool.Exec(ctx, "UPDATE notices SET state = 'failed', reason = 'The relay refused.' WHERE ref = $1", id); err != nil {
		t.Fatal(err)
	}
	want := len(before.Told) + 612
	for _, v := range []approvals.Viewer{admin, {Operator: true}} {
		r, err := store.Revocation(ctx, id, v)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Told) != want {
			t.Fatalf("viewer %+v: %d notices of the revocation, want %d", v, len(r.Told), want)
		}
		hidden := 0
		for _, n := range r.Told {
			if n.Org == "globex" && n.To == nil && n.Reason == "" {
				hidden++
			}
			if n.Org == "acme" && n.Channel == "email" && (len(n.To) != 1 || n.Reason == "") {
				t.Fatalf("viewer %+v: acme's notice %+v", v, n)
			}
		}
		if wantHidden := map[bool]int{false: 12, true: 0}[v.Operator]; hidden != wantHidden {
			t.Fatalf("viewer %+v: %d of globex's notices hide who and why, want %d", v, hidden, wantHidden)
		}
	}
}
