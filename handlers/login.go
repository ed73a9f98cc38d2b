package handlers

import (
	"net/http"
	"net/mail"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/web"
)

// loginPage shows the sign-in page with the active organizations to pick from.
func (s *Server) loginPage(c echo.Context) error {
	m, err := s.loginModel(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Login(m))
}

// loginSubmit finds the organization of the typed email by its domain
// (home-realm discovery) and sends the browser to that organization's
// sign-in. An unknown or malformed address re-renders the form with the
// error and changes nothing.
func (s *Server) loginSubmit(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	m, err := s.loginModel(c)
	if err != nil {
		return err
	}
	m.Email = email
	addr, perr := mail.ParseAddress(email)
	if perr != nil || addr.Address != email || !strings.Contains(email, "@") {
		m.EmailError = "Enter your work email address, like name@example.com."
		return render(c, http.StatusBadRequest, web.Login(m))
	}
	domain := strings.ToLower(email[strings.LastIndex(email, "@")+1:])
	t, err := s.deps.Tenants.ByEmailDomain(c.Request().Context(), domain)
	if apperr.CodeOf(err) == apperr.NotFound {
		m.EmailError = "No organization on Gatehouse uses " + domain + ". Check the address, or pick your organization below."
		return render(c, http.StatusBadRequest, web.Login(m))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, startURL(t.Slug, m.ReturnTo))
}

// startURL is the sign-in start of the tenant slug, coming back to returnTo.
func startURL(slug, returnTo string) string {
	u := "/auth/" + slug + "/start"
	if returnTo != "/" {
		u += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}
	return u
}

func (s *Server) loginModel(c echo.Context) (web.LoginPage, error) {
	active, err := s.deps.Tenants.ListActive(c.Request().Context())
	if err != nil {
		return web.LoginPage{}, err
	}
	m := web.LoginPage{Page: s.page(c, "Sign in"), ReturnTo: identity.SafeReturnTo(c.FormValue("return_to"))}
	switch {
	case c.QueryParam("ended") != "":
		m.Flashes = append(m.Flashes, web.Flash{Kind: web.FlashInfo, Message: "Your session has ended. Please sign in again."})
	case c.QueryParam("signed_out") != "":
		m.Flashes = append(m.Flashes, web.Flash{Kind: web.FlashSuccess, Message: "You have signed out."})
	}
	for _, t := range active {
		m.Orgs = append(m.Orgs, web.OrgChoice{Slug: t.Slug, Name: t.DisplayName, Href: startURL(t.Slug, m.ReturnTo)})
	}
	return m, nil
}
