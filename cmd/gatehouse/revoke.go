package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/user"
	"time"

	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/stores"
)

// revokeArgs are `gatehouse revoke`'s own flags.
type revokeArgs struct {
	Scope  string
	Reason string
	Rotate bool
}

// parseRevokeArgs takes --scope, --reason and --rotate off args and
// returns the rest (the common configuration flags).
func parseRevokeArgs(args []string) (revokeArgs, []string, error) {
	var r revokeArgs
	var rest []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--scope", "--reason":
			if i+1 >= len(args) {
				return r, nil, fmt.Errorf("%s needs a value", args[i])
			}
			if args[i] == "--scope" {
				r.Scope = args[i+1]
			} else {
				r.Reason = args[i+1]
			}
			i++
		case "--rotate":
			r.Rotate = true
		default:
			rest = append(rest, args[i])
		}
	}
	return r, rest, nil
}

// revoke runs an emergency revocation from the command line, directly
// against PostgreSQL and Vault (for when the console is unreachable): the
// same block, session end, durable job and verification as the console,
// run in the foreground until every credential is verified dead (retrying
// while Vault is unreachable, until ctx ends), then prints the report as
// JSON. Interrupted, the revocation's job completes it in any running
// Gatehouse, or the next `gatehouse serve` resumes it.
func revoke(ctx context.Context, cfg config, a revokeArgs, out, errOut io.Writer) error {
	sc, err := approvals.ParseScope(a.Scope)
	if err != nil {
		return fmt.Errorf("--scope: %s", firstField(err))
	}
	if err := approvals.CheckRevocation(sc, sc.String(), a.Reason); err != nil {
		return fmt.Errorf("--reason: %s", firstField(err))
	}
	pool, vc, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		return err
	}
	store := postgres.NewRequestStore(pool, inserter, time.Now)
	backends := app.Backends{Client: vc, Service: &stores.Service{Bindings: postgres.NewBindingStore(pool, time.Now), Secrets: vc,
		Open: stores.Adapters(stores.Endpoints{AWS: cfg.AWSEndpoint})}}
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	operator := approvals.Viewer{Operator: true}
	id, err := store.StartRevocation(ctx, sc, operator, a.Reason, actor, a.Rotate, audit.Meta{UserAgent: "gatehouse-cli/" + version})
	if err != nil {
		return fmt.Errorf("starting the revocation of %s: %s", sc, firstField(err))
	}
	fmt.Fprintf(errOut, "revocation %s: %s blocked, sessions ended; revoking credentials…\n", id, sc)
	for attempt := 1; ; attempt++ {
		err := jobs.RunRevocation(ctx, store, store, backends, cfg.RevokeConcurrency, id)
		if err == nil {
			break
		}
		wait := min(time.Duration(attempt)*time.Second, 10*time.Second)
		fmt.Fprintf(errOut, "not done yet (%v); retrying in %s\n", err, wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted: revocation %s continues in Gatehouse's job workers (or at the next start)", id)
		case <-time.After(wait):
		}
	}
	r, err := store.Revocation(ctx, id, operator)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(approvals.ReportOf(r))
}

// firstField returns an apperr's field message, or its message.
func firstField(err error) string {
	var msg string
	for _, m := range apperrFields(err) {
		msg = m
	}
	if msg == "" {
		msg = err.Error()
	}
	return msg
}

func apperrFields(err error) map[string]string {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Fields
	}
	return nil
}
