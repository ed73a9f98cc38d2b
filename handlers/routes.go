package handlers

import (
	"net/http"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/static"
)

// Permission is what a route requires of the caller. Public routes need
// nothing; every other route names the permission it checks.
type Permission string

// Public marks a route anyone may call, signed in or not.
const Public Permission = "public"

// Route is one entry of the routes list.
type Route struct {
	Method  string
	Path    string
	Name    string
	Perm    Permission
	Handler echo.HandlerFunc
}

// routes is every route Gatehouse serves, in one list.
func (s *Server) routes() []Route {
	return []Route{
		{http.MethodGet, "/healthz", "healthz", Public, s.healthz},
		{http.MethodGet, "/readyz", "readyz", Public, s.readyz},
		{http.MethodGet, "/metrics", "metrics", Public, echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: s.reg})},
		{http.MethodGet, "/static/*", "static", Public, echo.StaticDirectoryHandler(static.FS, false)},
		{http.MethodGet, "/", "home", Public, s.home},
		{http.MethodGet, "/login", "login", Public, s.loginPage},
		{http.MethodPost, "/login", "login.submit", Public, s.loginSubmit},
	}
}
