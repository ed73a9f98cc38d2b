// Command gatehouse-dev is `make dev`: it brings up the whole development
// stack on loopback — a private PostgreSQL cluster under .data/, a Vault dev
// server, the demo organizations' Dex IdPs and moto — migrates and seeds it,
// runs the real gatehouse binary against it, prints the console URL and the
// demo logins, and stops everything it started on Ctrl-C.
//
// Ports come from environment variables (see the README); the defaults are
// PostgreSQL 5433, Vault 8200, IdPs 5556, moto 5000, console 8080.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse-dev: %v\n", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context) error {
	root, err := devstack.RepoRoot()
	if err != nil {
		return err
	}
	data := filepath.Join(root, ".data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(data, "stack.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()

	listen := env("GATEHOUSE_LISTEN", "127.0.0.1:8080")
	publicURL := env("GATEHOUSE_PUBLIC_URL", "http://"+listen)
	var stops []func() error
	defer func() {
		fmt.Println("stopping the dev stack…")
		for i := len(stops) - 1; i >= 0; i-- {
			if err := stops[i](); err != nil {
				fmt.Fprintf(os.Stderr, "gatehouse-dev: %v\n", err)
			}
		}
	}()

	step("PostgreSQL")
	pgPort := atoi(env("GATEHOUSE_DEV_PG_PORT", "5433"))
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{DataDir: filepath.Join(data, "postgres"), Port: pgPort, Log: logFile})
	if err != nil {
		return err
	}
	stops = append(stops, pg.Stop)
	if err := pg.EnsureDatabase(ctx, "gatehouse"); err != nil {
		return err
	}

	step("Vault")
	rootToken := env("GATEHOUSE_DEV_VAULT_TOKEN", "dev-only-root-token")
	v, err := devstack.StartVault(ctx, env("GATEHOUSE_DEV_VAULT_LISTEN", "127.0.0.1:8200"), rootToken, logFile)
	if err != nil {
		return err
	}
	stops = append(stops, v.Proc.Stop)

	step("identity providers (Dex)")
	idpConfig := filepath.Join(data, "idp.json")
	orgs := devstack.DemoOrgs()
	if err := devstack.WriteIdPConfig(idpConfig, publicURL, orgs); err != nil {
		return err
	}
	idps, err := devstack.StartIdPs(ctx, idpConfig, env("GATEHOUSE_DEV_IDP_LISTEN", "127.0.0.1:5556"), logFile)
	if err != nil {
		return err
	}
	stops = append(stops, idps.Proc.Stop)

	step("moto (AWS)")
	moto, err := devstack.StartMoto(ctx, atoi(env("GATEHOUSE_DEV_MOTO_PORT", "5000")), logFile)
	if err != nil {
		return err
	}
	stops = append(stops, moto.Proc.Stop)
	awsKeys, err := moto.EnforceIAM(ctx)
	if err != nil {
		return err
	}

	step("migrating and seeding")
	dbURL := pg.URL("gatehouse")
	pool, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool, io.Discard); err != nil {
		return err
	}
	vc, err := vault.New(v.Addr, rootToken)
	if err != nil {
		return err
	}
	if err := devstack.Seed(ctx, pool, vc, orgs, idps.Issuers); err != nil {
		return err
	}
	if err := devstack.SeedAWS(ctx, pool, vc, moto.Endpoint, awsKeys); err != nil {
		return err
	}
	// Gatehouse runs as in production: with a token holding only its
	// least-privilege policy, never the root token.
	ghToken, err := vc.InstallGatehousePolicy(ctx)
	if err != nil {
		return err
	}

	step("Gatehouse")
	bin, err := devstack.Tool("gatehouse")
	if err != nil {
		return err
	}
	gh := exec.Command(bin, "serve")
	gh.Env = append(os.Environ(),
		"GATEHOUSE_LISTEN="+listen, "GATEHOUSE_PUBLIC_URL="+publicURL,
		"GATEHOUSE_DATABASE_URL="+dbURL, "GATEHOUSE_VAULT_ADDR="+v.Addr, "GATEHOUSE_VAULT_TOKEN="+ghToken,
		"GATEHOUSE_AWS_ENDPOINT="+moto.Endpoint, "GATEHOUSE_LOCAL_CHANNELS=true")
	gh.Stdout, gh.Stderr = logFile, logFile
	gh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := gh.Start(); err != nil {
		return fmt.Errorf("starting gatehouse: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- gh.Wait() }()
	stops = append(stops, func() error {
		_ = gh.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = gh.Process.Kill()
		}
		return nil
	})
	if err := devstack.WaitHTTP(ctx, publicURL+"/readyz", 30*time.Second); err != nil {
		return fmt.Errorf("gatehouse did not become ready (see %s): %w", logFile.Name(), err)
	}

	printBanner(publicURL, v.Addr, rootToken, moto.Endpoint, pg.URL("gatehouse"), idps.Issuers, orgs, logFile.Name())
	select {
	case <-ctx.Done():
		return nil
	case err := <-exited:
		return fmt.Errorf("gatehouse exited (%v); its log is in %s", err, logFile.Name())
	}
}

func step(what string) { fmt.Printf("starting %s…\n", what) }

func atoi(s string) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse-dev: %q is not a port number\n", s)
		os.Exit(2)
	}
	return n
}

func printBanner(console, vaultAddr, vaultToken, moto, db string, issuers map[string]string, orgs []devstack.DemoOrg, logPath string) {
	fmt.Printf("\nGatehouse is running: %s/login\n\n", console)
	fmt.Printf("  PostgreSQL  %s\n  Vault       %s (dev root token for you: %s; Gatehouse runs with the least-privilege policy \"gatehouse\")\n  moto (AWS)  %s\n", db, vaultAddr, vaultToken, moto)
	for _, o := range orgs {
		fmt.Printf("  IdP %-9s %s\n", o.Slug, issuers[o.Slug])
	}
	fmt.Printf("\nDemo logins (password for all: %s — demo only):\n", devstack.DemoPassword)
	for _, o := range orgs {
		for _, u := range o.Users {
			fmt.Printf("  %-26s %v\n", u.Email, u.Groups)
		}
	}
	fmt.Printf("\nLogs: %s\nPress Ctrl-C to stop everything.\n", logPath)
}
