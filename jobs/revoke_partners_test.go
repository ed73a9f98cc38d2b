package jobs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

// partnerWorld is acme with two active shares with globex (Orders DB,
// Payments DB) and a proposal to initech its approvers have not offered
// yet; nobody holds a grant.
func partnerWorld(t *testing.T, mount string) shareWorld {
	t.Helper()
	sw := newShareWorld(t, mount, time.Now)
	ctx := context.Background()
	terms := sw.terms(approvals.PreApproved, time.Now())
	payments, err := sw.store.AddResource(ctx, sw.tenant, approvals.Resource{Name: "Payments DB", Classification: approvals.High,
		Mount: sw.mount, Path: "db/payments", Policy: twoApprovals()}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	sw.activeShare(t, terms)
	onPayments := sw
	onPayments.res = payments
	onPayments.activeShare(t, terms)
	if _, err := sw.store.ProposeShare(ctx, sw.tenant, sw.p("acme/admin"), "initech", []string{sw.res}, terms, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	return sw
}

// revocationNotices returns, per organization slug, the texts of the
// notices of the revocation of scope enqueued for it, as "channel: text".
func revocationNotices(t *testing.T, sw shareWorld, scope string) map[string][]string {
	t.Helper()
	rows, err := sw.pool.Query(context.Background(), `SELECT t.slug, j.args->>'channel', j.args->'message'->>'Text'
		FROM river_job j JOIN tenants t ON t.id::text = j.args->>'tenant_id'
		WHERE j.kind = 'notify' AND j.args->'message'->>'Subject' = $1 ORDER BY j.id`, "Emergency revocation: "+scope)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var slug, channel, text string
		if err := rows.Scan(&slug, &channel, &text); err != nil {
			t.Fatal(err)
		}
		out[slug] = append(out[slug], channel+": "+text)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A revocation tells the organizations on the other side of every share
// its scope blocks — once each, whether or not anyone holds a grant under
// those shares — and audits it in their trail; a share its scope leaves
// usable, or one the partner cannot see yet, tells nobody.
func TestARevocationTellsThePartnersOfTheSharesItBlocks(t *testing.T) {
	for i, tc := range []struct {
		scope func(sw shareWorld) string
		told  map[string]int // organization → its shares the revocation blocks (0: told as the scope's own)
		note  string         // what a partner is told
	}{
		{func(shareWorld) string { return "tenant:acme" }, map[string]int{"acme": 0, "globex": 2}, "Your organization's 2 share(s) with it cannot be used"},
		{func(shareWorld) string { return "tenant:globex" }, map[string]int{"globex": 0, "acme": 2}, "Your organization's 2 share(s) with it cannot be used"},
		{func(shareWorld) string { return "idp:globex" }, map[string]int{"globex": 0, "acme": 2}, "Its people cannot use the 2 share(s) your organization offers them"},
		{func(shareWorld) string { return "idp:acme" }, map[string]int{"acme": 0}, ""}, // globex still uses what acme offers
		{func(sw shareWorld) string { return "resource:" + sw.res }, map[string]int{"acme": 0, "globex": 1}, "The resource cannot be reached under the 1 share(s)"},
	} {
		sw := partnerWorld(t, fmt.Sprintf("tenant-pt%d", i))
		ctx := context.Background()
		scope := tc.scope(sw)
		if scope == "tenant:acme" { // delivered too, through the in-process SMTP server and the webhook
			if err := sw.store.SetWebhook(ctx, sw.globex, sw.webhook.URL, "admin", audit.Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		// The preview names the partners among the organizations told.
		sc, _ := approvals.ParseScope(scope)
		im, err := sw.store.RevocationImpact(ctx, sc, operator, tenants.SessionWindow{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		for org, shares := range tc.told {
			name := strings.ToUpper(org[:1]) + org[1:]
			if shares > 0 && !slices.Contains(im.Tenants, name) {
				t.Errorf("%s: the preview's organizations told %v lack %s", scope, im.Tenants, name)
			}
		}
		id := sw.revoke(t, scope, false)
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, sw.svc.Vault, jobs.RevokeConcurrency, id); err != nil {
			t.Fatalf("%s: %v", scope, err)
		}
		notices := revocationNotices(t, sw, scope)
		for _, org := range []string{"acme", "globex", "initech"} {
			shares, told := tc.told[org]
			got := notices[org]
			slices.Sort(got)
			if !told {
				if len(got) != 0 {
					t.Errorf("%s: %s is told though the scope blocks none of its shares: %q", scope, org, got)
				}
				continue
			}
			if len(got) != 2 || !strings.HasPrefix(got[0], "chat: ") || !strings.HasPrefix(got[1], "email: ") {
				t.Errorf("%s: %s is told %q, want once by chat and once by email", scope, org, got)
				continue
			}
			if hasNote := strings.Contains(got[1], tc.note) && tc.note != ""; hasNote != (shares > 0) {
				t.Errorf("%s: %s is told %q; want the partner note %q: %v", scope, org, got[1], tc.note, shares > 0)
			}
			var n int
			var blocked string
			if err := sw.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(e.detail->>'shares_blocked'), '')
				FROM audit_events e JOIN tenants t ON t.id = e.tenant_id
				WHERE t.slug = $1 AND e.action = 'revocation.completed' AND e.target = $2`, org, scope).Scan(&n, &blocked); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: fmt.Sprint(shares), false: ""}[shares > 0]; n != 1 || blocked != want {
				t.Errorf("%s: %s's trail has %d revocation.completed events, shares blocked %q; want 1, %q", scope, org, n, blocked, want)
			}
		}
		if strings.HasPrefix(scope, "resource:") { // acme's admins see who was told, but not globex's people
			checkTold(t, sw, id)
		}
		if scope != "tenant:acme" {
			continue
		}
		startWorkers(t, sw.world, sw.svc.Vault, time.Now)
		deadline := time.Now().Add(10 * time.Second)
		for mailed, chatted := false, false; !mailed || !chatted; {
			for _, m := range sw.smtp.Messages() {
				mailed = mailed || (len(m.To) == 1 && m.To[0] == "admin@globex.test" && strings.Contains(m.Data, "Emergency revocation: tenant:acme") &&
					strings.Contains(m.Data, "2 share(s)"))
			}
			select {
			case text := <-sw.chat:
				chatted = chatted || (strings.Contains(text, "Emergency revocation: tenant:acme") && strings.Contains(text, "2 share(s)"))
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("globex was not told: by email %v, by chat %v", mailed, chatted)
			}
		}
		if rep, err := postgres.VerifyAudit(ctx, sw.pool, ""); err != nil || len(rep.Problems) != 0 {
			t.Fatalf("audit chains: %+v %v", rep, err)
		}
	}
}

// checkTold checks the revocation id of acme's resource as its page and
// report show it: both organizations told, by email and chat; acme's own
// recipients shown to acme's admins, globex's only to an operator.
func checkTold(t *testing.T, sw shareWorld, id string) {
	t.Helper()
	ctx := context.Background()
	for _, v := range []approvals.Viewer{{TenantID: sw.tenant}, operator} {
		r, err := sw.store.Revocation(ctx, id, v)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]approvals.Told{}
		for _, told := range r.Told {
			got[told.Org+"/"+told.Channel] = told
		}
		if len(r.Told) != 4 || len(got) != 4 {
			t.Fatalf("viewer %+v: told %+v", v, r.Told)
		}
		if to := got["acme/email"].To; len(to) != 1 || to[0] != "admin@acme.test" {
			t.Errorf("viewer %+v: acme's email went to %v", v, to)
		}
		if to := got["globex/email"].To; (len(to) == 1 && to[0] == "admin@globex.test") != v.Operator {
			t.Errorf("viewer %+v: globex's recipients shown: %v", v, to)
		}
		if g := got["globex/email"]; g.State != jobs.NoticePending || g.SentAt.IsZero() {
			t.Errorf("viewer %+v: globex's email notice %+v", v, g)
		}
		if rep := approvals.ReportOf(r); len(rep.Told) != 4 {
			t.Errorf("viewer %+v: the report tells %+v", v, rep.Told)
		}
	}
}
