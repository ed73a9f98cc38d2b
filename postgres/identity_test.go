package postgres_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

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
