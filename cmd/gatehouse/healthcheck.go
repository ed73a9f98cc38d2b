package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck GETs /healthz on the configured listen address (the container
// HEALTHCHECK; the image has no curl). It returns nil on 200.
func healthcheck(ctx context.Context, cfg config) error {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q is not host:port", cfg.Listen)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: /healthz answered %s", resp.Status)
	}
	return nil
}
