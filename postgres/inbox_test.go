package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
)

// The approvals inbox, filtered in SQL, lists for each person exactly the
// pending requests approvals.Request.Eligible lets them decide now: by role
// and by IdP group, at the step each request waits on, never their own,
// not once they voted at that step, and only in the tenant a step is
// confined to.
func TestTheInboxListsWhatEachPersonMayDecideNow(t *testing.T) {
	pool, store, acme, single := requestFixture(t)
	ctx := context.Background()
	globex := tenantID(t, pool, "globex")
	twoSteps := approvals.Policy{
		Requesters: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
		Steps: []approvals.Step{
			{Name: "team", Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1},
			{Name: "security", Approvers: approvals.Audience{Groups: []string{"security"}}, Required: 1},
		},
		DefaultDuration: time.Hour, MaxDuration: 4 * time.Hour, JustificationMin: 10, Levels: []approvals.Level{approvals.Read},
		PendingTimeout: 24 * time.Hour,
	}
	res, err := store.AddResource(ctx, acme, approvals.Resource{Name: "Payroll", Classification: approvals.Critical, Mount: "tenant-acme",
		Path: "hr/payroll", Policy: twoSteps}, "admin@acme.test", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	team := approvals.Person{Tenant: acme, Subject: "team-1", Email: "team1@acme.test", Roles: []tenants.Role{tenants.RoleApprover}}
	sec := approvals.Person{Tenant: acme, Subject: "sec-1", Email: "sec1@acme.test", Roles: []tenants.Role{tenants.RoleRequester}, Groups: []string{"security"}}
	both := approvals.Person{Tenant: acme, Subject: "both-1", Email: "both1@acme.test",
		Roles: []tenants.Role{tenants.RoleApprover, tenants.RoleRequester}, Groups: []string{"security"}}
	admin := approvals.Person{Tenant: acme, Subject: "admin-1", Email: "admin1@acme.test", Roles: []tenants.Role{tenants.RoleTenantAdmin}}
	outsider := approvals.Person{Tenant: globex, Subject: "team-9", Email: "team9@globex.test", Roles: []tenants.Role{tenants.RoleApprover}}
	requester := approvals.Person{Tenant: acme, Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}

	submit := func(who approvals.Person) string {
		t.Helper()
		id, err := store.Submit(ctx, acme, res, who, approvals.Submission{Level: approvals.Read, Justification: "quarterly payroll audit"}, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	advanced := submit(requester) // team approves: it waits on security
	own := submit(both)           // both-1 may never decide it
	other := approvals.Person{Tenant: acme, Subject: "req-2", Email: "requester2@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	confined := submit(other) // its first step is confined to acme's people
	if _, err := store.Decide(ctx, acme, advanced, team, true, "", 0, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Decide(ctx, acme, single, team, true, "", 0, audit.Meta{}); err != nil { // 1 of 2 at its only step
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE requests SET policy = jsonb_set(policy, '{steps,0,approvers,tenant}', to_jsonb($2::text)) WHERE id = $1`,
		confined, acme); err != nil {
		t.Fatal(err)
	}
	all := []string{single, advanced, own, confined}

	for _, tc := range []struct {
		name string
		p    approvals.Person
		want []string
	}{
		{"team approver", team, []string{own, confined}},
		{"security group member", sec, []string{advanced}},
		{"approver in the security group", both, []string{single, advanced, confined}},
		{"tenant admin (not an approver)", admin, nil},
		{"approver signed in elsewhere", outsider, []string{single, own}},
		{"requester", requester, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var domain []string // what the domain's rule says, request by request
			for _, id := range all {
				d, err := store.Detail(ctx, acme, id)
				if err != nil {
					t.Fatal(err)
				}
				if d.Request.Eligible(tc.p) {
					domain = append(domain, id)
				}
			}
			ds, total, err := store.Inbox(ctx, acme, tc.p, 50)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.ID)
			}
			slices.Sort(got)
			slices.Sort(domain)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, domain) || !slices.Equal(got, want) || total != len(want) {
				t.Fatalf("inbox %v (total %d); the domain says %v; want %v", got, total, domain, want)
			}
		})
	}

	// A page and the badge's count.
	ds, total, err := store.Inbox(ctx, acme, both, 1)
	if err != nil || len(ds) != 1 || total != 3 || ds[0].ID != single {
		t.Fatalf("first page of one: %d rows (total %d), err %v; want the oldest of 3", len(ds), total, err)
	}
	if len(ds[0].Request.Votes) != 1 {
		t.Fatalf("the inbox row carries %d votes, want team-1's", len(ds[0].Request.Votes))
	}
	if ds, total, err := store.Inbox(ctx, acme, both, 0); err != nil || len(ds) != 0 || total != 3 {
		t.Fatalf("count only: %d rows, total %d, err %v", len(ds), total, err)
	}
	// Another tenant's inbox never lists acme's requests.
	if ds, total, err := store.Inbox(ctx, globex, outsider, 50); err != nil || len(ds) != 0 || total != 0 {
		t.Fatalf("globex's inbox: %d rows, total %d, err %v", len(ds), total, err)
	}
}
