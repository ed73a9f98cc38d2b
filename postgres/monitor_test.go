package postgres_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/monitor"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

func TestTheMonitorRaisesEachRuleOnceFromTheTrail(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	if err := postgres.NewTenantStore(pool).Register(ctx, registration(t, "acme", "Acme", "acme.test"), "test"); err != nil {
		t.Fatal(err)
	}
	acme := tenantID(t, pool, "acme")
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewRequestStore(pool, inserter, time.Now)
	policy := approvals.Policy{Requesters: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
		Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1}},
		DefaultDuration: time.Hour, MaxDuration: time.Hour, Levels: []approvals.Level{approvals.Read}, PendingTimeout: time.Hour}
	if _, err := store.AddResource(ctx, acme, approvals.Resource{Name: "Payments key", Classification: approvals.Critical, Mount: "tenant-acme",
		Path: "payments/key", Policy: policy}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ScanAudit(ctx, 1000); err != nil { // past events are not this test's
		t.Fatal(err)
	}
	// The trail, on an injected clock: Tuesday 10:00 UTC onwards.
	clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ids := postgres.NewIdentityStore(pool, func() time.Time { return clock })
	record := func(actor, action, ip string, outcome audit.Outcome, detail map[string]string) {
		t.Helper()
		if err := ids.RecordEvent(ctx, audit.Event{TenantID: acme, Actor: actor, Action: action, IP: ip, Outcome: outcome, Detail: detail}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
	}
	reveal := map[string]string{"secret": "tenant-acme/payments/key"}
	record("alice", "login.succeeded", "192.0.2.5", audit.Success, nil)    // her baseline network
	record("alice", "login.succeeded", "192.0.2.99", audit.Success, nil)   // same /24
	record("alice", "login.succeeded", "198.51.100.7", audit.Success, nil) // new network
	record("alice", "grant.revealed", "", audit.Success, reveal)           // first access to a critical secret
	clock = time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC)
	record("alice", "grant.revealed", "", audit.Success, reveal) // off hours (not first any more)
	for i := 0; i < 6; i++ {
		record("mallory", "login.refused", "203.0.113.9", audit.Denied, nil) // the 5th alerts, the 6th does not
	}
	for i := 0; i < 10; i++ {
		record("bob", "request.submitted", "", audit.Success, map[string]string{"request": fmt.Sprint(i)})
	}
	for i := 0; i < 3; i++ {
		record(fmt.Sprintf("responder%d", i), "breakglass.started", "", audit.Success, nil)
	}
	n, err := store.ScanAudit(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := store.Alerts(ctx, acme, paging.First(200))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range alerts.Rows {
		got = append(got, a.Rule+"/"+a.Actor)
	}
	sort.Strings(got)
	want := []string{"breakglass-frequency/responder2", "burst/bob", "first-sensitive-access/alice", "new-network/alice",
		"off-hours-reveal/alice", "repeated-denials/mallory"}
	if fmt.Sprint(got) != fmt.Sprint(want) || n != len(want) {
		t.Fatalf("alerts %v (raised %d), want %v", got, n, want)
	}
	// Each alert's notice is on record, as every notice is, with how its delivery goes.
	var told int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM notices WHERE tenant_id = $1 AND ref = '' AND channel = 'chat'
		AND subject LIKE 'Security alert (%' AND state = 'pending'`, acme).Scan(&told); err != nil || told != len(want) {
		t.Fatalf("%d alert notices recorded (%v), want %d", told, err, len(want))
	}
	// Each event is evaluated once.
	if n, err := store.ScanAudit(ctx, 1000); err != nil || n != 0 {
		t.Fatalf("second scan raised %d (%v)", n, err)
	}
	// Settings: a disabled rule stays quiet; acknowledging is per tenant.
	st := monitor.DefaultSettings()
	st.Disabled = []monitor.Rule{monitor.OffHoursReveal}
	if err := store.SetMonitorSettings(ctx, acme, st, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	record("alice", "grant.revealed", "", audit.Success, reveal)
	if n, _ := store.ScanAudit(ctx, 1000); n != 0 {
		t.Fatalf("a disabled rule raised %d alerts", n)
	}
	if err := store.AckAlert(ctx, acme, alerts.Rows[0].ID, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := store.AckAlert(ctx, "00000000-0000-4000-8000-000000000000", alerts.Rows[1].ID, "x", audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("acknowledging another tenant's alert: %v", err)
	}
}
