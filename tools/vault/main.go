// Command vault-dev runs a real HashiCorp Vault core (in-memory storage,
// initialized and unsealed) for local development and integration tests,
// in the spirit of `vault server -dev`, but built from a small set of Vault
// packages so that it compiles from Go modules alone.
//
// Usage:
//
//	vault-dev -listen 127.0.0.1:8200 -root-token <token>
//
// Once ready it prints exactly one JSON line to stdout:
//
//	{"addr":"http://127.0.0.1:8200"}
//
// and serves until SIGINT or SIGTERM. Logs go to stderr. The root token and
// unseal key are never printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	log "github.com/hashicorp/go-hclog"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/helper/namespace"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("vault-dev", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	listen := fs.String("listen", "127.0.0.1:8200", "address to listen on (plain HTTP); port 0 picks a free port")
	rootToken := fs.String("root-token", "", "ID of the root token to create (default: $VAULT_DEV_ROOT_TOKEN_ID)")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "vault-dev: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	if *rootToken == "" {
		*rootToken = os.Getenv("VAULT_DEV_ROOT_TOKEN_ID")
	}
	if *rootToken == "" {
		fmt.Fprintln(os.Stderr, "vault-dev: -root-token (or VAULT_DEV_ROOT_TOKEN_ID) is required")
		return 2
	}

	logger := log.New(&log.LoggerOptions{
		Name:   "vault",
		Level:  log.LevelFromString(*logLevel),
		Output: os.Stderr,
	})
	if err := serve(logger, *listen, *rootToken); err != nil {
		logger.Error("vault-dev failed", "error", err)
		return 1
	}
	return 0
}

func serve(logger log.Logger, listenAddr, rootToken string) error {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	addr := "http://" + ln.Addr().String()

	backend, err := inmem.NewInmem(nil, logger.Named("storage"))
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}

	core, err := vault.NewCore(&vault.CoreConfig{
		Physical:            backend,
		Logger:              logger,
		DisableMlock:        true,
		RedirectAddr:        addr,
		StorageType:         "inmem",
		EnableRaw:           true,
		EnableIntrospection: true,
		DevToken:            rootToken,
		BuiltinRegistry:     newRegistry(),
		LogicalBackends:     map[string]logical.Factory{"kv": kv.Factory},
		CredentialBackends:  map[string]logical.Factory{},
	})
	if err != nil {
		return fmt.Errorf("new core: %w", err)
	}

	if err := initDev(core, rootToken); err != nil {
		core.Shutdown()
		return err
	}

	listenerCfg := &configutil.Listener{
		Type:       "tcp",
		Address:    ln.Addr().String(),
		TLSDisable: true,
	}
	srv := &http.Server{
		Handler: vaulthttp.Handler.Handler(&vault.HandlerProperties{
			Core:           core,
			ListenerConfig: listenerCfg,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          logger.StandardLogger(nil),
	}

	sigCh := make(chan os.Signal, 1)
	signal.Notify(sigCh, syscall.SIGINT, syscall.SIGTERM)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	out, _ := json.Marshal(map[string]string{"addr": addr})
	if _, err := fmt.Fprintln(os.Stdout, string(out)); err != nil {
		return fmt.Errorf("write address: %w", err)
	}
	logger.Info("vault dev server ready", "addr", addr)

	var result error
	select {
	case sig := <-sigCh:
		logger.Info("shutting down", "signal", sig.String())
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			result = fmt.Errorf("serve: %w", err)
		}
	}
	signal.Stop(sigCh)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("http shutdown", "error", err)
	}
	if err := core.ShutdownWait(); err != nil {
		logger.Warn("core shutdown", "error", err)
	}
	return result
}

