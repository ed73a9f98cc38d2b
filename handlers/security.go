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
	"github.com/gatehouse/gatehouse/web"
)

// security is the security dashboard: alerts, and the monitor's settings
// for tenant admins.
func (s *Server) security(c echo.Context) error {
	m, err := s.securityModel(c, nil)
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

func (s *Server) securityModel(c echo.Context, fields map[string]string) (web.SecurityPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	alerts, err := s.deps.Monitor.Alerts(ctx, sess.TenantID)
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
		Settings: fields, FieldErrors: map[string]string{}}
	for _, r := range monitor.Rules() {
		m.Rules = append(m.Rules, web.RuleToggle{Name: string(r), Enabled: !slices.Contains(st.Disabled, r)})
	}
	for _, a := range alerts {
		row := web.AlertRow{ID: strconv.FormatInt(a.ID, 10), Rule: a.Rule, Score: a.Score, Summary: a.Summary, At: when(a.OccurredAt),
			EventURL: "/audit?" + url.Values{"actor": {a.Actor}, "before": {strconv.FormatInt(a.EventID+1, 10)}}.Encode()}
		if !a.AckedAt.IsZero() {
			row.Acked = "acknowledged by " + a.AckedBy + " " + when(a.AckedAt)
		}
		m.Alerts = append(m.Alerts, row)
	}
	return m, nil
}

// alertAck acknowledges an alert of the tenant.
func (s *Server) alertAck(c echo.Context) error {
	sess := currentSession(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "There is no such open alert in your organization.")
	}
	if err := s.deps.Monitor.AckAlert(c.Request().Context(), sess.TenantID, id, sess.Actor(), meta(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/security")
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
	m, merr := s.securityModel(c, fields)
	if merr != nil {
		return merr
	}
	m.FormError, m.FieldErrors = ae.Message, ae.Fields
	return render(c, statusOf(ae.Code), web.Security(m))
}
