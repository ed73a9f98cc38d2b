package jobs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/tenants"
)

// shareWorld is acme (the owner, newWorld's) plus globex (the recipient)
// and initech (a third organization), each with members.
type shareWorld struct {
	world
	res     string // acme's "Orders DB"
	globex  string
	initech string
	svc     *access.Service
	tenants *postgres.TenantStore
	mount   string
	people  map[string]approvals.Person
}

func newShareWorld(t *testing.T, mount string, now func() time.Time) shareWorld {
	t.Helper()
	w, res := newWorld(t, mount, now)
	ctx := context.Background()
	sw := shareWorld{world: w, res: res, mount: mount, people: map[string]approvals.Person{}}
	sw.tenants = postgres.NewTenantStore(w.pool)
	inserter, err := jobs.NewInserter(w.pool)
	if err != nil {
		t.Fatal(err)
	}
	sw.tenants.Jobs = inserter
	ids := map[string]string{"acme": w.tenant}
	for _, slug := range []string{"globex", "initech"} {
		tn, _ := tenants.NewTenant(slug, strings.ToUpper(slug[:1])+slug[1:], []string{slug + ".test"})
		tn.Status = tenants.StatusActive
		if err := sw.tenants.Register(ctx, tenants.Registration{Tenant: tn,
			IdP:      tenants.IdentityProvider{IssuerURL: "https://idp." + slug, ClientID: "c", ClientSecretRef: "gatehouse/idp/" + slug, Scopes: []string{"openid"}, GroupsClaim: "groups"},
			Mappings: []tenants.RoleMapping{{Group: "admins", Role: tenants.RoleTenantAdmin}},
			Binding:  tenants.StoreBinding{Kind: tenants.StoreVaultKV2, Location: "tenant-" + slug}}, "test"); err != nil {
			t.Fatal(err)
		}
		if err := w.pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", slug).Scan(&sw.initech); err != nil {
			t.Fatal(err)
		}
		ids[slug] = sw.initech
	}
	sw.globex, sw.initech = ids["globex"], ids["initech"]
	for slug, tid := range ids {
		for _, m := range []struct{ subject, role string }{
			{"admin", "tenant-admin"}, {"approver1", "approver"}, {"approver2", "approver"}, {"requester", "requester"},
		} {
			email := m.subject + "@" + slug + ".test"
			if _, err := w.pool.Exec(ctx, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
				VALUES ($1, $2, $3, $4, '{}', ARRAY[$5], now(), now())`, tid, slug+"-"+m.subject, email, "Name of "+m.subject, m.role); err != nil {
				t.Fatal(err)
			}
			sw.people[slug+"/"+m.subject] = approvals.Person{Tenant: tid, Subject: slug + "-" + m.subject, Email: email,
				Name: "Name of " + m.subject, Roles: []tenants.Role{tenants.Role(m.role)}}
		}
	}
	gatehouse, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t))
	if err != nil {
		t.Fatal(err)
	}
	sw.svc = &access.Service{Store: w.store, Vault: gatehouse, Now: now}
	return sw
}

func (sw shareWorld) p(who string) approvals.Person { return sw.people[who] }

func (sw shareWorld) terms(mode approvals.ShareMode, now time.Time) approvals.ShareTerms {
	return approvals.ShareTerms{Recipients: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}}, Level: approvals.Read,
		TermEnd: now.Add(30 * 24 * time.Hour), Purpose: "joint payments incident response", Mode: mode, MaxGrant: time.Hour}
}

// activeShare proposes, approves and accepts a share of Orders DB with globex.
func (sw shareWorld) activeShare(t *testing.T, terms approvals.ShareTerms) string {
	t.Helper()
	ctx := context.Background()
	id, err := sw.store.ProposeShare(ctx, sw.tenant, sw.p("acme/admin"), "globex", []string{sw.res}, terms, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := sw.store.DecideShare(ctx, sw.tenant, id, sw.p("acme/approver1"), true, "", audit.Meta{}); err != nil || st != approvals.ShareAccepting {
		t.Fatalf("owner approval: %s %v", st, err)
	}
	if err := sw.store.AcceptShare(ctx, sw.globex, id, sw.p("globex/admin"), true, "", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (sw shareWorld) holder(who string) access.Holder {
	p := sw.p(who)
	return access.Holder{TenantID: p.Tenant, TenantSlug: strings.Split(who, "/")[0], Person: p}
}

// tokenOf takes the holder's wrapped token and unwraps it, as the holder would.
func (sw shareWorld) tokenOf(t *testing.T, who, req string) *vaultapi.Client {
	t.Helper()
	issued, err := sw.svc.TakeToken(context.Background(), sw.holder(who), req, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	c, _ := vaultapi.NewClient(cfg)
	c.SetToken("")
	sec, err := c.Logical().Unwrap(issued.WrappingToken)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(sec.Auth.ClientToken)
	return c
}

func TestAShareCrossesTheBoundaryOnlyWithBothSidesAndEndsEverything(t *testing.T) {
	sw := newShareWorld(t, "tenant-sh1", time.Now)
	ctx := context.Background()
	terms := sw.terms(approvals.PreApproved, time.Now())
	// Bad proposals change nothing.
	for name, tc := range map[string]struct {
		who, recipient string
		resources      []string
		field          string
	}{
		"share with itself":     {"acme/admin", "acme", []string{sw.res}, "recipient"},
		"unknown organization":  {"acme/admin", "nowhere", []string{sw.res}, "recipient"},
		"not in the catalog":    {"acme/admin", "globex", []string{"00000000-0000-0000-0000-000000000000"}, "resources"},
		"a re-share by globex":  {"globex/admin", "initech", []string{sw.res}, "resources"},
		"proposed by non-admin": {"acme/approver1", "globex", []string{sw.res}, ""},
	} {
		owner := sw.p(tc.who).Tenant
		_, err := sw.store.ProposeShare(ctx, owner, sw.p(tc.who), tc.recipient, tc.resources, terms, audit.Meta{})
		if err == nil || (tc.field != "" && apperr.As(err).Fields[tc.field] == "") {
			t.Errorf("%s: %v (fields %v)", name, err, apperr.As(err).Fields)
		}
	}
	var n int
	if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM shares").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d shares created by refused proposals", n)
	}

	id, err := sw.store.ProposeShare(ctx, sw.tenant, sw.p("acme/admin"), "globex", []string{sw.res}, terms, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// Until the owner's approvers approve, the recipient does not see it; a third organization never does.
	if _, err := sw.store.ShareDetail(ctx, sw.globex, id); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("recipient sees a share still under the owner's review: %v", err)
	}
	if _, err := sw.store.DecideShare(ctx, sw.tenant, id, sw.p("acme/admin"), true, "", audit.Meta{}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("the proposer approving: %v", err)
	}
	if _, err := sw.store.DecideShare(ctx, sw.tenant, id, sw.p("acme/approver1"), true, "", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	// The owner cannot accept on the recipient's behalf; a recipient non-admin cannot either.
	if err := sw.store.AcceptShare(ctx, sw.tenant, id, sw.p("acme/admin"), true, "", audit.Meta{}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("the owner accepting: %v", err)
	}
	if err := sw.store.AcceptShare(ctx, sw.globex, id, sw.p("globex/requester"), true, "", audit.Meta{}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a recipient non-admin accepting: %v", err)
	}
	// Nothing is requestable before acceptance.
	if _, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), id, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("request before acceptance: %v", err)
	}
	if err := sw.store.AcceptShare(ctx, sw.globex, id, sw.p("globex/admin"), true, "", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	for _, tid := range []string{sw.initech} {
		if _, err := sw.store.ShareDetail(ctx, tid, id); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a third organization sees the share: %v", err)
		}
	}
	if _, err := sw.svc.RequestShared(ctx, sw.holder("initech/requester"), id, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a third organization requesting: %v", err)
	}

	// The recipient's requester gets a read-only credential on exactly the shared path.
	req, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), id, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Active, time.Second)
	data, err := sw.svc.Reveal(ctx, sw.holder("globex/requester"), req, audit.Meta{})
	if err != nil || data["password"] != "value-of-db/orders" {
		t.Fatalf("reveal of the shared secret: %v", err)
	}
	for _, tenant := range []string{sw.globex, sw.tenant} { // both sides see the reveal (written together)
		var n int
		if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'grant.revealed' AND target = $1 AND tenant_id = $2",
			req, tenant).Scan(&n); err != nil || n != 1 {
			t.Fatalf("reveal events in %s: %d %v", tenant, n, err)
		}
	}
	if _, err := sw.svc.Reveal(ctx, sw.holder("acme/requester"), req, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("someone else revealing the recipient's grant: %v", err)
	}
	tok := sw.tokenOf(t, "globex/requester", req)
	if _, err := tok.KVv2("tenant-sh1").Get(ctx, "db/orders"); err != nil {
		t.Fatalf("the shared credential cannot read the shared path: %v", err)
	}
	if _, err := tok.KVv2("tenant-sh1").Get(ctx, "db/other"); err == nil {
		t.Fatal("the shared credential reads another secret of the owner")
	}
	if _, err := tok.KVv2("tenant-sh1").Put(ctx, "db/orders", map[string]any{"password": "x"}); err == nil {
		t.Fatal("the shared credential can write")
	}
	if _, err := tok.Logical().List("tenant-sh1/metadata/"); err == nil {
		t.Fatal("the shared credential can list the owner's mount")
	}

	// The recipient ends it: the grant is revoked and verified dead, both sides told and audited.
	startWorkers(t, sw.world, sw.svc.Vault, time.Now)
	if err := sw.store.EndShare(ctx, sw.globex, id, sw.p("globex/admin"), "incident closed", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Revoked, 15*time.Second)
	if _, err := tok.KVv2("tenant-sh1").Get(ctx, "db/orders"); err == nil {
		t.Fatal("the token still reads after the share ended")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var to []string
		for _, msg := range sw.smtp.Messages() {
			if strings.Contains(msg.Data, "Share ended") {
				to = append(to, msg.To...)
			}
		}
		if slices.Contains(to, "admin@acme.test") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the share's end reached %v, not the owner's admins", to)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tid := range []string{sw.tenant, sw.globex} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			var k int
			if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'share.access_ended'", tid).Scan(&k); err != nil {
				t.Fatal(err)
			}
			if k == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("tenant %s: share.access_ended not on its side of the audit trail", tid)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if _, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), id, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("request under an ended share: %v", err)
	}
	if rep, err := postgres.VerifyAudit(ctx, sw.pool, ""); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit chains: %+v %v", rep, err)
	}
}

func TestPerAccessRequestsNeedBothSidesApprovers(t *testing.T) {
	sw := newShareWorld(t, "tenant-sh2", time.Now)
	ctx := context.Background()
	terms := sw.terms(approvals.PerAccess, time.Now())
	terms.RecipientApprovals, terms.OwnerApprovals = 1, 1
	id := sw.activeShare(t, terms)
	req, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), id, sw.res,
		approvals.Submission{Level: approvals.Read, Duration: 30 * time.Minute, Justification: "reconcile payments"}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Pending, time.Second)
	// The owner's approver cannot decide the recipient's step; a third organization cannot reach it.
	if _, err := sw.store.Decide(ctx, sw.tenant, req, sw.p("acme/approver1"), true, "", 0, audit.Meta{}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("owner approver on the recipient step: %v", err)
	}
	if _, err := sw.store.Decide(ctx, sw.initech, req, sw.p("initech/approver1"), true, "", 0, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a third organization's approver: %v", err)
	}
	if _, err := sw.store.Decide(ctx, sw.globex, req, sw.p("globex/approver1"), true, "", 0, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	// The owner's approvers are told the request now waits for them.
	startWorkers(t, sw.world, sw.svc.Vault, time.Now)
	if m := waitMail(t, sw.smtp, "waits for you (owner)"); !slices.Contains(m.To, "approver1@acme.test") || slices.Contains(m.To, "approver1@globex.test") {
		t.Fatalf("owner step notice went to %v", m.To)
	}
	st, err := sw.store.Decide(ctx, sw.tenant, req, sw.p("acme/approver1"), true, "", 0, audit.Meta{})
	if err != nil || st != approvals.Approved {
		t.Fatalf("owner step: %s %v", st, err)
	}
	issue := &jobs.IssueGrantWorker{Store: sw.store, Vault: sw.svc.Vault, Now: time.Now}
	job := &river.Job[jobs.IssueGrantArgs]{Args: jobs.IssueGrantArgs{RequestID: req}, JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 25}}
	if err := issue.Work(ctx, job); err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Active, time.Second)
	// Each side sees the request; the recipient sees the owner's approver by display name only.
	d, err := sw.store.Detail(ctx, sw.globex, req)
	if err != nil || !d.Shared() || d.RequesterTenant != sw.globex || d.TenantID != sw.tenant {
		t.Fatalf("recipient's view: %+v %v", d, err)
	}
	if _, err := sw.store.Detail(ctx, sw.initech, req); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a third organization's view: %v", err)
	}
}

func TestATermEndOrASuspendedRecipientEndsSharedAccess(t *testing.T) {
	c := &clock{}
	sw := newShareWorld(t, "tenant-sh3", c.now)
	ctx := context.Background()
	terms := sw.terms(approvals.PreApproved, c.now())
	terms.TermEnd = c.now().Add(2 * time.Hour)
	id := sw.activeShare(t, terms)
	req, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), id, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Active, time.Second)
	end := &jobs.EndShareWorker{Shares: sw.store, Grants: sw.store, Vault: sw.svc.Vault}
	atTerm := &river.Job[jobs.EndShareArgs]{Args: jobs.EndShareArgs{ShareID: id, AtTerm: true}}
	if err := end.Work(ctx, atTerm); err != nil { // before the term: nothing
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Active, time.Second)
	c.advance(2*time.Hour + time.Minute)
	if err := end.Work(ctx, atTerm); err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Revoked, time.Second)
	d, err := sw.store.ShareDetail(ctx, sw.tenant, id)
	if err != nil || d.State != approvals.ShareEnded || d.EndedBy != "system" {
		t.Fatalf("after the term: %s by %q (%v)", d.State, d.EndedBy, err)
	}

	// A second share; suspending the recipient revokes its members' grants at once.
	c.advance(-2*time.Hour - time.Minute)
	terms.TermEnd = c.now().Add(48 * time.Hour)
	id2 := sw.activeShare(t, terms)
	req2, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), id2, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req2, approvals.Active, time.Second)
	tok := sw.tokenOf(t, "globex/requester", req2)
	startWorkers(t, sw.world, sw.svc.Vault, c.now)
	if _, err := sw.tenants.ApplyKillSwitch(ctx, "globex", tenants.Suspend, "compromised partner", "operator", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req2, approvals.Revoked, 15*time.Second)
	if _, err := tok.KVv2("tenant-sh3").Get(ctx, "db/orders"); err == nil {
		t.Fatal("the suspended recipient's token still reads")
	}
}
