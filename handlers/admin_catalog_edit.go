package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/web"
)

// detailsForm is r's details as their form shows them.
func detailsForm(r approvals.Resource) web.DetailsForm {
	return web.DetailsForm{Name: r.Name, Description: r.Description, OwnerTeam: r.OwnerTeam, Classification: string(r.Classification),
		FollowsClass: r.PolicyFromClass}
}

// managedResource reads the session tenant's resource named by the :id
// parameter, retired or not; another tenant's is a 404, audited as a
// cross-tenant probe.
func (s *Server) managedResource(c echo.Context) (approvals.Resource, error) {
	r, err := s.deps.Requests.Resource(c.Request().Context(), currentSession(c).TenantID, c.Param("id"))
	if err != nil {
		return r, s.scoped(c, "resource", c.Param("id"), err)
	}
	return r, nil
}

// resourceDetailsSave changes a resource's name, description, owner team
// and classification; invalid input re-renders the page with field errors
// (400) and changes nothing.
func (s *Server) resourceDetailsSave(c echo.Context) error {
	sess := currentSession(c)
	r, err := s.managedResource(c)
	if err != nil {
		return err
	}
	d := approvals.ResourceDetails{Name: c.FormValue("name"), Description: c.FormValue("description"), OwnerTeam: c.FormValue("owner_team"),
		Classification: approvals.Classification(c.FormValue("classification"))}
	err = s.deps.Requests.EditResource(c.Request().Context(), sess.TenantID, r.ID, d, sess.Actor(), meta(c))
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		m, merr := s.resourcePage(c, r)
		if merr != nil {
			return merr
		}
		m.Details = web.DetailsForm{Name: d.Name, Description: d.Description, OwnerTeam: d.OwnerTeam, Classification: string(d.Classification),
			FollowsClass: r.PolicyFromClass, FieldErrors: e.Fields, FormError: e.Message}
		return render(c, statusOf(e.Code), web.PolicyEditor(m))
	}
	if err != nil {
		return s.scoped(c, "resource", r.ID, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/catalog/"+r.ID)
}

// resourceRetire takes a resource out of the catalog once its name is
// typed again and a reason given. Bad confirmation re-renders the page
// (400); a resource still in use re-renders it with what is in the way
// (409); nothing changes either way.
func (s *Server) resourceRetire(c echo.Context) error {
	fields := map[string]string{"confirm": c.FormValue("confirm"), "reason": strings.TrimSpace(c.FormValue("reason"))}
	return s.retireOrRestore(c, fields, func(tenantID, id, actor string) error {
		return s.deps.Requests.RetireResource(c.Request().Context(), tenantID, id, fields["confirm"], fields["reason"], actor, meta(c))
	})
}

// resourceRestore puts a retired resource back in the catalog once a
// reason is given. A missing reason re-renders the page (400), as does a
// resource not retired (409); nothing changes either way.
func (s *Server) resourceRestore(c echo.Context) error {
	fields := map[string]string{"reason": strings.TrimSpace(c.FormValue("reason"))}
	return s.retireOrRestore(c, fields, func(tenantID, id, actor string) error {
		return s.deps.Requests.RestoreResource(c.Request().Context(), tenantID, id, fields["reason"], actor, meta(c))
	})
}

// retireOrRestore runs change on the resource named by :id and redirects
// to its page. Refused input or state (apperr.Invalid or Conflict)
// re-renders the page as it is now, with fields as typed and why.
func (s *Server) retireOrRestore(c echo.Context, fields map[string]string, change func(tenantID, id, actor string) error) error {
	sess := currentSession(c)
	r, err := s.managedResource(c)
	if err != nil {
		return err
	}
	err = change(sess.TenantID, r.ID, sess.Actor())
	if e := apperr.As(err); e != nil && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) {
		if r, err = s.managedResource(c); err != nil { // as it is now: retired or restored meanwhile, say
			return err
		}
		m, merr := s.resourcePage(c, r)
		if merr != nil {
			return merr
		}
		m.Retire.Fields, m.Retire.FieldErrors, m.Retire.FormError = fields, e.Fields, e.Message
		return render(c, statusOf(e.Code), web.PolicyEditor(m))
	}
	if err != nil {
		return s.scoped(c, "resource", r.ID, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/catalog/"+r.ID)
}
