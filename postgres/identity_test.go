package postgres_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/postgres"
)

func TestEndedSessionsAreSwept(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	if err := postgres.NewTenantStore(pool).Register(ctx, registration(t, "acme", "Acme", "acme.test"), "test"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ids := postgres.NewIdentityStore(pool, func() time.Time { return now })
	tenant := tenantID(t, pool, "acme")
	add := func(name string, lastSeen, expires time.Time) {
		h := sha256.Sum256([]byte(name))
		s := identity.Session{Identity: identity.Identity{TenantID: tenant, Subject: name, Email: name + "@acme.test", Name: name,
			Issuer: "https://idp.example/acme", AuthTime: lastSeen}, CreatedAt: lastSeen, LastSeen: lastSeen, ExpiresAt: expires}
		if err := ids.CreateSession(ctx, h[:], s, audit.Meta{}, audit.Event{TenantID: tenant, Actor: name, Action: "login.succeeded", Outcome: audit.Success}); err != nil {
			t.Fatal(err)
		}
	}
	add("active", now.Add(-5*time.Minute), now.Add(time.Hour))
	add("idle", now.Add(-31*time.Minute), now.Add(time.Hour))
	add("expired", now.Add(-time.Minute), now.Add(-time.Second))
	n, err := ids.SweepSessions(ctx, 30*time.Minute)
	if err != nil || n != 2 {
		t.Fatalf("swept %d, %v; want 2", n, err)
	}
	var left string
	if err := pool.QueryRow(ctx, "SELECT string_agg(subject, ',') FROM sessions").Scan(&left); err != nil || left != "active" {
		t.Fatalf("left %q, %v", left, err)
	}
}

func TestOwnSessionsFollowResumeAndResolveOnlyForTheirOwner(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	ts := postgres.NewTenantStore(pool)
	for _, r := range []struct{ slug, name, domain string }{{"acme", "Acme", "acme.test"}, {"globex", "Globex", "globex.test"}} {
		if err := ts.Register(ctx, registration(t, r.slug, r.name, r.domain), "test"); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().Truncate(time.Second)
	now := t0
	clock := func() time.Time { return now }
	ids := postgres.NewIdentityStore(pool, clock)
	sessions := identity.NewSessions(ids, clock, 30*time.Minute, time.Hour)
	acme, globex := tenantID(t, pool, "acme"), tenantID(t, pool, "globex")
	person := func(tenant, slug, subject string) identity.Identity {
		return identity.Identity{TenantID: tenant, TenantSlug: slug, Subject: subject, Email: subject + "@" + slug + ".test", Name: subject,
			Issuer: "https://idp.example/" + slug, AuthTime: now}
	}
	start := func(at time.Time, id identity.Identity) string {
		now = at
		defer func() { now = t0 }()
		tok, err := sessions.Start(ctx, id, audit.Meta{IP: "192.0.2.7", UserAgent: "test agent"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	touch := func(tok string, at time.Time) {
		h := sha256.Sum256([]byte(tok))
		if err := ids.TouchSession(ctx, h[:], at, "203.0.113.5"); err != nil {
			t.Fatal(err)
		}
	}
	me := person(acme, "acme", "me")
	here := start(t0.Add(-2*time.Minute), me)
	newer := start(t0.Add(-time.Minute), me)
	edge := start(t0.Add(-30*time.Minute), me) // idle exactly the timeout: Resume keeps it
	busy := start(t0.Add(-50*time.Minute), me)
	touch(busy, t0.Add(-5*time.Minute))
	expired := start(t0.Add(-61*time.Minute), me) // past the absolute timeout though recently seen
	touch(expired, t0.Add(-time.Minute))
	idle := start(t0.Add(-31*time.Minute), me)
	colleague := start(t0.Add(-time.Minute), person(acme, "acme", "colleague"))
	namesake := start(t0.Add(-time.Minute), person(globex, "globex", "me")) // the same subject in another tenant

	// Used now from another address than the sign-in's: recorded at once,
	// though the session was seen a minute ago.
	cur, err := sessions.Resume(ctx, here, "198.51.100.20")
	if err != nil || cur.LastIP != "198.51.100.20" {
		t.Fatalf("resumed %+v, %v; want last used from 198.51.100.20", cur, err)
	}
	own, err := sessions.Own(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	refOf := func(tok string) string {
		var ref string
		h := sha256.Sum256([]byte(tok))
		if err := pool.QueryRow(ctx, "SELECT ref::text FROM sessions WHERE id_hash = $1", h[:]).Scan(&ref); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	want := []string{refOf(newer), refOf(here), refOf(edge), refOf(busy)} // newest first
	if len(own) != len(want) {
		t.Fatalf("%d own sessions, want %d", len(own), len(want))
	}
	lastIP := []string{"192.0.2.7", "198.51.100.20", "192.0.2.7", "203.0.113.5"} // as signed in, resumed, signed in, touched
	for i, o := range own {
		if o.Ref != want[i] || o.Current != (o.Ref == cur.Ref) || o.IP != "192.0.2.7" || o.LastIP != lastIP[i] || o.UserAgent != "test agent" {
			t.Errorf("own session %d: %+v", i, o)
		}
	}

	refused := []struct {
		name, ref string
		code      apperr.Code
	}{
		{"a colleague's", refOf(colleague), apperr.NotFound},
		{"another tenant's", refOf(namesake), apperr.NotFound},
		{"an idle one", refOf(idle), apperr.NotFound},
		{"an expired one", refOf(expired), apperr.NotFound},
		{"a malformed one", "x", apperr.NotFound},
		{"the asking one", cur.Ref, apperr.Conflict},
	}
	for _, c := range refused {
		if err := sessions.EndOther(ctx, cur, c.ref, audit.Meta{}); apperr.CodeOf(err) != c.code {
			t.Errorf("ending %s session: %v, want %s", c.name, err, c.code)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil || n != 8 {
		t.Fatalf("%d sessions after refused ends, want all 8 (%v)", n, err)
	}

	if err := sessions.EndOther(ctx, cur, refOf(newer), audit.Meta{IP: "198.51.100.1"}); err != nil {
		t.Fatal(err)
	}
	ended, err := sessions.EndOthers(ctx, cur, audit.Meta{})
	if err != nil || ended != 2 {
		t.Fatalf("ended %d others, %v; want edge and busy", ended, err)
	}
	var events, via int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE detail ? 'via') FROM audit_events
		WHERE action = 'session.ended' AND detail->>'reason' = $1 AND detail->>'session_ip' = '192.0.2.7'`,
		identity.SessionEndedReason).Scan(&events, &via); err != nil || events != 3 || via != 2 {
		t.Fatalf("%d session.ended events (%d via sign out everywhere else), want 3 (2): %v", events, via, err)
	}

	// Resume agrees: only this session, the colleague's and the namesake's live on.
	for tok, alive := range map[string]bool{here: true, newer: false, edge: false, busy: false, expired: false, idle: false, colleague: true, namesake: true} {
		if _, err := sessions.Resume(ctx, tok, ""); (err == nil) != alive {
			t.Errorf("resuming a session: %v, want alive=%v", err, alive)
		}
	}
}

// Resume records where a session is used from: a new address at once, the
// same one with last-seen at most once a minute, and an unknown one ("")
// never over a known one.
func TestResumeRecordsANewAddressAtOnceAndTheSameOneOnceAMinute(t *testing.T) {
	ctx := context.Background()
	pool := stack.NewPool(t)
	if err := postgres.NewTenantStore(pool).Register(ctx, registration(t, "acme", "Acme", "acme.test"), "test"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Truncate(time.Second)
	now := t0
	clock := func() time.Time { return now }
	sessions := identity.NewSessions(postgres.NewIdentityStore(pool, clock), clock, 30*time.Minute, time.Hour)
	tok, err := sessions.Start(ctx, identity.Identity{TenantID: tenantID(t, pool, "acme"), TenantSlug: "acme", Subject: "me",
		Email: "me@acme.test", Name: "me", Issuer: "https://idp.example/acme", AuthTime: t0}, audit.Meta{IP: "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() (seen time.Time, ip string) {
		h := sha256.Sum256([]byte(tok))
		if err := pool.QueryRow(ctx, "SELECT last_seen_at, last_ip FROM sessions WHERE id_hash = $1", h[:]).Scan(&seen, &ip); err != nil {
			t.Fatal(err)
		}
		return seen, ip
	}
	steps := []struct {
		after    time.Duration
		from     string
		seen     time.Duration // the stored last-seen, after t0
		recorded string
	}{
		{10 * time.Second, "192.0.2.7", 0, "192.0.2.7"},                        // same address, within a minute: nothing written
		{20 * time.Second, "198.51.100.20", 20 * time.Second, "198.51.100.20"}, // new address: written at once
		{30 * time.Second, "", 20 * time.Second, "198.51.100.20"},              // unknown address: nothing written
		{90 * time.Second, "", 90 * time.Second, "198.51.100.20"},              // a minute on: last-seen only
		{100 * time.Second, "192.0.2.7", 100 * time.Second, "192.0.2.7"},       // back to the first: written at once
	}
	for _, st := range steps {
		now = t0.Add(st.after)
		sess, err := sessions.Resume(ctx, tok, st.from)
		if err != nil || sess.LastIP != st.recorded {
			t.Fatalf("at +%s from %q: %+v, %v", st.after, st.from, sess, err)
		}
		if seen, ip := stored(); !seen.Equal(t0.Add(st.seen)) || ip != st.recorded {
			t.Errorf("at +%s from %q: stored last seen +%s from %q, want +%s from %q",
				st.after, st.from, seen.Sub(t0), ip, st.seen, st.recorded)
		}
	}
}
