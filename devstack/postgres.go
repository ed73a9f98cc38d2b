package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a private PostgreSQL cluster listening on 127.0.0.1 only
// (no Unix socket), with trust authentication for the superuser "gatehouse".
type Postgres struct {
	Proc    *Proc
	Port    int
	DataDir string
}

// PostgresOptions configure StartPostgres.
type PostgresOptions struct {
	DataDir string    // created and initialized when empty
	Port    int       // 0 picks a free port
	Fast    bool      // fsync off: for throwaway test clusters only
	Log     io.Writer // where the server's log goes besides the error tail (nil: nowhere)
}

// StartPostgres initializes the cluster in opts.DataDir if needed and starts
// it. When running as root it runs initdb and the server as the "postgres"
// user, since PostgreSQL refuses root. It returns once the server accepts
// connections, or an error carrying the server's last output.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	if opts.Port == 0 {
		if opts.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating PostgreSQL data dir: %w", err)
	}
	if cred != nil {
		if err := os.Chown(opts.DataDir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("giving %s to the postgres user: %w", opts.DataDir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(opts.DataDir, "PG_VERSION")); os.IsNotExist(err) {
		initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", opts.DataDir,
			"-U", "gatehouse", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := initdb.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb %s failed: %v\n%s", opts.DataDir, err, out)
		}
	}
	args := []string{"-D", opts.DataDir, "-p", strconv.Itoa(opts.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "max_connections=300", "-c", "shared_buffers=128MB"}
	if opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	p, err := start("postgres", cmd, opts.Log)
	if err != nil {
		return nil, err
	}
	pg := &Postgres{Proc: p, Port: opts.Port, DataDir: opts.DataDir}
	if err := pg.waitReady(ctx, 30*time.Second); err != nil {
		_ = pg.Stop()
		return nil, err
	}
	return pg, nil
}

// URL returns the connection URL of database db.
func (pg *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://gatehouse@127.0.0.1:%d/%s?sslmode=disable", pg.Port, db)
}

// CreateDatabase creates database name (from template when not empty).
// It fails when the name is taken.
func (pg *Postgres) CreateDatabase(ctx context.Context, name, template string) error {
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	return nil
}

// EnsureDatabase creates database name unless it exists.
func (pg *Postgres) EnsureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	return pg.CreateDatabase(ctx, name, "")
}

// Stop shuts the server down (fast mode) and waits for it.
func (pg *Postgres) Stop() error { return pg.Proc.stopWith(syscall.SIGINT) }

func (pg *Postgres) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if pg.Proc.Exited() {
			return pg.Proc.failure("starting PostgreSQL")
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(cctx, pg.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return pg.Proc.failure(fmt.Sprintf("PostgreSQL not ready within %s (%v)", timeout, last))
}

// postgresBinDir returns the newest /usr/lib/postgresql/N/bin holding initdb.
func postgresBinDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("PostgreSQL server binaries not found under /usr/lib/postgresql: install Debian's postgresql package")
	}
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi < vj
	})
	return filepath.Dir(matches[len(matches)-1]), nil
}

// postgresCredential returns the postgres user's credential when running as
// root (PostgreSQL refuses to run as root), and nil otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user, which does not exist: install Debian's postgresql package")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
