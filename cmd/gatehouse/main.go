// Command gatehouse is the Gatehouse access console.
//
//	gatehouse serve            run the web console
//	gatehouse migrate up       apply pending database migrations
//	gatehouse migrate status   list migrations and whether they are applied
//	gatehouse audit verify     check the audit trail's hash chains
//	gatehouse revoke           revoke everything in a scope (--scope tenant:acme --reason "...")
//	gatehouse version          print the version
//	gatehouse healthcheck      exit 0 when the local console answers /healthz
//
// Configuration comes from GATEHOUSE_* environment variables, overridden by
// flags; see the README's table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: gatehouse <command> [flags]

commands:
  serve            run the web console
  migrate up       apply pending database migrations
  migrate status   list migrations and whether they are applied
  audit verify     check the audit trail's hash chains ([--tenant ID])
  revoke           revoke everything in a scope, verified dead, and print the report
                   (--scope grant:ID|user:EMAIL|resource:ID|share:ID|tenant:SLUG|idp:SLUG --reason "..." [--rotate])
  version          print the version
  healthcheck      exit 0 when the local console answers /healthz

Run "gatehouse <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %v\n", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand and returns its error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseConfig("serve", args[1:])
		if err != nil {
			return err
		}
		return serve(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	case "migrate":
		if len(args) < 2 || (args[1] != "up" && args[1] != "status") {
			return errors.New(`migrate needs "up" or "status"`)
		}
		cfg, err := parseConfig("migrate "+args[1], args[2:])
		if err != nil {
			return err
		}
		return migrate(ctx, cfg, args[1], stdout)
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			return errors.New(`audit needs "verify"`)
		}
		rest, tenant := args[2:], ""
		if len(rest) >= 2 && rest[0] == "--tenant" {
			tenant, rest = rest[1], rest[2:]
		}
		cfg, err := parseConfig("audit verify", rest)
		if err != nil {
			return err
		}
		return auditVerify(ctx, cfg, tenant, stdout)
	case "revoke":
		ra, rest, err := parseRevokeArgs(args[1:])
		if err != nil {
			return err
		}
		cfg, err := parseConfig("revoke", rest)
		if err != nil {
			return err
		}
		return revoke(ctx, cfg, ra, stdout, stderr)
	case "healthcheck":
		cfg, err := parseConfig("healthcheck", args[1:])
		if err != nil {
			return err
		}
		return healthcheck(ctx, cfg)
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// newLogger returns a JSON slog logger at the named level (info when unknown).
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
