// Package devstack starts the real components Gatehouse runs against in
// development and in tests — a private PostgreSQL cluster, a Vault dev
// server, the demo organizations' Dex IdPs and moto — as child processes on
// loopback, and stops them. It is used by cmd/gatehouse-dev (make dev) and
// by the testenv package; the production binary never imports it.
package devstack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a started child process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	logs *tail
}

// start runs cmd with stderr (and stdout unless captured) kept in a tail
// buffer for error messages. The process gets its own process group so a
// stop reaches its children too.
func start(name string, cmd *exec.Cmd, logTo io.Writer) (*Proc, error) {
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{}), logs: &tail{max: 8 << 10}}
	var w io.Writer = p.logs
	if logTo != nil {
		w = io.MultiWriter(p.logs, logTo)
	}
	if cmd.Stdout == nil {
		cmd.Stdout = w
	}
	cmd.Stderr = w
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM // die with us if we are killed
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, cmd.Path, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Stop sends SIGTERM (SIGINT for PostgreSQL's fast shutdown is SIGINT) and
// waits up to 15 s, then kills the process group. It returns nil when the
// process has exited.
func (p *Proc) Stop() error {
	return p.stopWith(syscall.SIGTERM)
}

func (p *Proc) stopWith(sig syscall.Signal) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within 15s and was killed", p.Name)
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// failure describes why a process did not come up, with its last output.
func (p *Proc) failure(what string) error {
	state := "is still running"
	if p.Exited() {
		state = fmt.Sprintf("exited (%v)", p.err)
	}
	return fmt.Errorf("%s: %s %s; its last output:\n%s", what, p.Name, state, p.logs.String())
}

// readJSONLine waits for the first line the process writes on r (its
// stdout), for up to timeout, and returns it.
func readJSONLine(ctx context.Context, p *Proc, r io.Reader, timeout time.Duration) (string, error) {
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		if sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case l := <-lines:
		return l, nil
	case <-p.done:
		return "", p.failure("waiting for the ready line")
	case <-time.After(timeout):
		return "", p.failure(fmt.Sprintf("no ready line within %s", timeout))
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTCP waits until addr accepts connections or p exits.
func waitTCP(ctx context.Context, p *Proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		if p.Exited() {
			return p.failure("waiting for " + addr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return p.failure(fmt.Sprintf("%s not accepting connections within %s", addr, timeout))
}

// RepoRoot returns the directory holding the main module's go.mod, searching
// upward from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/gatehouse/gatehouse\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the Gatehouse repository root (go.mod) above the working directory")
		}
		dir = parent
	}
}

// Tool returns the path of a tool built into the repository's .bin folder
// by `make tools`, or an error saying how to build it.
func Tool(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, ".bin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s is missing: run `make tools` to build it", p)
	}
	return p, nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// WaitHTTP polls url until it answers 200 or timeout passes.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %s (last: %s)", url, timeout, last)
}
