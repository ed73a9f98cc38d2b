package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/web"
)

// channels shows whether the tenant has a webhook (never the URL itself).
func (s *Server) channels(c echo.Context) error {
	sess := currentSession(c)
	u, err := s.deps.Channels.Webhook(c.Request().Context(), sess.TenantID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Channels(web.ChannelsPage{Page: s.page(c, "Notifications"), WebhookSet: u != ""}))
}

// channelsSave sets or removes the webhook; a bad URL re-renders with the error.
func (s *Server) channelsSave(c echo.Context) error {
	sess := currentSession(c)
	err := s.deps.Channels.SetWebhook(c.Request().Context(), sess.TenantID, c.FormValue("webhook_url"), sess.Actor(), meta(c))
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		u, _ := s.deps.Channels.Webhook(c.Request().Context(), sess.TenantID)
		return render(c, http.StatusBadRequest, web.Channels(web.ChannelsPage{Page: s.page(c, "Notifications"), WebhookSet: u != "",
			FieldErrors: e.Fields, FormError: e.Message}))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/notifications")
}
