package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// mappings shows the admin's own tenant's role mappings. The tenant always
// comes from the session, never from the request.
func (s *Server) mappings(c echo.Context) error {
	m, err := s.mappingsModel(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Mappings(m))
}

// mappingAdd and mappingRemove change one mapping; invalid changes
// re-render the page with the error and change nothing.
func (s *Server) mappingAdd(c echo.Context) error    { return s.changeMapping(c, true) }
func (s *Server) mappingRemove(c echo.Context) error { return s.changeMapping(c, false) }

func (s *Server) changeMapping(c echo.Context, add bool) error {
	sess := currentSession(c)
	mp := tenants.RoleMapping{Group: strings.TrimSpace(c.FormValue("group")), Role: tenants.Role(c.FormValue("role"))}
	err := s.deps.Admin.ChangeMapping(c.Request().Context(), sess.TenantID, add, mp, sess.Actor(), meta(c))
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		m, merr := s.mappingsModel(c)
		if merr != nil {
			return merr
		}
		m.FieldError, m.FormError = e.Fields, e.Message
		if add {
			m.Group, m.Role = mp.Group, string(mp.Role)
		}
		return render(c, http.StatusBadRequest, web.Mappings(m))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/mappings")
}

func (s *Server) mappingsModel(c echo.Context) (web.MappingsPage, error) {
	sess := currentSession(c)
	ms, err := s.deps.Admin.Mappings(c.Request().Context(), sess.TenantID)
	if err != nil {
		return web.MappingsPage{}, err
	}
	m := web.MappingsPage{Page: s.page(c, "Role mappings"), Role: string(tenants.RoleRequester)}
	for _, x := range ms {
		m.Mappings = append(m.Mappings, web.MappingRow{Group: x.Group, Role: string(x.Role)})
	}
	for _, r := range tenants.Roles() {
		if r != tenants.RolePlatformOperator || sess.TenantSlug == tenants.PlatformSlug {
			m.Roles = append(m.Roles, string(r))
		}
	}
	return m, nil
}

// members lists everyone who has signed in to the viewer's own tenant.
func (s *Server) members(c echo.Context) error {
	sess := currentSession(c)
	ms, err := s.deps.Admin.Members(c.Request().Context(), sess.TenantID, s.deps.Sessions.Window())
	if err != nil {
		return err
	}
	m := web.MembersPage{Page: s.page(c, "Members")}
	for _, x := range ms {
		roles := make([]string, len(x.Roles))
		for i, r := range x.Roles {
			roles[i] = string(r)
		}
		m.Members = append(m.Members, web.MemberRow{
			Name: x.Name, Email: x.Email, Roles: strings.Join(roles, ", "), Groups: strings.Join(x.Groups, ", "),
			LastLogin: x.LastLogin.UTC().Format("2006-01-02 15:04 MST"), Sessions: x.Sessions,
		})
	}
	return render(c, http.StatusOK, web.Members(m))
}
