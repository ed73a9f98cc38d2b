package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// noticePageSize is how many notices a page of the notifications page lists.
const noticePageSize = 30

// noticeStateLabel names a delivery state (jobs.NoticeStates) as the page
// shows it; "" for every state.
func noticeStateLabel(state string) string {
	switch state {
	case jobs.NoticeNotSent:
		return "not sent"
	case jobs.NoticeFailed, jobs.NoticeRetrying, jobs.NoticeDelivered, jobs.NoticePending:
		return state
	}
	return ""
}

// channels shows the tenant's notification settings (never the webhook URL
// or a password), a confirmation after a save, and one page of the notices
// sent: the newest, or those after the cursor in ?before, narrowed to the
// object in ?ref (its ID) and the delivery state in ?state. A bad cursor,
// ref or state is apperr.Invalid (400), and nothing is read.
func (s *Server) channels(c echo.Context) error {
	q, err := noticeQuery(c)
	if err != nil {
		return err
	}
	m, err := s.channelsModel(c, currentSession(c), q)
	if err != nil {
		return err
	}
	if c.QueryParam("saved") == "email" {
		m.Flashes = append(m.Flashes, web.Flash{Kind: web.FlashSuccess, Message: "Email settings saved."})
	}
	return render(c, http.StatusOK, web.Channels(m))
}

// noticeQuery parses the page's ?ref (an object's ID, from its page's
// link; absent or empty for every object), ?state (a delivery state;
// absent or empty for every state) and ?before (a cursor from an "Older
// notices" link). It returns an apperr.Invalid error with a plain message
// for anything else.
func noticeQuery(c echo.Context) (jobs.NoticeQuery, error) {
	ref, err := jobs.ParseNoticeRef(c.QueryParam("ref"))
	if err != nil {
		return jobs.NoticeQuery{}, err
	}
	before, err := paging.Parse(c.QueryParam("before"), jobs.NoticesList)
	if err != nil {
		return jobs.NoticeQuery{}, err
	}
	q := jobs.NoticeQuery{Ref: ref, State: c.QueryParam("state"), Before: before, Limit: noticePageSize}
	return q, q.Check()
}

// newestNotices is the query of the page as it first opens: the newest
// notices in every state.
func newestNotices() jobs.NoticeQuery { return jobs.NoticeQuery{Limit: noticePageSize} }

