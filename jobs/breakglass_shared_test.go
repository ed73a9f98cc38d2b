package jobs_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
)

// A responder of globex breaks glass on acme's Orders DB, which acme
// flagged for break-glass and shares with globex: access at once within
// the share's terms, both organizations told and auditing it, globex's
// approvers review it, and ending the share ends it.
func TestAPartnersResponderBreaksGlassOnASharedResource(t *testing.T) {
	sw := newShareWorld(t, "tenant-sh-bg", time.Now)
	ctx := context.Background()
	if err := sw.store.SetBreakGlass(ctx, sw.tenant, sw.res, approvals.BreakGlass{Enabled: true, MaxDuration: 2 * time.Hour}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	responder := approvals.Person{Tenant: sw.globex, Subject: "globex-responder", Email: "responder@globex.test", Roles: []tenants.Role{tenants.RoleResponder}}
	if _, err := sw.pool.Exec(ctx, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
		VALUES ($1, $2, $3, 'R', '{}', ARRAY['responder'], now(), now())`, sw.globex, responder.Subject, responder.Email); err != nil {
		t.Fatal(err)
	}
	terms := sw.terms(approvals.PreApproved, time.Now())
	terms.Recipients = approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester, tenants.RoleResponder}}
	share := sw.activeShare(t, terms)
	startWorkers(t, sw.world, sw.svc.Vault, time.Now)
	h := sw.holder("globex/requester")
	h.Person = responder

	// Refusals: a responder of a third organization, a stale sign-in, a window past the share's longest grant.
	third := sw.holder("initech/requester")
	third.Person.Roles = []tenants.Role{tenants.RoleResponder}
	if _, err := sw.svc.BreakGlassShared(ctx, third, share, sw.res, emergencyE, true, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a third organization breaking glass under the share: %v", err)
	}
	if _, err := sw.svc.BreakGlassShared(ctx, h, share, sw.res, emergencyE, false, audit.Meta{}); err != approvals.ErrStaleAuth {
		t.Fatalf("a stale sign-in: %v", err)
	}
	long := emergencyE
	long.Duration = 2 * time.Hour
	if _, err := sw.svc.BreakGlassShared(ctx, h, share, sw.res, long, true, audit.Meta{}); apperr.As(err).Fields["duration"] == "" {
		t.Fatalf("a window past the share's longest grant: %v", err)
	}
	var n int
	if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM requests WHERE kind = 'break-glass'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d break-glasses recorded by refusals (%v)", n, err)
	}
	// Each refusal is in the responder's trail; one under the share is in
	// the owner's too (attempts on its resources are its security events).
	refusals := map[string]int{}
	rows, err := sw.pool.Query(ctx, `SELECT t.slug, coalesce(e.detail->>'share', '') FROM audit_events e JOIN tenants t ON t.id = e.tenant_id
		WHERE e.action = 'breakglass.refused'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var slug, onShare string
		if err := rows.Scan(&slug, &onShare); err != nil {
			t.Fatal(err)
		}
		refusals[slug+map[bool]string{true: " under the share", false: ""}[onShare == share]]++
	}
	if want := map[string]int{"initech under the share": 1, "globex under the share": 2, "acme under the share": 2}; !maps.Equal(refusals, want) {
		t.Fatalf("refusals audited: %v, want %v", refusals, want)
	}

	em, err := sw.svc.BreakGlassShared(ctx, h, share, sw.res, emergencyE, true, audit.Meta{})
	if err != nil || !em.Issued {
		t.Fatalf("break glass under the share: %+v %v", em, err)
	}
	d, err := sw.store.Detail(ctx, sw.globex, em.RequestID)
	if err != nil || d.State != approvals.Active || d.Duration != time.Hour || d.Review == nil || d.Review.TenantID != sw.globex {
		t.Fatalf("the responder's view: %+v %v", d, err)
	}
	if _, err := sw.store.Detail(ctx, sw.tenant, em.RequestID); err != nil {
		t.Fatalf("the owner cannot see the break-glass on its resource: %v", err)
	}
	if _, err := sw.store.Detail(ctx, sw.initech, em.RequestID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a third organization sees it: %v", err)
	}
	data, err := sw.svc.Reveal(ctx, h, em.RequestID, audit.Meta{})
	if err != nil || data["password"] != "value-of-db/orders" {
		t.Fatalf("reveal: %v", err)
	}

	// Both organizations are told at once: globex's approvers and admin, and acme's.
	mine := waitMail(t, sw.smtp, "Break-glass: responder@globex.test")
	theirs := waitMail(t, sw.smtp, "Break-glass on your shared resource")
	for _, want := range []string{"approver1@globex.test", "admin@globex.test"} {
		if !slices.Contains(mine.To, want) {
			t.Fatalf("globex's notice went to %v, not %s", mine.To, want)
		}
	}
	for _, want := range []string{"approver1@acme.test", "admin@acme.test"} {
		if !slices.Contains(theirs.To, want) {
			t.Fatalf("acme's notice went to %v, not %s", theirs.To, want)
		}
	}
	for _, tid := range []string{sw.tenant, sw.globex} {
		var k int
		if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'breakglass.started' AND tenant_id = $1", tid).Scan(&k); err != nil || k != 1 {
			t.Fatalf("breakglass.started in %s: %d %v", tid, k, err)
		}
	}
	// It counts toward globex's limits, the banner shows on both sides.
	if _, err := sw.svc.BreakGlassShared(ctx, h, share, sw.res, emergencyE, true, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a second break-glass past the responder's limit: %v", err)
	}
	for _, tid := range []string{sw.tenant, sw.globex} {
		if active, err := sw.store.ActiveBreakGlass(ctx, tid); err != nil || len(active) != 1 {
			t.Fatalf("banner entries in %s: %d %v", tid, len(active), err)
		}
	}

	// globex's approvers review it; acme's cannot.
	if err := sw.store.ReviewBreakGlass(ctx, sw.tenant, em.RequestID, sw.p("acme/approver1"), approvals.Justified, "ok", audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("the owner's approver reviewing: %v", err)
	}
	if err := sw.store.ReviewBreakGlass(ctx, sw.globex, em.RequestID, sw.p("globex/approver1"), approvals.Justified, "incident INC-77 confirmed", audit.Meta{}); err != nil {
		t.Fatal(err)
	}

	// Ending the share ends the emergency access.
	if err := sw.store.EndShare(ctx, sw.tenant, share, sw.p("acme/admin"), "partner incident over", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, em.RequestID, approvals.Revoked, 15*time.Second)
	if _, err := sw.svc.Reveal(ctx, h, em.RequestID, audit.Meta{}); err == nil {
		t.Fatal("the responder still reveals after the share ended")
	}
	if strings.Contains(mine.Data, "value-of-db/orders") || strings.Contains(theirs.Data, "value-of-db/orders") {
		t.Fatal("a notice carries the secret's value")
	}
}
