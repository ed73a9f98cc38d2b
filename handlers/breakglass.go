package handlers

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/web"
)

// fresh reports whether the session is a forced re-authentication recent
// enough to break glass.
func (s *Server) fresh(sess *identity.Session) bool {
	return approvals.Fresh(sess.StepUp, sess.AuthTime, s.deps.Now())
}

func reauthURL(sess *identity.Session, back string) string {
	return "/auth/" + sess.TenantSlug + "/reauth?" + url.Values{"return_to": {back}}.Encode()
}

// emergencies returns the banner entries of the tenant's active
// break-glass grants; a failure to read them is logged, never fatal.
func (s *Server) emergencies(c echo.Context, tenantID string) []web.EmergencyBanner {
	if b, ok := s.banners.get(tenantID, time.Now()); ok {
		return b
	}
	active, err := s.deps.BreakGlass.ActiveBreakGlass(c.Request().Context(), tenantID)
	if err != nil {
		s.deps.Log.Error("reading active break-glass", slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
		return nil
	}
	out := make([]web.EmergencyBanner, 0, len(active))
	for _, a := range active {
		out = append(out, web.EmergencyBanner{Responder: a.Requester.Email, Resource: a.Resource, Until: when(a.ExpiresAt),
			Drill: a.Drill, Href: "/breakglass/" + a.ID})
	}
	s.banners.put(tenantID, out, time.Now())
	return out
}

func (s *Server) breakGlassRow(r approvals.BreakGlassRow) web.BreakGlassRow {
	row := web.BreakGlassRow{ID: r.ID, Responder: r.Requester.Email, Resource: r.Resource, Incident: r.Incident, State: string(r.State),
		Started: when(r.SubmittedAt), Ends: when(r.ExpiresAt), Drill: r.Drill}
	switch {
	case r.Review.Verdict != "":
		row.Review = string(r.Review.Verdict)
	case r.Review.Overdue(s.deps.Now()):
		row.Review, row.Overdue = "review overdue since "+when(r.Review.DueAt), true
	default:
		row.Review = "review due by " + when(r.Review.DueAt)
	}
	return row
}

// breakGlassPageSize is how many break-glasses a page of the list shows.
const breakGlassPageSize = 200

// breakGlassList lists one page of the tenant's break-glasses, newest
// first: the first, or the one after the cursor in ?before. A bad cursor
// is apperr.Invalid (400), and nothing is read.
func (s *Server) breakGlassList(c echo.Context) error {
	sess := currentSession(c)
	ctx := c.Request().Context()
	q, err := pageQuery(c, breakGlassPageSize, "break-glasses")
	if err != nil {
		return err
	}
	rows, err := s.deps.BreakGlass.BreakGlassList(ctx, sess.TenantID, q)
	if err != nil {
		return err
	}
	flags, err := s.deps.BreakGlass.ResponderFlags(ctx, sess.TenantID)
	if err != nil {
		return err
	}
	m := web.BreakGlassPage{Page: s.page(c, "Break glass"), CanBreak: s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.UseBreakGlass),
		Pager: pager("/breakglass", nil, q, rows.Older, "breakglass-list")}
	for _, r := range rows.Rows {
		m.Rows = append(m.Rows, s.breakGlassRow(r))
	}
	for _, f := range flags {
		m.Flags = append(m.Flags, web.FlagRow{Email: f.Email, Count: f.Count, Last: when(f.Last)})
	}
	return render(c, http.StatusOK, web.BreakGlass(m))
}

// breakGlassForm shows the emergency form; without a fresh forced
// re-authentication it sends the responder to their IdP first.
func (s *Server) breakGlassForm(c echo.Context) error {
	sess := currentSession(c)
	if !s.fresh(sess) {
		return c.Redirect(http.StatusSeeOther, reauthURL(sess, "/breakglass/new"))
	}
	m, err := s.breakGlassFormModel(c, map[string]string{})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.BreakGlassForm(m))
}

func (s *Server) breakGlassFormModel(c echo.Context, fields map[string]string) (web.BreakGlassFormPage, error) {
	sess := currentSession(c)
	all, err := s.deps.Requests.Catalog(c.Request().Context(), sess.TenantID)
	if err != nil {
		return web.BreakGlassFormPage{}, err
	}
	m := web.BreakGlassFormPage{Page: s.page(c, "Break glass"), Fields: fields, FieldErrors: map[string]string{},
		FreshUntil: when(sess.AuthTime.Add(approvals.FreshAuthWindow))}
	for _, r := range all {
		if r.BreakGlass.Enabled {
			m.Resources = append(m.Resources, web.BreakGlassChoice{ID: r.ID, Name: r.Name, Secret: r.Mount + "/" + r.Path,
				MaxDuration: r.BreakGlass.MaxDuration.String(), Drill: r.BreakGlass.Drill})
		}
	}
	shared, err := s.deps.Shares.SharedCatalog(c.Request().Context(), sess.TenantID)
	if err != nil {
		return m, err
	}
	for _, it := range shared {
		if r := it.Resource; r.BreakGlass.Enabled {
			m.Resources = append(m.Resources, web.BreakGlassChoice{ID: it.ShareID + ":" + r.ID, Name: r.Name, Secret: r.Mount + "/" + r.Path,
				MaxDuration: min(r.BreakGlass.MaxDuration, it.MaxGrant).String(), Drill: r.BreakGlass.Drill, Owner: it.OwnerName})
		}
	}
	return m, nil
}