// initDev mirrors `vault server -dev`: a single-share Shamir init, unseal,
// replace the generated root token by one with the requested ID, and mount
// KV version 2 at secret/.
func initDev(core *vault.Core, rootToken string) error {
	ctx := namespace.ContextWithNamespace(context.Background(), namespace.RootNamespace)

	init, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig: &vault.SealConfig{SecretShares: 1, SecretThreshold: 1},
	})
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	key := init.SecretShares[0]
	unsealed, err := core.Unseal(key)
	for i := range key {
		key[i] = 0
	}
	if err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	if !unsealed {
		return errors.New("unseal: core still sealed")
	}

	// Wait for the core to become active.
	deadline := time.Now().Add(10 * time.Second)
	for {
		isLeader, _, _, err := core.Leader()
		if err == vault.ErrHANotEnabled || (err == nil && isLeader) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("core did not become active: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	resp, err := core.HandleRequest(ctx, &logical.Request{
		ID:          "dev-gen-root",
		Operation:   logical.UpdateOperation,
		ClientToken: init.RootToken,
		Path:        "auth/token/create",
		Data: map[string]interface{}{
			"id":                rootToken,
			"policies":          []string{"root"},
			"no_parent":         true,
			"no_default_policy": true,
		},
	})
	if err != nil {
		return fmt.Errorf("create root token: %w", err)
	}
	if resp == nil || resp.Auth == nil {
		if resp != nil && resp.IsError() {
			return fmt.Errorf("create root token: %w", resp.Error())
		}
		return errors.New("create root token: empty response")
	}
	if _, err := core.HandleRequest(ctx, &logical.Request{
		ID:          "dev-revoke-init-root",
		Operation:   logical.UpdateOperation,
		ClientToken: init.RootToken,
		Path:        "auth/token/revoke-self",
	}); err != nil {
		return fmt.Errorf("revoke initial root token: %w", err)
	}

	resp, err = core.HandleRequest(ctx, &logical.Request{
		Operation:   logical.UpdateOperation,
		ClientToken: rootToken,
		Path:        "sys/mounts/secret",
		Data: map[string]interface{}{
			"type":        "kv",
			"path":        "secret/",
			"description": "key/value secret storage",
			"options":     map[string]string{"version": "2"},
		},
	})
	if err != nil {
		return fmt.Errorf("mount secret/: %w", err)
	}
	if resp.IsError() {
		return fmt.Errorf("mount secret/: %w", resp.Error())
	}
	return nil
}

// registry is the plugin catalog's view of "builtin" plugins. Only the
// backends this binary ships are listed: KV (secrets) and AppRole (auth).
type registry struct {
	secrets map[string]logical.Factory
	creds   map[string]logical.Factory
}

func newRegistry() *registry {
	return &registry{
		secrets: map[string]logical.Factory{"kv": kv.Factory},
		creds:   map[string]logical.Factory{"approle": approle.Factory},
	}
}

func (r *registry) lookup(name string, t consts.PluginType) (logical.Factory, bool) {
	var m map[string]logical.Factory
	switch t {
	case consts.PluginTypeSecrets:
		m = r.secrets
	case consts.PluginTypeCredential:
		m = r.creds
	default:
		return nil, false
	}
	f, ok := m[name]
	return f, ok
}

func (r *registry) Contains(name string, t consts.PluginType) bool {
	_, ok := r.lookup(name, t)
	return ok
}

func (r *registry) Get(name string, t consts.PluginType) (func() (interface{}, error), bool) {
	f, ok := r.lookup(name, t)
	if !ok {
		return nil, false
	}
	return func() (interface{}, error) { return f, nil }, true
}

func (r *registry) Keys(t consts.PluginType) []string {
	var m map[string]logical.Factory
	switch t {
	case consts.PluginTypeSecrets:
		m = r.secrets
	case consts.PluginTypeCredential:
		m = r.creds
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func (r *registry) DeprecationStatus(name string, t consts.PluginType) (consts.DeprecationStatus, bool) {
	if _, ok := r.lookup(name, t); ok {
		return consts.Supported, true
	}
	return consts.Unknown, false
}

func (r *registry) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }
