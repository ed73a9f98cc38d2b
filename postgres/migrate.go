package postgres

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/gatehouse/gatehouse/migrations"
)

// migrationLock is the advisory lock key that serializes migrations across
// replicas starting at the same time ("gatehouse" as a number).
const migrationLock int64 = 0x6761746568

// Migrate applies every pending Gatehouse migration and then River's own
// migrations, holding an advisory lock so concurrent replicas take turns.
// It writes one line per applied migration to out and returns the first failure.
func Migrate(ctx context.Context, pool *pgxpool.Pool, out io.Writer) error {
	return withMigrationLock(ctx, pool, func() error {
		provider, err := newGoose(pool)
		if err != nil {
			return err
		}
		results, err := provider.Up(ctx)
		for _, r := range results {
			fmt.Fprintf(out, "gatehouse: %s\n", r)
		}
		if err != nil {
			return fmt.Errorf("applying Gatehouse migrations: %w", err)
		}
		migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			return fmt.Errorf("preparing River migrations: %w", err)
		}
		res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("applying River migrations: %w", err)
		}
		for _, v := range res.Versions {
			fmt.Fprintf(out, "river: OK up %03d %s (%s)\n", v.Version, v.Name, v.Duration)
		}
		return nil
	})
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Source  string // "gatehouse" or "river"
	Name    string
	Applied bool
}

// Status lists Gatehouse's migrations and River's with their state.
// It returns an error when the database cannot be read.
func Status(ctx context.Context, pool *pgxpool.Pool) ([]MigrationStatus, error) {
	provider, err := newGoose(pool)
	if err != nil {
		return nil, err
	}
	gs, err := provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading Gatehouse migration status: %w", err)
	}
	var out []MigrationStatus
	for _, s := range gs {
		out = append(out, MigrationStatus{Source: "gatehouse", Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return nil, fmt.Errorf("preparing River migrations: %w", err)
	}
	applied := map[int]bool{}
	if existing, err := migrator.ExistingVersions(ctx); err == nil {
		for _, m := range existing {
			applied[m.Version] = true
		}
	}
	for _, m := range migrator.AllVersions() {
		out = append(out, MigrationStatus{Source: "river", Name: fmt.Sprintf("%03d %s", m.Version, m.Name), Applied: applied[m.Version]})
	}
	return out, nil
}

func newGoose(pool *pgxpool.Pool) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

func withMigrationLock(ctx context.Context, pool *pgxpool.Pool, fn func() error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquiring a connection for migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck // released with the session anyway
	return fn()
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise. It returns fn's error or the commit's.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}

// RequireCurrent returns an error telling the operator to run
// "gatehouse migrate up" when any migration is pending.
func RequireCurrent(ctx context.Context, pool *pgxpool.Pool) error {
	st, err := Status(ctx, pool)
	if err != nil {
		return err
	}
	for _, s := range st {
		if !s.Applied {
			return fmt.Errorf("the database schema is not current (%s migration %s is pending): run `gatehouse migrate up`", s.Source, s.Name)
		}
	}
	return nil
}
