package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse/postgres"
)

// auditVerify walks the audit chains ("gatehouse audit verify [--tenant ID]")
// and prints each chain's first problem. It returns an error when any chain
// is broken, so scripts and monitors can alert on the exit status.
func auditVerify(ctx context.Context, cfg config, tenantID string, out io.Writer) error {
	if cfg.DatabaseURL == "" {
		return errors.New("GATEHOUSE_DATABASE_URL (or --database-url) is required")
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := postgres.VerifyAudit(ctx, pool, tenantID)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(out, "BROKEN chain %s at event %d: %s\n", p.Chain, p.Seq, p.What)
	}
	fmt.Fprintf(out, "checked %d chain(s), %d event(s): %d broken\n", rep.Chains, rep.Events, len(rep.Problems))
	if len(rep.Problems) > 0 {
		return fmt.Errorf("the audit trail has been tampered with")
	}
	return nil
}
