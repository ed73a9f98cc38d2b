package handlers

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/web"
)

// render writes component as an HTML response with status.
func render(c echo.Context, status int, component templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	return component.Render(c.Request().Context(), c.Response())
}

// page returns the layout's view model for this request.
func (s *Server) page(c echo.Context, title string) web.Page {
	return web.Page{
		Title:     title,
		RequestID: requestID(c),
		CSRFToken: csrfToken(c),
	}
}

// home sends visitors to the sign-in page until the dashboard exists for them.
func (s *Server) home(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/login")
}
