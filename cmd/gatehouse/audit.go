package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"time"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
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
	by := "cli"
	if u, err := user.Current(); err == nil {
		by = "cli:" + u.Username
	}
	// The result is recorded too: the console shows the last verification.
	var source postgres.CheckpointSource
	if cfg.VaultToken != "" { // also check the chains against Vault's checkpoints
		vc, err := vault.New(cfg.VaultAddr, cfg.VaultToken)
		if err != nil {
			return err
		}
		source = vc.ReadCheckpoints
	}
	if cfg.CheckpointFile != "" { // or against the export file's last line
		source = func(context.Context) ([]audit.Checkpoint, error) { return jobs.LastCheckpoints(cfg.CheckpointFile) }
	}
	rep, err := postgres.NewAuditLog(pool, time.Now, source).Verify(ctx, tenantID, tenantID == "", by)
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
