package main

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// connect opens PostgreSQL and Vault for a command that works on them
// (serve, revoke), failing fast with the reason: configuration missing,
// PostgreSQL unreachable, schema not current, Vault unreachable or the
// token refused. The caller closes the pool.
func connect(ctx context.Context, cfg config) (*pgxpool.Pool, *vault.Client, error) {
	if err := cfg.validateServe(); err != nil {
		return nil, nil, err
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*pgxpool.Pool, *vault.Client, error) {
		pool.Close()
		return nil, nil, err
	}
	if err := postgres.RequireCurrent(ctx, pool); err != nil {
		return fail(err)
	}
	vc, err := vault.New(cfg.VaultAddr, cfg.VaultToken)
	if err != nil {
		return fail(err)
	}
	if err := vc.Verify(ctx); err != nil {
		return fail(err)
	}
	return pool, vc, nil
}
