// Package testenv starts the real components integration tests need —
// PostgreSQL always, and Vault, the demo Dex IdPs and moto on request — once
// per test binary, on free loopback ports, and stops them afterwards.
//
// Use it from TestMain:
//
//	var stack *testenv.Stack
//	func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Vault: true}, &stack) }
//
// A component that cannot start fails the whole test binary with the reason.
// Nothing is ever skipped.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// Options choose the components to start besides PostgreSQL.
type Options struct {
	Vault bool
	IdPs  bool // the demo organizations' Dex issuers
	Moto  bool
}

// Stack is the running components of one test binary.
type Stack struct {
	PG    *devstack.Postgres
	Vault *devstack.Vault // nil unless Options.Vault
	IdPs  *devstack.IdPs  // nil unless Options.IdPs
	Moto  *devstack.Moto  // nil unless Options.Moto
	// AWSAdmin is moto's administrator key; moto enforces IAM for
	// every other caller.
	AWSAdmin devstack.AWSKeys
	// PublicURL is the base URL reserved for a Gatehouse started by the
	// test: the IdPs accept redirects to PublicURL/auth/{org}/callback.
	PublicURL string

	dir string
	dbs atomic.Int64
}

const templateDB = "gatehouse_template"

// Main starts the stack, stores it in *dst, runs the tests and stops the
// stack. It exits 1 with the reason when the stack cannot start.
func Main(m *testing.M, opts Options, dst **Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	s, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: the test stack did not start: %v\n", err)
		os.Exit(1)
	}
	*dst = s
	code := m.Run()
	s.Close()
	os.Exit(code)
}

// Start starts the components and a migrated template database.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	dir, err := os.MkdirTemp("", "gatehouse-test-")
	if err != nil {
		return nil, err
	}
	_ = os.Chmod(dir, 0o755) // the postgres user must reach its data dir inside
	s := &Stack{dir: dir}
	logs := logWriter()
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()

	if s.PG, err = devstack.StartPostgres(ctx, devstack.PostgresOptions{DataDir: filepath.Join(dir, "pg"), Fast: true, Log: logs}); err != nil {
		return nil, err
	}
	if err := s.migrateTemplate(ctx); err != nil {
		return nil, err
	}
	if opts.Vault {
		if s.Vault, err = devstack.StartVault(ctx, "127.0.0.1:0", "test-root-"+randomHex(12), logs); err != nil {
			return nil, err
		}
	}
	port, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	s.PublicURL = "http://127.0.0.1:" + strconv.Itoa(port)
	if opts.IdPs {
		cfg := filepath.Join(dir, "idp.json")
		if err := devstack.WriteIdPConfig(cfg, s.PublicURL, devstack.DemoOrgs()); err != nil {
			return nil, err
		}
		if s.IdPs, err = devstack.StartIdPs(ctx, cfg, "127.0.0.1:0", logs); err != nil {
			return nil, err
		}
	}
	if opts.Moto {
		if s.Moto, err = devstack.StartMoto(ctx, 0, logs); err != nil {
			return nil, err
		}
		if s.AWSAdmin, err = s.Moto.EnforceIAM(ctx); err != nil {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

func (s *Stack) migrateTemplate(ctx context.Context) error {
	if err := s.PG.CreateDatabase(ctx, templateDB, ""); err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, s.PG.URL(templateDB))
	if err != nil {
		return err
	}
	defer pool.Close()
	return postgres.Migrate(ctx, pool, io.Discard)
}

// NewDatabase returns the URL of a new database with every migration
// applied, for one test's exclusive use.
func (s *Stack) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	if err := s.PG.CreateDatabase(context.Background(), name, templateDB); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	return s.PG.URL(name)
}

// NewEmptyDatabase returns the URL of a new database with no schema at all.
func (s *Stack) NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("empty_%d", s.dbs.Add(1))
	if err := s.PG.CreateDatabase(context.Background(), name, ""); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	return s.PG.URL(name)
}

// NewPool opens a pool on a new migrated database, closed when t ends.
func (s *Stack) NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(context.Background(), s.NewDatabase(t))
	if err != nil {
		t.Fatalf("opening test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// VaultClient returns a client with the root token of the test Vault.
func (s *Stack) VaultClient(t testing.TB) *vault.Client {
	t.Helper()
	if s.Vault == nil {
		t.Fatal("testenv: Vault was not requested in Options")
	}
	c, err := vault.New(s.Vault.Addr, s.Vault.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// GatehouseToken installs Gatehouse's least-privilege Vault policy and
// returns a token holding only it: tests run the console the way it runs
// in production, not with the root token.
func (s *Stack) GatehouseToken(t testing.TB) string {
	t.Helper()
	token, err := s.VaultClient(t).InstallGatehousePolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// GatehouseTokenWithout returns a token holding Gatehouse's policy less its
// rule for path: a real Vault that refuses Gatehouse that one operation
// (403), for fault tests. It fails the test when the policy has no rule
// for path.
func (s *Stack) GatehouseTokenWithout(t testing.TB, path string) string {
	t.Helper()
	start := strings.Index(vault.GatehousePolicy, "path \""+path+"\" {\n")
	if start < 0 {
		t.Fatalf("testenv: the Gatehouse policy has no rule for %s", path)
	}
	end := start + strings.Index(vault.GatehousePolicy[start:], "\n}\n") + len("\n}\n")
	name := "gatehouse-without-" + strings.NewReplacer("/", "-", "*", "any", "+", "one").Replace(path)
	cfg := vaultapi.DefaultConfig()
	cfg.Address = s.Vault.Addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(s.Vault.RootToken)
	if err := c.Sys().PutPolicy(name, vault.GatehousePolicy[:start]+vault.GatehousePolicy[end:]); err != nil {
		t.Fatal(err)
	}
	return s.VaultToken(t, name)
}

// VaultToken returns a new orphan token of the test Vault holding exactly
// policies (name one that does not exist for a token allowed nothing).
func (s *Stack) VaultToken(t testing.TB, policies ...string) string {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = s.Vault.Addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(s.Vault.RootToken)
	sec, err := c.Auth().Token().CreateOrphan(&vaultapi.TokenCreateRequest{Policies: policies, NoDefaultPolicy: true, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	return sec.Auth.ClientToken
}

// Seed writes the demo organizations into the database behind pool and the
// test Vault, wired to the test IdPs.
func (s *Stack) Seed(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	if s.IdPs == nil {
		t.Fatal("testenv: IdPs were not requested in Options")
	}
	err := devstack.Seed(context.Background(), pool, s.VaultClient(t), devstack.DemoOrgs(), s.IdPs.Issuers)
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
	if s.Moto != nil {
		if err := devstack.SeedAWS(context.Background(), pool, s.VaultClient(t), s.Moto.Endpoint, s.AWSAdmin); err != nil {
			t.Fatalf("seeding AWS: %v", err)
		}
	}
}

// Close stops every component and removes the stack's files.
func (s *Stack) Close() {
	if s.Moto != nil {
		_ = s.Moto.Proc.Stop()
	}
	if s.IdPs != nil {
		_ = s.IdPs.Proc.Stop()
	}
	if s.Vault != nil {
		_ = s.Vault.Proc.Stop()
	}
	if s.PG != nil {
		_ = s.PG.Stop()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// logWriter returns where component logs go: stderr when
// GATEHOUSE_TEST_LOGS=1, else nowhere (the last lines still appear in
// start-up errors).
func logWriter() io.Writer {
	if os.Getenv("GATEHOUSE_TEST_LOGS") == "1" {
		return os.Stderr
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