// breakGlassSubmit breaks glass: access at once, everyone told. A refusal
// re-renders the form with the reason; nothing is issued then.
func (s *Server) breakGlassSubmit(c echo.Context) error {
	sess := currentSession(c)
	fields := map[string]string{}
	for _, k := range []string{"resource", "incident", "justification", "duration"} {
		fields[k] = c.FormValue(k)
	}
	e := approvals.Emergency{Justification: strings.TrimSpace(fields["justification"]), Incident: strings.TrimSpace(fields["incident"])}
	var err error
	if d := strings.TrimSpace(fields["duration"]); d != "" {
		if e.Duration, err = time.ParseDuration(d); err != nil {
			err = apperr.InvalidFields("Check the window.", map[string]string{"duration": "Write a duration like 30m."})
		}
	}
	var out struct {
		RequestID string
		Issued    bool
	}
	if err == nil {
		var em access.Emergency
		if share, res, shared := strings.Cut(fields["resource"], ":"); shared {
			em, err = s.deps.Access.BreakGlassShared(c.Request().Context(), holder(sess), share, res, e, s.fresh(sess), meta(c))
		} else {
			em, err = s.deps.Access.BreakGlass(c.Request().Context(), holder(sess), fields["resource"], e, s.fresh(sess), meta(c))
		}
		out.RequestID, out.Issued = em.RequestID, em.Issued
	}
	if err != nil {
		ae := apperr.As(err)
		if ae.Code == apperr.Internal || ae.Code == apperr.Unavailable {
			return err
		}
		m, merr := s.breakGlassFormModel(c, fields)
		if merr != nil {
			return merr
		}
		m.FormError, m.FieldErrors = ae.Message, ae.Fields
		if ae.Code == apperr.NotFound {
			m.FieldErrors = map[string]string{"resource": "Pick one of the listed resources."}
		}
		if err == approvals.ErrStaleAuth {
			m.ReauthURL = reauthURL(sess, "/breakglass/new")
		}
		return render(c, statusOf(ae.Code), web.BreakGlassForm(m))
	}
	s.banners.forget(sess.TenantID)
	return c.Redirect(http.StatusSeeOther, "/breakglass/"+out.RequestID)
}

// breakGlassDetail shows one break-glass of the tenant, its review and who
// was told; another tenant's (or a JIT request's) ID is a 404.
func (s *Server) breakGlassDetail(c echo.Context) error {
	m, err := s.breakGlassDetailModel(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.BreakGlassDetail(m))
}

func (s *Server) breakGlassDetailModel(c echo.Context) (web.BreakGlassDetailPage, error) {
	sess := currentSession(c)
	ctx, id := c.Request().Context(), c.Param("id")
	d, err := s.deps.Requests.Detail(ctx, sess.TenantID, id)
	if err == nil && d.Kind != approvals.BreakGlassKind {
		err = apperr.New(apperr.NotFound, "There is no such break-glass in your organization.")
	}
	if err != nil {
		return web.BreakGlassDetailPage{}, s.scoped(c, "request", id, err)
	}
	rv := *d.Review
	me := person(sess)
	m := web.BreakGlassDetailPage{Page: s.page(c, "Break-glass on "+d.Resource),
		Row:           s.breakGlassRow(approvals.BreakGlassRow{Summary: d.Summary, Incident: d.Incident, Review: rv}),
		Justification: d.Justification, Duration: d.Duration.String(), Timeline: timeline(d, sess.TenantID), Due: when(rv.DueAt),
		Verdict: string(rv.Verdict), Reviewer: rv.Reviewer.Email, ReviewedAt: when(rv.ReviewedAt), Notes: rv.Notes, Escalations: rv.Escalations,
		IsHolder: d.State == approvals.Active && d.Requester.Subject == me.Subject, FieldErrors: map[string]string{}}
	if rv.Verdict == approvals.NotJustified {
		m.VerdictNote = "The responder is flagged for this break-glass."
		if !approvals.FlagsResponder(rv.Verdict, d.Drill) {
			m.VerdictNote = "This was a drill: the verdict is recorded, and the responder is not flagged."
		}
	}
	switch {
	case rv.RotatedVersion != "" && rv.RotatedVersion != "0":
		m.Rotation = "The secret was rotated when the window ended: version " + rv.RotatedVersion + " written at " + when(rv.RotatedAt) + "."
	case !rv.RotatedAt.IsZero():
		m.Rotation = "Rotating the secret when the window ended failed; see the audit trail and rotate it by hand."
	}
	if rv.Verdict == "" && rv.TenantID == sess.TenantID && s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.ReviewBreakGlass) {
		if rerr := approvals.CheckReviewer(d.Requester, me); rerr != nil {
			m.ReviewNote = apperr.As(rerr).Message
		} else {
			m.CanReview = true
		}
	}
	if m.Deliveries, err = s.objectNotices(c, d.ID); err != nil {
		return m, err
	}
	return m, nil
}

