package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify/notifytest"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
)

// clock is a test clock that can be moved forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

var (
	responderP = approvals.Person{Subject: "resp", Email: "responder@acme.test", Roles: []tenants.Role{tenants.RoleResponder}}
	approver1  = approvals.Person{Subject: "a1", Email: "approver1@acme.test", Roles: []tenants.Role{tenants.RoleApprover}}
	emergencyE = approvals.Emergency{Justification: "orders database down, customers cannot pay", Incident: "INC-77"}
)

// breakGlassWorld is newWorld with the tenant's members (two approvers,
// an admin, the responder and a requester) and "Orders DB" flagged for
// break-glass with setting b.
func breakGlassWorld(t testing.TB, mount string, now func() time.Time, b approvals.BreakGlass) (world, string, *access.Service) {
	t.Helper()
	w, res := newWorld(t, mount, now)
	ctx := context.Background()
	for _, m := range []struct {
		subject, email, role string
	}{
		{"a1", "approver1@acme.test", "approver"}, {"a2", "approver2@acme.test", "approver"},
		{"adm", "admin@acme.test", "tenant-admin"}, {"resp", "responder@acme.test", "responder"}, {"req", "requester@acme.test", "requester"},
	} {
		if _, err := w.pool.Exec(ctx, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
			VALUES ($1, $2, $3, $2, '{}', ARRAY[$4], now(), now())`, w.tenant, m.subject, m.email, m.role); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.store.SetBreakGlass(ctx, w.tenant, res, b, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	gatehouse, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t)) // least privilege, as in production
	if err != nil {
		t.Fatal(err)
	}
	svc := &access.Service{Store: w.store, Vault: gatehouse, Now: now}
	return w, res, svc
}

func holderOf(w world, p approvals.Person) access.Holder {
	return access.Holder{TenantID: w.tenant, TenantSlug: "acme", Person: p}
}

func auditActions(t testing.TB, w world, action string) []map[string]any {
	t.Helper()
	rows, err := w.pool.Query(context.Background(), "SELECT outcome, detail FROM audit_events WHERE action = $1 ORDER BY seq", action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var outcome string
		var detail map[string]any
		if err := rows.Scan(&outcome, &detail); err != nil {
			t.Fatal(err)
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["outcome"] = outcome
		out = append(out, detail)
	}
	return out
}

// waitMail waits for an email whose data contains want and returns it.
func waitMail(t *testing.T, smtp *notifytest.TestSMTPServer, want string) notifytest.Received {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range smtp.Messages() {
			if strings.Contains(m.Data, want) {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no email containing %q", want)
	return notifytest.Received{}
}

func TestBreakGlassIssuesAtOnceAndTellsEveryoneResponsible(t *testing.T) {
	w, res, svc := breakGlassWorld(t, "tenant-bg1", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{IP: "192.0.2.7"})
	if err != nil || !em.Issued {
		t.Fatalf("break-glass: %+v %v", em, err)
	}
	// Active at once, with no approval, and the grant reads exactly its secret.
	waitState(t, w, em.RequestID, approvals.Active, time.Second)
	data, err := svc.Reveal(ctx, holderOf(w, responderP), em.RequestID, audit.Meta{})
	if err != nil || data["password"] != "value-of-db/orders" {
		t.Fatalf("reveal under break-glass: %v", err)
	}
	startWorkers(t, w, w.vault, time.Now)
	// Every approver and tenant admin is emailed, urgently; not the responder or a requester.
	m := waitMail(t, w.smtp, "Break-glass: responder@acme.test on Orders DB")
	slices.Sort(m.To)
	if want := []string{"admin@acme.test", "approver1@acme.test", "approver2@acme.test"}; !slices.Equal(m.To, want) {
		t.Fatalf("break-glass email went to %v, want %v", m.To, want)
	}
	if !strings.Contains(m.Data, "[URGENT]") || !strings.Contains(m.Data, "INC-77") || strings.Contains(m.Data, "value-of-") {
		t.Fatalf("break-glass email:\n%s", m.Data)
	}
	for told := false; !told; {
		select {
		case text := <-w.chat:
			told = strings.Contains(text, "Break-glass") && strings.Contains(text, "URGENT")
		case <-time.After(10 * time.Second):
			t.Fatal("the tenant's webhook was not told, urgently")
		}
	}
	// The break-glass is audited with its incident; the review is due.
	ev := auditActions(t, w, "breakglass.started")
	if len(ev) != 1 || ev[0]["incident"] != "INC-77" || ev[0]["drill"] != "false" {
		t.Fatalf("audit: %v", ev)
	}
	d, err := w.store.Detail(ctx, w.tenant, em.RequestID)
	if err != nil || d.Kind != approvals.BreakGlassKind || d.Review == nil || d.Review.Verdict != "" ||
		d.Review.DueAt.Sub(d.SubmittedAt) != approvals.DefaultReviewSLA {
		t.Fatalf("detail: %+v %v", d, err)
	}
	if rep, err := postgres.VerifyAudit(ctx, w.pool, ""); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit chain: %+v %v", rep, err)
	}
}

func TestRefusedBreakGlassIssuesNothingAndIsAudited(t *testing.T) {
	w, res, svc := breakGlassWorld(t, "tenant-bg2", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	requester := approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	noIncident := emergencyE
	noIncident.Incident = ""
	for _, tc := range []struct {
		name  string
		who   approvals.Person
		e     approvals.Emergency
		fresh bool
		code  apperr.Code
	}{
		{"not a responder", requester, emergencyE, true, apperr.Forbidden},
		{"stale authentication", responderP, emergencyE, false, apperr.Forbidden},
		{"no incident reference", responderP, noIncident, true, apperr.Invalid},
	} {
		if _, err := svc.BreakGlass(ctx, holderOf(w, tc.who), res, tc.e, tc.fresh, audit.Meta{}); apperr.CodeOf(err) != tc.code {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	// Over the per-responder limit (1): the second one is refused.
	if _, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("over the limit: %v", err)
	}
	var n int
	if err := w.pool.QueryRow(ctx, "SELECT count(*) FROM requests WHERE kind = 'break-glass'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d break-glass requests recorded, want 1 (%v)", n, err)
	}
	if got := auditActions(t, w, "breakglass.refused"); len(got) != 4 || got[0]["outcome"] != "denied" {
		t.Fatalf("refusals audited: %v", got)
	}
	// Another tenant's resource is not there (and refused the same way, in
	// that tenant's trail).
	tn, _ := tenants.NewTenant("globex", "Globex", []string{"globex.test"})
	if err := postgres.NewTenantStore(w.pool).Register(ctx, tenants.Registration{Tenant: tn,
		IdP:     tenants.IdentityProvider{IssuerURL: "https://idp.globex", ClientID: "c", ClientSecretRef: "gatehouse/idp/globex", Scopes: []string{"openid"}, GroupsClaim: "groups"},
		Binding: tenants.StoreBinding{Kind: tenants.StoreVaultKV2, Location: "tenant-globex"}}, "test"); err != nil {
		t.Fatal(err)
	}
	var globex string
	if err := w.pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = 'globex'").Scan(&globex); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.BreakGlass(ctx, access.Holder{TenantID: globex, TenantSlug: "globex", Person: responderP},
		res, emergencyE, true, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another tenant's resource: %v", err)
	}
	if got := auditActions(t, w, "breakglass.refused"); len(got) != 5 {
		t.Fatalf("refusals audited: %d, want 5", len(got))
	}
}

func TestReviewRulesAndNotJustifiedFlagsTheResponder(t *testing.T) {
	w, res, svc := breakGlassWorld(t, "tenant-bg3", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	notes := "no incident matched this access"
	// The responder cannot review their own, even holding the approver role too.
	both := responderP
	both.Roles = append(both.Roles, tenants.RoleApprover)
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, em.RequestID, both, approvals.Justified, notes, audit.Meta{}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("self-review: %v", err)
	}
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, em.RequestID, approver1, approvals.NotJustified, notes, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, em.RequestID, approver1, approvals.Justified, notes, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second review: %v", err)
	}
	flags, err := w.store.ResponderFlags(ctx, w.tenant)
	if err != nil || len(flags) != 1 || flags[0].Email != "responder@acme.test" || flags[0].Count != 1 {
		t.Fatalf("flags: %+v %v", flags, err)
	}
	startWorkers(t, w, w.vault, time.Now)
	m := waitMail(t, w.smtp, "Break-glass not justified")
	if !slices.Equal(m.To, []string{"admin@acme.test"}) {
		t.Fatalf("not-justified email went to %v, want the tenant admins", m.To)
	}
	if ev := auditActions(t, w, "breakglass.reviewed"); len(ev) != 1 || ev[0]["verdict"] != "not-justified" {
		t.Fatalf("review audit: %v", ev)
	}
}

// TestADrillNeverBlocksARealBreakGlassNorFlagsTheResponder: with limits of
// one active break-glass per responder and one in the tenant, a responder
// mid-drill still breaks glass in a real incident (a drill counts toward
// neither limit; a second drill at once is refused), and a "not justified"
// review of the drill is recorded without flagging them, saying so.
func TestADrillNeverBlocksARealBreakGlassNorFlagsTheResponder(t *testing.T) {
	w, res, svc := breakGlassWorld(t, "tenant-bg9", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	drillRes, err := w.store.AddResource(ctx, w.tenant, approvals.Resource{Name: "Drill DB", Classification: approvals.High,
		Mount: "tenant-bg9", Path: "db/other", Policy: twoApprovals()}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.SetBreakGlass(ctx, w.tenant, drillRes, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour, Drill: true}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.SetBreakGlassLimits(ctx, w.tenant, approvals.Limits{PerResponder: 1, PerTenant: 1, ReviewSLA: approvals.DefaultReviewSLA}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	drill, err := svc.BreakGlass(ctx, holderOf(w, responderP), drillRes, emergencyE, true, audit.Meta{})
	if err != nil || !drill.Issued {
		t.Fatalf("the drill: %+v %v", drill, err)
	}
	if _, err := svc.BreakGlass(ctx, holderOf(w, responderP), drillRes, emergencyE, true, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a second drill at once: %v", err)
	}
	live, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil || !live.Issued {
		t.Fatalf("a real break-glass mid-drill: %+v %v", live, err)
	}
	waitState(t, w, drill.RequestID, approvals.Active, time.Second)
	waitState(t, w, live.RequestID, approvals.Active, time.Second)
	// The real limits still hold for real break-glass.
	if _, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a second real break-glass over the limits: %v", err)
	}

	// "Not justified" on the drill: recorded, nobody flagged, and it says so.
	notes := "the drill skipped the incident channel"
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, drill.RequestID, approver1, approvals.NotJustified, notes, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	d, err := w.store.Detail(ctx, w.tenant, drill.RequestID)
	if err != nil || d.Review.Verdict != approvals.NotJustified || d.Review.Notes != notes {
		t.Fatalf("the drill's review is not recorded: %+v %v", d.Review, err)
	}
	if flags, err := w.store.ResponderFlags(ctx, w.tenant); err != nil || len(flags) != 0 {
		t.Fatalf("a drill flagged the responder: %+v %v", flags, err)
	}
	ev := auditActions(t, w, "breakglass.reviewed")
	if len(ev) != 1 || ev[0]["verdict"] != "not-justified" || ev[0]["drill"] != "true" || ev[0]["responder_flagged"] != "false" ||
		!strings.Contains(fmt.Sprint(ev[0]["note"]), "not flagged") {
		t.Fatalf("the drill's review audit: %v", ev)
	}
	startWorkers(t, w, w.vault, time.Now)
	if m := waitMail(t, w.smtp, "[DRILL] Break-glass not justified"); !strings.Contains(m.Data, "the responder is not flagged") {
		t.Fatalf("the admins' notice does not say the responder is not flagged:\n%s", m.Data)
	}
	// The same verdict on the real one flags the responder.
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, live.RequestID, approver1, approvals.NotJustified, notes, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if flags, err := w.store.ResponderFlags(ctx, w.tenant); err != nil || len(flags) != 1 || flags[0].Count != 1 {
		t.Fatalf("flags after a real break-glass not justified: %+v %v", flags, err)
	}
	if ev := auditActions(t, w, "breakglass.reviewed"); len(ev) != 2 || ev[1]["responder_flagged"] != "true" {
		t.Fatalf("the real review's audit: %v", ev)
	}
}

func TestOverdueReviewsAreEscalated(t *testing.T) {
	c := &clock{}
	w, res, svc := breakGlassWorld(t, "tenant-bg4", c.now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	escalate := func() int {
		n, err := w.store.EscalateOverdue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := escalate(); n != 0 {
		t.Fatalf("escalated %d before the SLA", n)
	}
	c.advance(approvals.DefaultReviewSLA + time.Minute)
	if n := escalate(); n != 1 {
		t.Fatalf("escalated %d when overdue, want 1", n)
	}
	if n := escalate(); n != 0 {
		t.Fatalf("escalated %d again at once", n)
	}
	c.advance(approvals.DefaultReviewSLA)
	if n := escalate(); n != 1 {
		t.Fatalf("escalated %d a full SLA later, want 1", n)
	}
	startWorkers(t, w, w.vault, c.now)
	m := waitMail(t, w.smtp, "Break-glass review overdue")
	if !slices.Contains(m.To, "approver1@acme.test") || !slices.Contains(m.To, "admin@acme.test") || slices.Contains(m.To, "responder@acme.test") {
		t.Fatalf("escalation went to %v", m.To)
	}
	d, err := w.store.Detail(ctx, w.tenant, em.RequestID)
	if err != nil || d.Review.Escalations != 2 || !d.Review.Overdue(c.now()) {
		t.Fatalf("review after escalations: %+v %v", d.Review, err)
	}
	// Once reviewed, nothing is escalated any more.
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, em.RequestID, approver1, approvals.Justified, "matches INC-77 timeline", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	c.advance(approvals.DefaultReviewSLA)
	if n := escalate(); n != 0 {
		t.Fatalf("escalated %d after the review", n)
	}
}

// TestANewlyOverdueReviewIsNotStarvedByEscalatedOnes: the escalation sweep
// takes 500 reviews at a time; 600 older overdue reviews, each escalated a
// moment ago (so not due again for a full SLA), must not keep a review that
// has just become overdue from being escalated.
func TestANewlyOverdueReviewIsNotStarvedByEscalatedOnes(t *testing.T) {
	c := &clock{}
	w, res, svc := breakGlassWorld(t, "tenant-bg8", c.now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// The backlog: overdue for two days, escalated just before the sweep runs.
	escalatedAt := c.now().Add(approvals.DefaultReviewSLA)
	if _, err := w.pool.Exec(ctx, `
		WITH old AS (
			INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
			                      justification, incident, kind, drill, state, policy, submitted_at, updated_at)
			SELECT r.tenant_id, r.resource_id, r.requester_subject, r.requester_email, r.requester, r.level, r.duration_seconds,
			       r.justification, r.incident, r.kind, r.drill, 'expired', r.policy, r.submitted_at - interval '3 days', r.updated_at
			FROM requests r, generate_series(1, 600) g WHERE r.id::text = $1
			RETURNING id, tenant_id, submitted_at)
		INSERT INTO breakglass_reviews (request_id, tenant_id, due_at, escalations, last_escalated_at)
		SELECT id, tenant_id, submitted_at + interval '1 day', 3, $2 FROM old`, em.RequestID, escalatedAt); err != nil {
		t.Fatal(err)
	}
	c.advance(approvals.DefaultReviewSLA + time.Minute)
	if n, err := w.store.EscalateOverdue(ctx); err != nil || n != 1 {
		t.Fatalf("escalated %d (%v); want the one newly overdue review", n, err)
	}
	var mine, backlog int
	if err := w.pool.QueryRow(ctx, `SELECT
		(SELECT escalations FROM breakglass_reviews WHERE request_id::text = $1),
		(SELECT count(*) FROM breakglass_reviews WHERE request_id::text <> $1 AND escalations = 3 AND last_escalated_at = $2)`,
		em.RequestID, escalatedAt).Scan(&mine, &backlog); err != nil || mine != 1 || backlog != 600 {
		t.Fatalf("the new review escalated %d time(s); %d of 600 in the backlog untouched (%v)", mine, backlog, err)
	}
	if ev := auditActions(t, w, "breakglass.review_escalated"); len(ev) != 1 {
		t.Fatalf("escalations audited: %d, want 1", len(ev))
	}
}

func TestTheSecretIsRotatedWhenADrillWindowEnds(t *testing.T) {
	w, res, svc := breakGlassWorld(t, "tenant-bg5", time.Now,
		approvals.BreakGlass{Enabled: true, MaxDuration: 15 * time.Minute, RotateAfter: true, Drill: true})
	ctx := context.Background()
	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil || !em.Issued {
		t.Fatalf("%+v %v", em, err)
	}
	before, err := w.store.Detail(ctx, w.tenant, em.RequestID)
	if err != nil || !before.Drill {
		t.Fatalf("not marked a drill: %+v %v", before, err)
	}
	// The window ends (the expiry job's work, run here directly).
	tgt, err := w.store.Ending(ctx, em.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.End(ctx, w.store, svc.Vault, tgt, false, "system"); err != nil {
		t.Fatal(err)
	}
	d, err := w.store.Detail(ctx, w.tenant, em.RequestID)
	if err != nil || d.State != approvals.Expired || d.Review.RotatedVersion != "2" {
		t.Fatalf("after the window: %s, rotated to version %q (%v)", d.State, d.Review.RotatedVersion, err)
	}
	// Version 2 holds a new random value for the same key; version 1 is kept.
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	root, _ := vaultapi.NewClient(cfg)
	root.SetToken(stack.Vault.RootToken)
	cur, err := root.KVv2("tenant-bg5").Get(ctx, "db/orders")
	if err != nil || cur.VersionMetadata.Version != 2 {
		t.Fatalf("current version: %v", err)
	}
	if v, _ := cur.Data["password"].(string); len(v) != 43 || v == "value-of-db/orders" || len(cur.Data) != 1 {
		t.Fatalf("rotated value has the wrong shape (%d keys)", len(cur.Data))
	}
	if old, err := root.KVv2("tenant-bg5").GetVersion(ctx, "db/orders", 1); err != nil || old.Data["password"] != "value-of-db/orders" {
		t.Fatalf("the previous version is not kept: %v", err)
	}
	// The rotation's throwaway policy is gone; running the end again rotates nothing more.
	if p, err := root.Sys().GetPolicy("gatehouse-grant-rotate-" + em.RequestID); err != nil || p != "" {
		t.Fatalf("rotation policy left behind: %q %v", p, err)
	}
	if ev := auditActions(t, w, "secret.rotated"); len(ev) != 1 || ev[0]["version"] != "2" {
		t.Fatalf("rotation audit: %v", ev)
	}
	if ev := auditActions(t, w, "breakglass.started"); len(ev) != 1 || ev[0]["drill"] != "true" {
		t.Fatalf("drill not marked in the audit trail: %v", ev)
	}
	startWorkers(t, w, w.vault, time.Now)
	if m := waitMail(t, w.smtp, "[DRILL] Break-glass"); len(m.To) == 0 {
		t.Fatal("drill email without recipients")
	}
}

// waitDeliveries waits until the notices about ref satisfy ok, and
// returns them.
func waitDeliveries(t *testing.T, w world, ref string, ok func([]jobs.Delivery) bool) []jobs.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		told, err := w.store.Deliveries(context.Background(), w.tenant, ref)
		if err != nil {
			t.Fatal(err)
		}
		ds := told.Latest
		if ok(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v", ds)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// forgetJobs deletes every job River holds, as its retention does a day
// after a job completes (a week after it fails).
func forgetJobs(t *testing.T, w world) {
	t.Helper()
	if _, err := w.pool.Exec(context.Background(), "DELETE FROM river_job"); err != nil {
		t.Fatal(err)
	}
}

func inStates(ds []jobs.Delivery, state string) int {
	n := 0
	for _, d := range ds {
		if d.State == state {
			n++
		}
	}
	return n
}

func TestChannelsDownDoNotDelayAccessAndTheFailureIsVisible(t *testing.T) {
	w, res, svc := breakGlassWorld(t, "tenant-bg6", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	broken := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(broken.Close)
	if err := w.store.SetWebhook(ctx, w.tenant, broken.URL+"/hooks/SECRET-PART", "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	_ = w.smtp.Close() // the mail relay is down too
	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil || !em.Issued {
		t.Fatalf("access must not wait on notifications: %+v %v", em, err)
	}
	startWorkers(t, w, w.vault, time.Now)
	reasons := map[string]string{
		"email": "The mail relay refused the connection: nothing is listening at its address.",
		"chat":  "The chat webhook answered 502 Bad Gateway.",
	}
	plain := func(ds []jobs.Delivery) {
		for _, d := range ds {
			if d.Reason != reasons[d.Channel] {
				t.Fatalf("the %s delivery's reason: %q, want %q", d.Channel, d.Reason, reasons[d.Channel])
			}
		}
	}
	// The break-glass's notice and the responder's "access granted", by email and chat each.
	ds := waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool { return len(ds) == 4 && inStates(ds, jobs.NoticeRetrying) == 4 })
	plain(ds)
	// The last attempt fails too: failed for good, and it stays visible
	// once River has forgotten the jobs.
	if _, err := w.pool.Exec(ctx, "UPDATE river_job SET max_attempts = 2 WHERE kind = 'notify'"); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool { return inStates(ds, jobs.NoticeFailed) == 4 })
	forgetJobs(t, w)
	ds = waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool { return len(ds) == 4 })
	plain(ds)
	for _, d := range ds {
		if d.State != jobs.NoticeFailed || !d.Failing() || d.Attempts != 2 {
			t.Fatalf("a delivery failed for good: %+v", d)
		}
	}
	var leaks int
	if err := w.pool.QueryRow(ctx, "SELECT count(*) FROM notices WHERE reason LIKE '%SECRET-PART%' OR reason LIKE '%127.0.0.1%'").Scan(&leaks); err != nil || leaks != 0 {
		t.Fatalf("%d delivery reasons name the webhook URL or the relay's address (%v)", leaks, err)
	}
}

// TestWhoWasToldOutlivesRiversJobs: River forgets a completed notify job
// after a day; the review, due after a day or later, must still show who
// was told, on which channel, and that it was delivered.
func TestWhoWasToldOutlivesRiversJobs(t *testing.T) {
	w, res, svc := breakGlassWorld(t, "tenant-bg10", time.Now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	ctx := context.Background()
	em, err := svc.BreakGlass(ctx, holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	startWorkers(t, w, w.vault, time.Now)
	// The break-glass's notice and the responder's "access granted", by email and chat each.
	waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool { return len(ds) == 4 && inStates(ds, jobs.NoticeDelivered) == 4 })
	forgetJobs(t, w)
	told, err := w.store.Deliveries(ctx, w.tenant, em.RequestID)
	ds := told.Latest
	if err != nil || len(ds) != 4 || told.Total != 4 {
		t.Fatalf("after River forgot the jobs: %+v %v", ds, err)
	}
	email, chat := ds[0], ds[1]
	slices.Sort(email.To)
	if email.Channel != "email" || !email.Delivered() || email.Attempts != 1 || email.Reason != "" || !email.Urgent ||
		!slices.Equal(email.To, []string{"admin@acme.test", "approver1@acme.test", "approver2@acme.test"}) ||
		email.Subject != "Break-glass: responder@acme.test on Orders DB" {
		t.Fatalf("the email notice: %+v", email)
	}
	if chat.Channel != "chat" || !chat.Delivered() || len(chat.To) != 0 {
		t.Fatalf("the chat notice: %+v", chat)
	}
	// Without a webhook set, the chat notice says it was not sent, and why.
	if err := w.store.SetWebhook(ctx, w.tenant, "", "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.ReviewBreakGlass(ctx, w.tenant, em.RequestID, approver1, approvals.NotJustified, "no incident matched this access", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	ds = waitDeliveries(t, w, em.RequestID, func(ds []jobs.Delivery) bool {
		return len(ds) == 6 && inStates(ds, jobs.NoticeDelivered) == 5 && inStates(ds, jobs.NoticeNotSent) == 1
	})
	if ns := ds[5]; ns.Channel != "chat" || ns.Reason != "The organization has no chat webhook set." {
		t.Fatalf("the chat notice without a webhook: %+v", ns)
	}
	if !slices.Equal(ds[4].To, []string{"admin@acme.test"}) {
		t.Fatalf("the not-justified notice went to %v", ds[4].To)
	}
}

func TestBreakGlassWhileVaultIsDownIsIssuedByItsBackstopJob(t *testing.T) {
	c := &clock{}
	c.advance(-time.Minute) // the backstop job, due 30 s after breaking glass, is due at once
	w, res, svc := breakGlassWorld(t, "tenant-bg7", c.now, approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour})
	down, err := vault.New("http://127.0.0.1:1", "unused")
	if err != nil {
		t.Fatal(err)
	}
	svc.Vault = down
	em, err := svc.BreakGlass(context.Background(), holderOf(w, responderP), res, emergencyE, true, audit.Meta{})
	if err != nil || em.Issued || em.RequestID == "" {
		t.Fatalf("with Vault down: %+v %v", em, err)
	}
	waitState(t, w, em.RequestID, approvals.Issuing, time.Second)
	startWorkers(t, w, w.vault, time.Now) // Vault is reachable again for the job
	waitState(t, w, em.RequestID, approvals.Active, 15*time.Second)
}
