// Package e2e drives the real gatehouse binary in headless Chromium
// (Debian's chromium, through chromedp) against the real stack.
package e2e

import (
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/testenv"
)

var stack *testenv.Stack

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Vault: true, IdPs: true, Moto: true}, &stack)
}

// startConsole runs the built gatehouse binary (make build) on the stack's
// public URL over a fresh seeded database and returns its base URL.
func startConsole(t *testing.T) string {
	t.Helper()
	base, _ := startConsoleOn(t)
	return base
}

// startConsoleOn is startConsole that also returns the database's URL, for
// a test to prepare state the browser then acts on.
func startConsoleOn(t *testing.T) (string, string) {
	t.Helper()
	dbURL := stack.NewDatabase(t)
	pool, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	stack.Seed(t, pool)
	pool.Close()

	u, _ := url.Parse(stack.PublicURL)
	startReplica(t, dbURL, u.Host)
	return stack.PublicURL, dbURL
}

// newBrowser returns a chromedp context on a fresh headless Chromium.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (apt-get install chromium): the e2e tests need it")
	}
	// The profile is removed by hand, after the browser: Chromium's helper
	// processes may still write to it for a moment after it exits, which
	// t.TempDir's cleanup would report as a failure.
	profile, err := os.MkdirTemp("", "gatehouse-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		for i := 0; i < 50; i++ { // up to 5 s for the helpers to let go
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// artifact returns a path under e2e/artifacts/ for screenshots.
func artifact(t *testing.T, name string) string {
	t.Helper()
	dir := "artifacts"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// startReplica runs one more gatehouse binary on listen over the database
// dbURL (the same public URL: the replicas sit behind one address), until
// the test ends, and waits until it is ready.
func startReplica(t *testing.T, dbURL, listen string) {
	t.Helper()
	bin, err := devstack.Tool("gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "GATEHOUSE_LISTEN="+listen, "GATEHOUSE_PUBLIC_URL="+stack.PublicURL,
		"GATEHOUSE_DATABASE_URL="+dbURL, "GATEHOUSE_VAULT_ADDR="+stack.Vault.Addr, "GATEHOUSE_VAULT_TOKEN="+stack.GatehouseToken(t),
		"GATEHOUSE_AWS_ENDPOINT="+stack.Moto.Endpoint, "GATEHOUSE_LOCAL_CHANNELS=true")
	logs, err := os.Create(filepath.Join(t.TempDir(), "gatehouse.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	if err := devstack.WaitHTTP(context.Background(), "http://"+listen+"/readyz", 20*time.Second); err != nil {
		_, _ = logs.Seek(0, io.SeekStart)
		out, _ := io.ReadAll(logs)
		t.Fatalf("gatehouse on %s did not become ready: %v\n%s", listen, err, out)
	}
}
