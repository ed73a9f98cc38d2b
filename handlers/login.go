package handlers

import (
	"net/http"
	"net/mail"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
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
	return c.Redirect(http.StatusSeeOther, "/auth/"+t.Slug+"/start")
}

func (s *Server) loginModel(c echo.Context) (web.LoginPage, error) {
	active, err := s.deps.Tenants.ListActive(c.Request().Context())
	if err != nil {
		return web.LoginPage{}, err
	}
	m := web.LoginPage{Page: s.page(c, "Sign in")}
	for _, t := range active {
		m.Orgs = append(m.Orgs, web.OrgChoice{Slug: t.Slug, Name: t.DisplayName})
	}
	return m, nil
}
