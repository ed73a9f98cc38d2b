package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz answers 200 while the process is alive. It checks nothing else.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.deps.Version})
}

// readyz answers 200 when PostgreSQL and Vault are reachable and 503 naming
// the failing dependency otherwise. Details of the failure are logged only.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]Pinger{"postgres": s.deps.Postgres, "vault": s.deps.Vault}
	result := map[string]string{}
	status := http.StatusOK
	for name, p := range checks {
		if err := p.Ping(ctx); err != nil {
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
