package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/postgres"
)

func TestMigrateAppliesEverythingOnceAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, stack.NewEmptyDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	err = postgres.RequireCurrent(ctx, pool)
	if err == nil || !strings.Contains(err.Error(), "gatehouse migrate up") {
		t.Fatalf("RequireCurrent on an empty database = %v, want advice to migrate", err)
	}

	var out bytes.Buffer
	if err := postgres.Migrate(ctx, pool, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0001_tenants.sql") || !strings.Contains(out.String(), "river:") {
		t.Fatalf("migration output does not list Gatehouse and River migrations:\n%s", out.String())
	}
	if err := postgres.RequireCurrent(ctx, pool); err != nil {
		t.Fatalf("after migrating: %v", err)
	}
	st, err := postgres.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	var river int
	for _, s := range st {
		if !s.Applied {
			t.Errorf("%s %s not applied", s.Source, s.Name)
		}
		if s.Source == "river" {
			river++
		}
	}
	if river == 0 {
		t.Error("River migrations missing from status")
	}
	var jobs int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job").Scan(&jobs); err != nil {
		t.Fatalf("river_job table not created: %v", err)
	}

	out.Reset()
	if err := postgres.Migrate(ctx, pool, &out); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("second run applied something:\n%s", out.String())
	}
}

func TestOpenFailsFastWithoutLeakingThePassword(t *testing.T) {
	ctx := context.Background()
	_, err := postgres.Open(ctx, "postgres://gatehouse:s3cret-pw@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
	if !strings.Contains(err.Error(), "not reachable") {
		t.Fatalf("error does not say the server is unreachable: %v", err)
	}
	if _, err := postgres.Open(ctx, "::not a url::"); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("bad URL error = %v", err)
	}
}
