package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// platformTenants lists every organization with the kill-switch actions.
func (s *Server) platformTenants(c echo.Context) error {
	m, err := s.platformModel(c)
	if err != nil {
		return err
	}
	if done := tenants.KillSwitch(c.QueryParam("done")); done != "" {
		if msg := killSwitchDone(done, c.QueryParam("slug"), c.QueryParam("ended")); msg != "" {
			m.Flashes = append(m.Flashes, web.Flash{Kind: web.FlashSuccess, Message: msg})
		}
	}
	return render(c, http.StatusOK, web.PlatformTenants(m))
}

// platformKillSwitch applies a kill-switch action to one organization. A
// missing reason re-renders the list with the error and changes nothing.
func (s *Server) platformKillSwitch(c echo.Context) error {
	slug := c.Param("tenant")
	k := tenants.KillSwitch(c.Param("action"))
	sess := currentSession(c)
	ended, err := s.deps.Registry.ApplyKillSwitch(c.Request().Context(), slug, k, strings.TrimSpace(c.FormValue("reason")), sess.Actor(), meta(c))
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid && e.Fields["reason"] != "" {
		m, merr := s.platformModel(c)
		if merr != nil {
			return merr
		}
		m.ReasonError = e.Fields["reason"]
		return render(c, http.StatusBadRequest, web.PlatformTenants(m))
	}
	if err != nil {
		return err
	}
	q := url.Values{"done": {string(k)}, "slug": {slug}, "ended": {strconv.FormatInt(ended, 10)}}
	return c.Redirect(http.StatusSeeOther, "/platform/tenants?"+q.Encode())
}

func (s *Server) platformModel(c echo.Context) (web.PlatformTenantsPage, error) {
	all, err := s.deps.Registry.Overview(c.Request().Context(), s.deps.Sessions.Window())
	if err != nil {
		return web.PlatformTenantsPage{}, err
	}
	m := web.PlatformTenantsPage{Page: s.page(c, "Organizations")}
	for _, t := range all {
		m.Tenants = append(m.Tenants, web.TenantRow{
			Slug: t.Slug, Name: t.DisplayName, Status: string(t.Status), Domains: strings.Join(t.EmailDomains, ", "),
			Issuer: t.IssuerURL, IdPEnabled: t.IdPEnabled, Sessions: t.Sessions, Platform: t.Slug == tenants.PlatformSlug,
		})
	}
	return m, nil
}

// killSwitchDone is the confirmation of a kill-switch action; built from
// fixed text so nothing from the query string is echoed except the slug
// and a number, both validated.
func killSwitchDone(k tenants.KillSwitch, slug, ended string) string {
	n, err := strconv.Atoi(ended)
	if err != nil || n < 0 || !tenants.ValidSlug(slug) {
		return ""
	}
	switch k {
	case tenants.Suspend:
		return fmt.Sprintf("%s is suspended; %d session(s) ended. Reactivating it is a separate, audited action.", slug, n)
	case tenants.DisableIdP:
		return fmt.Sprintf("%s's identity provider is cut off; %d session(s) ended.", slug, n)
	case tenants.Reactivate:
		return slug + " is active again."
	case tenants.EnableIdP:
		return slug + "'s identity provider is enabled again."
	}
	return ""
}