// breakGlassReview records the review; refusals re-render the page with
// the reason and change nothing.
func (s *Server) breakGlassReview(c echo.Context) error {
	sess := currentSession(c)
	id := c.Param("id")
	err := s.deps.BreakGlass.ReviewBreakGlass(c.Request().Context(), sess.TenantID, id, person(sess),
		approvals.Verdict(c.FormValue("verdict")), strings.TrimSpace(c.FormValue("notes")), meta(c))
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/breakglass/"+id)
	}
	ae := apperr.As(err)
	if ae.Code == apperr.NotFound || ae.Code == apperr.Internal || ae.Code == apperr.Unavailable {
		return s.scoped(c, "request", id, err)
	}
	m, merr := s.breakGlassDetailModel(c)
	if merr != nil {
		return merr
	}
	m.FormError, m.FieldErrors = ae.Message, ae.Fields
	return render(c, statusOf(ae.Code), web.BreakGlassDetail(m))
}

// breakGlassSettings shows the tenant's limits and each resource's setting.
func (s *Server) breakGlassSettings(c echo.Context) error {
	m, err := s.breakGlassSettingsModel(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.BreakGlassSettings(m))
}

func (s *Server) breakGlassSettingsModel(c echo.Context) (web.BreakGlassSettingsPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	l, err := s.deps.BreakGlass.BreakGlassLimits(ctx, sess.TenantID)
	if err != nil {
		return web.BreakGlassSettingsPage{}, err
	}
	all, err := s.deps.Requests.Catalog(ctx, sess.TenantID)
	if err != nil {
		return web.BreakGlassSettingsPage{}, err
	}
	m := web.BreakGlassSettingsPage{Page: s.page(c, "Break-glass settings"), FieldErrors: map[string]string{},
		Limits: web.LimitsForm{PerResponder: strconv.Itoa(l.PerResponder), PerTenant: strconv.Itoa(l.PerTenant),
			ReviewHours: strconv.Itoa(int(l.ReviewSLA / time.Hour))}}
	for _, r := range all {
		m.Resources = append(m.Resources, web.BreakGlassSetting{ID: r.ID, Name: r.Name, Secret: r.Mount + "/" + r.Path,
			Enabled: r.BreakGlass.Enabled, MaxMinutes: strconv.Itoa(int(r.BreakGlass.MaxDuration / time.Minute)),
			Rotate: r.BreakGlass.RotateAfter, Drill: r.BreakGlass.Drill})
	}
	return m, nil
}

// settingsRefused re-renders the settings page with err's messages.
func (s *Server) settingsRefused(c echo.Context, err error) error {
	ae := apperr.As(err)
	if ae.Code != apperr.Invalid {
		return err
	}
	m, merr := s.breakGlassSettingsModel(c)
	if merr != nil {
		return merr
	}
	m.FormError, m.FieldErrors = ae.Message, ae.Fields
	return render(c, statusOf(ae.Code), web.BreakGlassSettings(m))
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1 // out of every range: refused with the field's message
	}
	return n
}

// breakGlassLimitsSave sets the tenant's limits.
func (s *Server) breakGlassLimitsSave(c echo.Context) error {
	sess := currentSession(c)
	l := approvals.Limits{PerResponder: atoi(c.FormValue("per_responder")), PerTenant: atoi(c.FormValue("per_tenant")),
		ReviewSLA: time.Duration(atoi(c.FormValue("review_sla_hours"))) * time.Hour}
	if err := s.deps.BreakGlass.SetBreakGlassLimits(c.Request().Context(), sess.TenantID, l, sess.Actor(), meta(c)); err != nil {
		return s.settingsRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/breakglass")
}

// breakGlassResourceSave sets one resource's break-glass setting.
func (s *Server) breakGlassResourceSave(c echo.Context) error {
	sess := currentSession(c)
	id := c.Param("id")
	b := approvals.BreakGlass{Enabled: c.FormValue("enabled") == "on", RotateAfter: c.FormValue("rotate") == "on",
		Drill: c.FormValue("drill") == "on", MaxDuration: time.Duration(atoi(c.FormValue("max_minutes"))) * time.Minute}
	if err := s.deps.BreakGlass.SetBreakGlass(c.Request().Context(), sess.TenantID, id, b, sess.Actor(), meta(c)); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return s.scoped(c, "resource", id, err)
		}
		return s.settingsRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/breakglass")
}
