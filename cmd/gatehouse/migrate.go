package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse/postgres"
)

// migrate runs "migrate up" or "migrate status" against the configured database.
func migrate(ctx context.Context, cfg config, action string, out io.Writer) error {
	if cfg.DatabaseURL == "" {
		return errors.New("GATEHOUSE_DATABASE_URL (or --database-url) is required")
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if action == "up" {
		if err := postgres.Migrate(ctx, pool, out); err != nil {
			return err
		}
		fmt.Fprintln(out, "database is up to date")
		return nil
	}
	st, err := postgres.Status(ctx, pool)
	if err != nil {
		return err
	}
	for _, s := range st {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(out, "%-9s %-8s %s\n", s.Source, state, s.Name)
	}
	return nil
}
