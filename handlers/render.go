package handlers

import (
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/web"
)

// render writes component as an HTML response with status.
func render(c echo.Context, status int, component templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	return component.Render(c.Request().Context(), c.Response())
}

// page returns the layout's view model for this request: the signed-in
// person and organization, and the navigation their roles allow.
func (s *Server) page(c echo.Context, title string) web.Page {
	p := web.Page{Title: title, RequestID: requestID(c), CSRFToken: csrfToken(c)}
	sess := currentSession(c)
	if sess == nil {
		return p
	}
	p.Org, p.User = sess.TenantName, sess.Name
	p.Emergencies = s.emergencies(c, sess.TenantID)
	path := c.Path()
	for _, r := range s.nav {
		if !s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.Permission(r.Perm)) {
			continue
		}
		item := web.NavItem{Label: r.NavLabel, Href: r.Path, Active: r.Path == path}
		if r.Name == "approvals" {
			item.BadgeURL = "/approvals/count"
		}
		p.Nav = append(p.Nav, item)
	}
	return p
}

// mayOpen reports whether the signed-in person may open the route named
// name (routes.go): a page links to another only for those its route lets
// in. An unknown name, or no session for a route that needs one, is false.
func (s *Server) mayOpen(c echo.Context, name string) bool {
	perm, ok := s.perms[name]
	sess := currentSession(c)
	switch {
	case !ok:
		return false
	case perm == Public:
		return true
	case sess == nil:
		return false
	}
	return s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.Permission(perm))
}
