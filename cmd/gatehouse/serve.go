package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/handlers"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/stores"
)

// serve connects to PostgreSQL and Vault, failing fast with the reason when
// either is unreachable or misconfigured, checks the schema is current, and
// serves the console until ctx is cancelled, then drains in-flight requests.
func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	pool, vc, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	parts, err := app.Wire(pool, vc, app.Options{Log: log, PublicURL: cfg.PublicURL, SessionIdle: cfg.SessionIdle,
		SessionMax: cfg.SessionMax, SecureCookies: cfg.secureCookies(), RequestTimeout: cfg.RequestTimeout,
		Version: version, Now: time.Now, Clouds: stores.Endpoints{AWS: cfg.AWSEndpoint}, LocalChannels: cfg.LocalChannels, Limits: cfg.Limits,
		RateLimitStore: cfg.RateLimitStore,
		TrustedProxies: cfg.TrustedProxies, ChannelNetworks: cfg.ChannelNetworks,
		Relay: &notify.Mailer{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			AllowPlaintext: cfg.SMTPPlaintext, PublicURL: cfg.PublicURL, Now: time.Now}})
	if err != nil {
		return err
	}
	requests, idStore := parts.Requests, parts.Identity
	anchors := []jobs.Anchor{vc}
	if cfg.CheckpointFile != "" {
		anchors = append(anchors, jobs.FileAnchor{Path: cfg.CheckpointFile})
	}
	workers, err := jobs.NewClient(pool, jobs.Workers{Heads: postgres.NewAuditLog(pool, time.Now, nil), Anchors: anchors, Scanner: requests, Campaigns: requests, Grants: requests, Sweeper: requests, Reviews: requests, Shares: requests, Revocations: requests, Vault: parts.Backends, Now: time.Now, Log: log,
		Due: requests, Replicas: parts.Bindings, Resources: requests, Rotator: parts.Backends.Service, Clouds: parts.Backends,
		Sources:  func(mount, tenantID string) secretstores.Store { return vc.Store(mount, tenantID) },
		Channels: parts.Channels, Webhook: parts.Channels.Chat, Notices: requests, Sessions: idStore, SessionIdle: cfg.SessionIdle,
		RevokeConcurrency: cfg.RevokeConcurrency, NoticeSweeper: requests, NoticeRetention: cfg.NoticeRetention,
		RateLimits: parts.RateLimits,
	})
	if err != nil {
		return err
	}
	if err := workers.Start(ctx); err != nil {
		return fmt.Errorf("starting the job workers: %w", err)
	}
	if err := jobs.ResumeRevocations(ctx, requests, workers); err != nil { // a crash left one unfinished: it continues
		return fmt.Errorf("resuming emergency revocations: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		if err := workers.Stop(stopCtx); err != nil {
			log.Warn("stopping the job workers", slog.String("error", err.Error()))
		}
	}()

	e := handlers.New(parts.Deps)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("gatehouse serving", slog.String("addr", ln.Addr().String()),
		slog.String("public_url", cfg.PublicURL), slog.String("version", version), slog.Any("trusted_proxies", cfg.TrustedProxies),
		slog.String("rate_limit_store", string(cfg.RateLimitStore)))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", slog.Duration("grace", cfg.ShutdownGrace))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