// channelsModel reads the page's settings and the page of notices q asks
// for; it returns the stores' errors.
func (s *Server) channelsModel(c echo.Context, sess *identity.Session, q jobs.NoticeQuery) (web.ChannelsPage, error) {
	ctx := c.Request().Context()
	m := web.ChannelsPage{Page: s.page(c, "Notifications")}
	u, err := s.deps.Channels.Webhook(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	ch, err := s.deps.Channels.Email(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	notices, err := s.deps.Channels.Notices(ctx, sess.TenantID, q)
	if err != nil {
		return m, err
	}
	m.WebhookSet, m.Email, m.Notices = u != "", emailForm(ch, s.deps.Channels.RelayEnabled()), noticeList(q, notices)
	return m, nil
}

// noticeList is page p of the notices, read for q, as the page shows it:
// with links to every state filter (keeping q's object) and, keeping q's
// object and state, to the newest and the next older page, and to every
// object's notices.
func noticeList(q jobs.NoticeQuery, p jobs.NoticePage) web.NoticeList {
	l := web.NoticeList{Rows: deliveryRows(p.Notices), Ref: q.Ref, EveryURL: noticesURL("", q.State, paging.Cursor{}), State: noticeStateLabel(q.State),
		Pager: pager("/admin/notifications", noticeFilter(q.Ref, q.State), paging.Query{Before: q.Before}, p.Older, "notices")}
	for _, st := range append([]string{""}, jobs.NoticeStates()...) {
		label := "all"
		if st != "" {
			label = noticeStateLabel(st)
		}
		l.Filters = append(l.Filters, web.NoticeFilter{Label: label, State: st, URL: noticesURL(q.Ref, st, paging.Cursor{}), Current: st == q.State})
	}
	return l
}

// noticesURL is the notifications page listing the notices about the
// object ref ("": every object) in state ("": every state) after the
// cursor before (zero: the newest), scrolled to the list.
func noticesURL(ref, state string, before paging.Cursor) string {
	return listURL("/admin/notifications", noticeFilter(ref, state), before, "notices")
}

// noticeFilter is the query narrowing the notices to the object ref and
// the state (each left out when "").
func noticeFilter(ref, state string) url.Values {
	v := url.Values{}
	if ref != "" {
		v.Set("ref", ref)
	}
	if state != "" {
		v.Set("state", state)
	}
	return v
}

// channelsSave sets or removes the webhook; a bad URL re-renders with the error.
func (s *Server) channelsSave(c echo.Context) error {
	sess := currentSession(c)
	err := s.deps.Channels.SetWebhook(c.Request().Context(), sess.TenantID, c.FormValue("webhook_url"), sess.Actor(), meta(c))
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		return s.channelsInvalid(c, sess, e, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/notifications")
}

// channelsEmailSave sets the email channel; invalid input re-renders the
// form as submitted (without the password) with the errors, and changes
// nothing.
func (s *Server) channelsEmailSave(c echo.Context) error {
	sess := currentSession(c)
	ch := tenants.EmailChannel{Enabled: c.FormValue("email_enabled") != ""}
	password := ""
	var err error
	if c.FormValue("relay") == "own" {
		ch.Relay = tenants.MailRelay{Addr: c.FormValue("smtp_addr"), From: c.FormValue("smtp_from"), Username: c.FormValue("smtp_username")}
		password = c.FormValue("smtp_password")
		if strings.TrimSpace(ch.Relay.Addr) == "" { // own relay chosen, none given: never quietly Gatehouse's
			err = apperr.InvalidFields("Check the email settings.", map[string]string{"smtp_addr": "Give the relay's host:port to use your own relay."})
		}
	}
	if err == nil {
		err = s.deps.Channels.SetEmail(c.Request().Context(), sess.TenantID, ch, password, sess.Actor(), meta(c))
	}
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		return s.channelsInvalid(c, sess, e, func(m *web.ChannelsPage) {
			kept := m.Email.PasswordKept && m.Email.Addr == strings.TrimSpace(ch.Relay.Addr) && m.Email.Username == strings.TrimSpace(ch.Relay.Username)
			m.Email = emailForm(ch, m.Email.GatehouseRelay)
			m.Email.Own, m.Email.PasswordKept = c.FormValue("relay") == "own", kept
		})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/notifications?saved=email")
}

// channelsTest sends a test message on each channel now and shows how each
// went.
func (s *Server) channelsTest(c echo.Context) error {
	sess := currentSession(c)
	outcomes, err := s.deps.Channels.Test(c.Request().Context(), sess.TenantID, sess.Email, sess.Actor(), meta(c))
	if err != nil {
		return err
	}
	m, err := s.channelsModel(c, sess, newestNotices())
	if err != nil {
		return err
	}
	for _, o := range outcomes {
		m.Tests = append(m.Tests, web.ChannelTestRow{Channel: o.Channel, State: o.State, Reason: o.Reason})
	}
	return render(c, http.StatusOK, web.Channels(m))
}

// channelsInvalid re-renders the page with e's errors (and the submitted
// form, by edit), as a 400.
func (s *Server) channelsInvalid(c echo.Context, sess *identity.Session, e *apperr.Error, edit func(*web.ChannelsPage)) error {
	m, err := s.channelsModel(c, sess, newestNotices())
	if err != nil {
		return err
	}
	m.FieldErrors, m.FormError = e.Fields, e.Message
	if edit != nil {
		edit(&m)
	}
	return render(c, http.StatusBadRequest, web.Channels(m))
}

// emailForm is ch as the form shows it.
func emailForm(ch tenants.EmailChannel, gatehouseRelay bool) web.EmailForm {
	return web.EmailForm{Enabled: ch.Enabled, Own: ch.Relay.Own(), Addr: ch.Relay.Addr, From: ch.Relay.From,
		Username: ch.Relay.Username, PasswordKept: ch.Relay.PasswordRef != "", GatehouseRelay: gatehouseRelay}
}

// objectNotices are the notices sent in the session's organization about
// the object ref (its ID), as its page lists them: the latest, and, when
// older ones are not listed, how many there are in all with — for a viewer
// who may open it — a link to the notification log narrowed to the object.
// It returns the store's error when they cannot be read.
func (s *Server) objectNotices(c echo.Context, ref string) (web.ObjectDeliveries, error) {
	n, err := s.deps.Notices.Deliveries(c.Request().Context(), currentSession(c).TenantID, ref)
	if err != nil {
		return web.ObjectDeliveries{}, err
	}
	d := web.ObjectDeliveries{Rows: deliveryRows(n.Latest), Total: max(n.Total, len(n.Latest))}
	if id, err := jobs.ParseNoticeRef(ref); err == nil && id != "" && n.Older() > 0 && s.mayOpen(c, "admin.notifications") {
		d.LogURL = noticesURL(id, "", paging.Cursor{})
	}
	return d, nil
}

// deliveryRows are notices as the pages show them.
func deliveryRows(ds []jobs.Delivery) []web.DeliveryRow {
	out := make([]web.DeliveryRow, 0, len(ds))
	for _, dl := range ds {
		to := strings.Join(dl.To, ", ")
		if dl.Channel == "chat" {
			to = "the organization's chat webhook"
		}
		out = append(out, web.DeliveryRow{At: when(dl.EnqueuedAt), Subject: dl.Subject, Channel: dl.Channel, To: to,
			State: dl.State, Attempts: dl.Attempts, Reason: dl.Reason, Failing: dl.Failing()})
	}
	return out
}
