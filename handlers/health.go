package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz answers 200 while the process is alive. It checks nothing else.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.deps.Version})
}

// readyz answers 200 when PostgreSQL and Vault are reachable and 503 naming
// the failing dependency otherwise. The checks run concurrently, each with
// its own deadline, so one slow dependency never fails the other. Details
// of a failure are logged only.
func (s *Server) readyz(c echo.Context) error {
	checks := map[string]Pinger{"postgres": s.deps.Postgres, "vault": s.deps.Vault}
	errs := make(map[string]error, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, p := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
			defer cancel()
			err := p.Ping(ctx)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	result := map[string]string{}
	status := http.StatusOK
	for name, err := range errs {
		if err != nil {
			s.deps.Log.Warn("readiness check failed", slog.String("dependency", name),
				slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
			result[name] = "unavailable"
			status = http.StatusServiceUnavailable
			continue
		}
		result[name] = "ok"
	}
	return c.JSON(status, result)
}
