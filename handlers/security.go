package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/monitor"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/web"
)

// alertPageSize is how many alerts a page of the security dashboard lists.
const alertPageSize = 200

// security is the security dashboard: one page of alerts (open ones first,
// then newest first: the first page, or the one after the cursor in
// ?before), and the monitor's settings for tenant admins. A bad cursor is
// apperr.Invalid (400), and nothing is read.
func (s *Server) security(c echo.Context) error {
	before, err := monitor.ParseAlertCursor(c.QueryParam("before"))
	if err != nil {
		return err
	}
	m, err := s.securityModel(c, paging.Query{Before: before, Limit: alertPageSize}, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Security(m))
}

func settingsFields(st monitor.Settings) map[string]string {
	f := map[string]string{"time_zone": st.TimeZone, "business_start": strconv.Itoa(st.BusinessStart), "business_end": strconv.Itoa(st.BusinessEnd),
		"burst_threshold": strconv.Itoa(st.BurstThreshold), "burst_window": st.BurstWindow.String(),
		"denied_threshold": strconv.Itoa(st.DeniedThreshold), "denied_window": st.DeniedWindow.String(),
		"breakglass_threshold": strconv.Itoa(st.BreakGlassThreshold), "breakglass_window": st.BreakGlassWindow.String()}
	if st.Weekends {
		f["weekends"] = "on"
	}
	return f
}

// securityModel is the dashboard with the page of alerts q asks for and
// the settings form holding fields (nil: the settings kept); it returns
// the stores' errors.
func (s *Server) securityModel(c echo.Context, q paging.Query, fields map[string]string) (web.SecurityPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	alerts, err := s.deps.Monitor.Alerts(ctx, sess.TenantID, q)
	if err != nil {
		return web.SecurityPage{}, err
	}
	st, err := s.deps.Monitor.MonitorSettings(ctx, sess.TenantID)
	if err != nil {
		return web.SecurityPage{}, err
	}
	if fields == nil {
		fields = settingsFields(st)
	}
	m := web.SecurityPage{Page: s.page(c, "Security"), CanManage: s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.ManageSecurity),
		Settings: fields, FieldErrors: map[string]string{}, AlertsFrom: q.Before.String(),
		AlertPager: pager("/security", nil, q, alerts.Older, "alerts")}
	for _, r := range monitor.Rules() {
		m.Rules = append(m.Rules, web.RuleToggle{Name: string(r), Enabled: !slices.Contains(st.Disabled, r)})
	}
	for _, a := range alerts.Rows {
		row := web.AlertRow{ID: strconv.FormatInt(a.ID, 10), Rule: a.Rule, Score: a.Score, Summary: a.Summary, At: when(a.OccurredAt),
			EventURL: "/audit?" + url.Values{"actor": {a.Actor}, "before": {strconv.FormatInt(a.EventID+1, 10)}}.Encode()}
		if !a.AckedAt.IsZero() {
			row.Acked = "acknowledged by " + a.AckedBy + " " + when(a.AckedAt)
		}
		m.Alerts = append(m.Alerts, row)
	}
	return m, nil
}

// alertAck acknowledges an alert of the tenant, then shows the page of
// alerts it was acknowledged from (the form's before: a cursor, "" for the
// first page). A bad cursor is apperr.Invalid, and nothing changes.
func (s *Server) alertAck(c echo.Context) error {
	sess := currentSession(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "There is no such open alert in your organization.")
	}
	before, err := monitor.ParseAlertCursor(c.FormValue("before"))
	if err != nil {
		return err
	}
	if err := s.deps.Monitor.AckAlert(c.Request().Context(), sess.TenantID, id, sess.Actor(), meta(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, listURL("/security", nil, before, "alerts"))
}

// securitySettings saves the monitor's settings.
func (s *Server) securitySettings(c echo.Context) error {
	sess := currentSession(c)
	fields := map[string]string{}
	for _, k := range []string{"time_zone", "business_start", "business_end", "weekends", "burst_threshold", "burst_window",
		"denied_threshold", "denied_window", "breakglass_threshold", "breakglass_window"} {
		fields[k] = c.FormValue(k)
	}
	dur := func(k string) time.Duration { d, _ := time.ParseDuration(fields[k]); return d }
	st := monitor.Settings{TimeZone: fields["time_zone"], BusinessStart: atoi(fields["business_start"]), BusinessEnd: atoi(fields["business_end"]),
		Weekends: fields["weekends"] == "on", BurstThreshold: atoi(fields["burst_threshold"]), BurstWindow: dur("burst_window"),
		DeniedThreshold: atoi(fields["denied_threshold"]), DeniedWindow: dur("denied_window"),
		BreakGlassThreshold: atoi(fields["breakglass_threshold"]), BreakGlassWindow: dur("breakglass_window")}
	form, _ := c.FormParams()
	for _, r := range monitor.Rules() {
		if !slices.Contains(form["rule"], string(r)) {
			st.Disabled = append(st.Disabled, r)
		}
	}
	err := s.deps.Monitor.SetMonitorSettings(c.Request().Context(), sess.TenantID, st, sess.Actor(), meta(c))
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/security")
	}
	ae := apperr.As(err)
	if ae.Code != apperr.Invalid {
		return err
	}
	m, merr := s.securityModel(c, paging.First(alertPageSize), fields)
	if merr != nil {
		return merr
	}
	m.FormError, m.FieldErrors = ae.Message, ae.Fields
	return render(c, statusOf(ae.Code), web.Security(m))
}
