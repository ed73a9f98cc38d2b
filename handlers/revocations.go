package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// viewer is the signed-in person as the revocation center sees them.
func viewer(c echo.Context) approvals.Viewer {
	sess := currentSession(c)
	return approvals.Viewer{TenantID: sess.TenantID, Operator: sess.HasRole(tenants.RolePlatformOperator)}
}

func kinds() []string {
	out := make([]string, 0, len(approvals.ScopeKinds()))
	for _, k := range approvals.ScopeKinds() {
		out = append(out, string(k)+":")
	}
	return out
}

// revocationPageSize is how many revocations a page of the center lists.
const revocationPageSize = 100

// revocations is the revocation center: pick a scope, see past
// revocations a page at a time, newest first (the first page, or the one
// after the cursor in ?before). A bad cursor is apperr.Invalid (400), and
// nothing is read.
func (s *Server) revocations(c echo.Context) error {
	q, err := pageQuery(c, revocationPageSize, "revocations")
	if err != nil {
		return err
	}
	m, err := s.revocationsModel(c, q)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Revocations(m))
}

// revocationsModel is the center with the page of revocations q asks for;
// it returns the store's errors.
func (s *Server) revocationsModel(c echo.Context, q paging.Query) (web.RevocationsPage, error) {
	v := viewer(c)
	all, err := s.deps.Revocations.Revocations(c.Request().Context(), v, q)
	if err != nil {
		return web.RevocationsPage{}, err
	}
	m := web.RevocationsPage{Page: s.page(c, "Revocations"), Operator: v.Operator, Kinds: kinds(), FieldErrors: map[string]string{},
		Pager: pager("/revocations", nil, q, all.Older, "revocations")}
	for _, r := range all.Rows {
		state := "running"
		if r.Completed {
			state = "completed"
		}
		m.Rows = append(m.Rows, web.RevocationRow{ID: r.ID, Scope: r.Scope.String(), Reason: r.Reason, Actor: r.Actor,
			Started: when(r.CreatedAt), State: state, Lifted: when(r.LiftedAt)})
	}
	return m, nil
}

// revocationPreview shows what revoking the scope will hit; an unknown
// scope or one outside the viewer's tenant is a 404.
func (s *Server) revocationPreview(c echo.Context) error {
	raw := c.QueryParam("scope")
	sc, err := approvals.ParseScope(raw)
	if err != nil {
		m, merr := s.revocationsModel(c, paging.First(revocationPageSize))
		if merr != nil {
			return merr
		}
		ae := apperr.As(err)
		m.Scope, m.FormError, m.FieldErrors = raw, ae.Message, ae.Fields
		return render(c, statusOf(ae.Code), web.Revocations(m))
	}
	m, err := s.previewModel(c, sc, map[string]string{})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.RevocationPreview(m))
}

func (s *Server) previewModel(c echo.Context, sc approvals.Scope, fields map[string]string) (web.RevocationPreviewPage, error) {
	im, err := s.deps.Revocations.RevocationImpact(c.Request().Context(), sc, viewer(c), s.deps.Sessions.Window())
	if err != nil {
		return web.RevocationPreviewPage{}, s.auditedNotFound(c, "scope "+sc.String(), err)
	}
	return web.RevocationPreviewPage{Page: s.page(c, "Revoke "+sc.String()), Scope: sc.String(), Sessions: im.Sessions, Grants: im.Grants,
		Shares: im.Shares, Tenants: im.Tenants, CanRotate: sc.Kind == approvals.ScopeResource, Fields: fields, FieldErrors: map[string]string{}}, nil
}

// auditedNotFound audits a scope the viewer may not act on (as a
// cross-tenant probe) and answers 404 either way.
func (s *Server) auditedNotFound(c echo.Context, what string, err error) error {
	if apperr.CodeOf(err) == apperr.NotFound && !viewer(c).Operator {
		return s.crossTenant(c, what)
	}
	return err
}

