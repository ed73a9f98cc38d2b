package handlers_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/testenv"
)

// pages records every page a journey renders, except the pages whose very
// purpose is to show a value or token once.
type pages struct {
	bodies []string
}

func (p *pages) keep(pg testenv.Page) testenv.Page {
	if !strings.Contains(pg.Body, `data-testid="once"`) {
		p.bodies = append(p.bodies, pg.Body)
	}
	return pg
}

func TestNoSecretValueLeaksAnywhereAfterAFullJourney(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	var seen pages
	gh, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t))
	if err != nil {
		t.Fatal(err)
	}
	inserter, _ := jobs.NewInserter(f.pool)
	store := postgres.NewRequestStore(f.pool, inserter, time.Now)

	appr, _ := signedIn(t, console, "acme", "approver1@acme.test")
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	// A request, approved, issued, revealed, its token taken.
	req, _ := signedIn(t, console, "acme", "requester@acme.test")
	ci := resourceID(t, f, "CI deploy token")
	form := seen.keep(req.Get(console + "/catalog/" + ci))
	sub := seen.keep(req.PostForm(console+"/catalog/"+ci+"/requests", url.Values{"_csrf": {testenv.CSRF(t, form)}, "level": {"read"}, "justification": {"deploy hotfix 1.2.3"}}))
	id := strings.TrimPrefix(sub.URL.Path, "/requests/")
	seen.keep(appr.PostForm(console+"/requests/"+id+"/decide", url.Values{"_csrf": {testenv.CSRF(t, seen.keep(appr.Get(console+"/requests/"+id)))}, "decision": {"approve"}}))
	issue := &jobs.IssueGrantWorker{Store: store, Vault: gh, Now: time.Now}
	if err := issue.Work(ctx, &river.Job[jobs.IssueGrantArgs]{Args: jobs.IssueGrantArgs{RequestID: id}, JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 25}}); err != nil {
		t.Fatal(err)
	}
	grants := seen.keep(req.Get(console + "/grants"))
	if once := req.PostForm(console+"/grants/"+id+"/reveal", url.Values{"_csrf": {testenv.CSRF(t, grants)}}); !strings.Contains(once.Body, "demo-acme-deploy") {
		t.Fatal("the reveal did not show the value")
	}
	req.PostForm(console+"/grants/"+id+"/token", url.Values{"_csrf": {testenv.CSRF(t, grants)}})
	seen.keep(req.Get(console + "/requests/" + id))

	// A break-glass, revealed.
	resp, _ := signedIn(t, console, "acme", "responder@acme.test")
	bg := seen.keep(resp.SubmitLogin(resp.Get(console+"/auth/acme/reauth?return_to=/breakglass/new"), "responder@acme.test", devstack.DemoPassword))
	done := seen.keep(resp.PostForm(console+"/breakglass", url.Values{"_csrf": {testenv.CSRF(t, bg)}, "resource": {resourceID(t, f, "Orders database")},
		"incident": {"INC-1"}, "justification": {"orders database down, customers cannot pay"}}))
	bgID := strings.TrimPrefix(done.URL.Path, "/breakglass/")
	if once := resp.PostForm(console+"/grants/"+bgID+"/reveal", url.Values{"_csrf": {testenv.CSRF(t, done)}}); !strings.Contains(once.Body, "demo-orders-password") {
		t.Fatal("the break-glass reveal did not show the value")
	}
	seen.keep(appr.Get(console + "/breakglass/" + bgID))

	// A share to globex, accepted, used.
	p := seen.keep(admin.Get(console + "/shares/new"))
	share := seen.keep(admin.PostForm(console+"/shares", url.Values{"_csrf": {testenv.CSRF(t, p)}, "recipient": {"globex"}, "resource": {resourceID(t, f, "Stripe API key")},
		"recipients": {"requester"}, "level": {"read"}, "term_end": {time.Now().AddDate(0, 0, 10).Format("2006-01-02")}, "purpose": {"joint incident response"},
		"max_grant": {"1h"}, "mode": {"pre-approved"}}))
	shareURL := share.URL.Path
	seen.keep(appr.PostForm(console+shareURL+"/decide", url.Values{"_csrf": {testenv.CSRF(t, seen.keep(appr.Get(console+shareURL)))}, "decision": {"approve"}}))
	gadmin, _ := signedIn(t, console, "globex", "admin@globex.test")
	seen.keep(gadmin.PostForm(console+shareURL+"/accept", url.Values{"_csrf": {testenv.CSRF(t, seen.keep(gadmin.Get(console+shareURL)))}, "decision": {"accept"}}))
	greq, _ := signedIn(t, console, "globex", "requester@globex.test")
	stripe := resourceID(t, f, "Stripe API key")
	rf := seen.keep(greq.Get(console + shareURL + "/resources/" + stripe))
	shared := seen.keep(greq.PostForm(console+shareURL+"/resources/"+stripe, url.Values{"_csrf": {testenv.CSRF(t, rf)}, "level": {"read"}, "justification": {"checking"}}))
	sharedID := strings.TrimPrefix(shared.URL.Path, "/requests/")
	if once := greq.PostForm(console+"/grants/"+sharedID+"/reveal", url.Values{"_csrf": {testenv.CSRF(t, shared)}}); !strings.Contains(once.Body, "sk_demo_acme_payments") {
		t.Fatal("the shared reveal did not show the value")
	}

	// The tenant is frozen; every grant revoked and verified dead.
	op, _ := signedIn(t, console, "gatehouse", "operator@gatehouse.test")
	pv := seen.keep(op.Get(console + "/revocations/preview?scope=tenant:acme"))
	rv := seen.keep(op.PostForm(console+"/revocations", url.Values{"_csrf": {testenv.CSRF(t, pv)}, "scope": {"tenant:acme"}, "confirm": {"tenant:acme"}, "reason": {"end of the journey"}}))
	revID := strings.TrimPrefix(rv.URL.Path, "/revocations/")
	if err := jobs.RunRevocation(ctx, store, store, gh, jobs.RevokeConcurrency, revID); err != nil {
		t.Fatal(err)
	}
	seen.keep(op.Get(console + rv.URL.Path))
	seen.keep(op.Get(console + "/audit"))
	seen.keep(op.Get(console + "/audit/export?format=jsonl"))

	// Now look everywhere for a seeded value.
	var secrets []string
	for _, o := range devstack.DemoOrgs() {
		for _, data := range o.Secrets {
			for _, v := range data {
				if s, ok := v.(string); ok && len(s) > 6 {
					secrets = append(secrets, s)
				}
			}
		}
	}
	secrets = append(secrets, devstack.DemoPassword)
	check := func(where, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a seeded secret value appears in %s", where) // the value itself is never printed
			}
		}
	}
	rows, err := f.pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("only %d tables found", len(tables))
	}
	for _, table := range tables {
		var dump string
		if err := f.pool.QueryRow(ctx, `SELECT coalesce(string_agg(row_to_json(t)::text, E'\n'), '') FROM "`+table+`" t`).Scan(&dump); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		check("table "+table, dump)
	}
	check("the log", f.logs.String())
	for i, body := range seen.bodies {
		check("rendered page "+strconv.Itoa(i), body)
	}
	if len(seen.bodies) < 20 || f.logs.Len() == 0 {
		t.Fatalf("the scan saw %d pages and %d bytes of log: too little to mean anything", len(seen.bodies), f.logs.Len())
	}
	var revoked int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM requests WHERE state = 'revoked'").Scan(&revoked); err != nil || revoked < 3 {
		t.Fatalf("%d grants revoked by the freeze", revoked)
	}
}
