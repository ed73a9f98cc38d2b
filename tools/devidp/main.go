// Command devidp runs several real OpenID Connect identity providers (Dex,
// used as a library) in one process, one per demo organization, each under
// its own path prefix on a single HTTP listener.
//
// Usage:
//
//	devidp -config demo.json -listen 127.0.0.1:0
//
// Once every issuer is ready it prints exactly one JSON line to stdout:
//
//	{"issuers":{"acme":"http://127.0.0.1:PORT/acme",...}}
//
// and serves until SIGINT or SIGTERM. Logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
}

// readyLine is the single JSON line printed to stdout once serving.
type readyLine struct {
	Issuers map[string]string `json:"issuers"`
}

// run starts the identity providers and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devidp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path to the JSON config file (required)")
	listen := fs.String("listen", "127.0.0.1:5556", "address to listen on; port 0 picks a free port")
	baseURL := fs.String("base-url", "", "external base URL for issuers (default http://<bound address>)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" {
		fs.Usage()
		return errors.New("-config is required")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	base := strings.TrimRight(*baseURL, "/")
	if base == "" {
		base = "http://" + externalAddr(ln.Addr().(*net.TCPAddr))
	}

	// Dex's background work (key rotation, garbage collection) stops with this.
	dexCtx, cancelDex := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDex()

	mux := http.NewServeMux()
	issuers := make(map[string]string, len(cfg.Orgs))
	h := hasher{}
	for _, org := range cfg.Orgs {
		issuer := base + "/" + org.Name
		srv, err := newOrgServer(dexCtx, org, issuer, h, logger.With("org", org.Name))
		if err != nil {
			return fmt.Errorf("org %s: %w", org.Name, err)
		}
		mux.Handle("/"+org.Name+"/", srv)
		issuers[org.Name] = issuer
		logger.Info("issuer ready", "org", org.Name, "issuer", issuer,
			"users", len(org.Users), "clients", len(org.Clients))
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(readyLine{Issuers: issuers})
	})

	httpSrv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()

	line, err := json.Marshal(readyLine{Issuers: issuers})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return fmt.Errorf("write ready line: %w", err)
	}
	logger.Info("serving", "addr", ln.Addr().String(), "orgs", len(issuers))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = httpSrv.Shutdown(shutdownCtx)
	cancelDex()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// externalAddr is the host:port clients should use for a bound address:
// a wildcard bind (0.0.0.0 / ::) is reached through loopback.
func externalAddr(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}