// revocationStart confirms and starts the revocation: the scope's name
// typed again and a reason, or nothing happens.
func (s *Server) revocationStart(c echo.Context) error {
	sess := currentSession(c)
	sc, err := approvals.ParseScope(c.FormValue("scope"))
	if err != nil {
		return err
	}
	fields := map[string]string{"confirm": c.FormValue("confirm"), "reason": strings.TrimSpace(c.FormValue("reason"))}
	err = approvals.CheckRevocation(sc, fields["confirm"], fields["reason"])
	var id string
	if err == nil {
		id, err = s.deps.Revocations.StartRevocation(c.Request().Context(), sc, viewer(c), fields["reason"], sess.Actor(),
			c.FormValue("rotate") == "on", meta(c))
	}
	if err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.Invalid {
			return s.auditedNotFound(c, "scope "+sc.String(), err)
		}
		m, merr := s.previewModel(c, sc, fields)
		if merr != nil {
			return merr
		}
		m.FormError, m.FieldErrors = ae.Message, ae.Fields
		return render(c, statusOf(ae.Code), web.RevocationPreview(m))
	}
	return c.Redirect(http.StatusSeeOther, "/revocations/"+id)
}

func progressOf(r approvals.Revocation) web.RevocationProgress {
	p := web.RevocationProgress{ID: r.ID, Scope: r.Scope.String(), Completed: r.Completed, Percent: r.Progress.Percent(),
		Sessions: r.SessionsEnded, Total: r.Progress.Total, Verified: r.Progress.Verified, Failed: r.Progress.Failed,
		Pending: r.Progress.Pending, Rotated: r.Rotated, BlockedSince: when(r.CreatedAt)}
	if !r.BlockInForce() {
		p.BlockLifted, p.BlockLiftedBy = when(r.LiftedAt), r.LiftedBy
	}
	if !r.Completed && p.Percent == 100 {
		p.Percent = 99 // items not listed yet, or the last step (rotation, notices) still to come
	}
	for _, it := range r.Items {
		if it.State == "failed" {
			p.LastError = it.LastError
		}
	}
	return p
}

// revocationToldShown is the most notices a revocation's page lists; the
// page says how many more there are, and its JSON report lists them all.
const revocationToldShown = 500

// revocation shows one revocation the viewer may see: its progress, its
// grants and the notices it sent (the first revocationToldShown). Another
// tenant's is a 404, audited as a cross-tenant probe.
func (s *Server) revocation(c echo.Context) error {
	r, err := s.deps.Revocations.Revocation(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return s.auditedNotFound(c, "revocation "+c.Param("id"), err)
	}
	m := web.RevocationPage{Page: s.page(c, "Revocation"), Progress: progressOf(r), Reason: r.Reason, Actor: r.Actor,
		Started: when(r.CreatedAt), Lifted: when(r.LiftedAt), CanLift: r.Completed}
	for _, it := range r.Items {
		m.Items = append(m.Items, web.RevocationItemRow{Resource: it.Resource, Holder: it.Holder, State: it.State, Attempts: it.Attempts, Error: it.LastError})
	}
	m.ToldTotal = len(r.Told)
	for _, t := range r.Told[:min(len(r.Told), revocationToldShown)] { // the report lists every one
		to := strings.Join(t.To, ", ") // none shown for another organization's people
		if t.Channel == "chat" {
			to = "the organization's chat webhook"
		}
		m.Told = append(m.Told, web.ToldRow{Org: t.Org, Channel: t.Channel, To: to, State: t.State, Reason: t.Reason, At: when(t.SentAt),
			Failing: t.State == jobs.NoticeRetrying || t.State == jobs.NoticeFailed})
	}
	return render(c, http.StatusOK, web.Revocation(m))
}

// revocationProgress is the polled part; once complete it asks htmx to
// reload the page (the final items, the report, the lift action).
func (s *Server) revocationProgress(c echo.Context) error {
	r, err := s.deps.Revocations.Revocation(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return s.auditedNotFound(c, "revocation "+c.Param("id"), err)
	}
	if r.Completed {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return render(c, http.StatusOK, web.RevocationProgressPart(progressOf(r)))
}

// revocationReport is the revocation's report as a JSON download, with
// every notice it sent (never capped).
func (s *Server) revocationReport(c echo.Context) error {
	r, err := s.deps.Revocations.Revocation(c.Request().Context(), c.Param("id"), viewer(c))
	if err != nil {
		return s.auditedNotFound(c, "revocation "+c.Param("id"), err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="revocation-`+r.ID+`.json"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, approvals.ReportOf(r))
}

// revocationLift lifts the revocation's block, a separate audited action.
func (s *Server) revocationLift(c echo.Context) error {
	sess := currentSession(c)
	if err := s.deps.Revocations.LiftRevocation(c.Request().Context(), c.Param("id"), viewer(c), sess.Actor(), meta(c)); err != nil {
		return s.auditedNotFound(c, "revocation "+c.Param("id"), err)
	}
	return c.Redirect(http.StatusSeeOther, "/revocations/"+c.Param("id"))
}
