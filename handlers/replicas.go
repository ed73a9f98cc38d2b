package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// replicas lists the tenant's replicas with the form adding one.
func (s *Server) replicas(c echo.Context) error {
	m, err := s.replicasModel(c)
	if err != nil {
		return err
	}
	switch f := c.QueryParam("flash"); f {
	case "Sync queued.", "Overwrite queued.", "Purged.", "Replica added; its first sync is queued.":
		m.Flash = f
	}
	return render(c, http.StatusOK, web.Replicas(m))
}

func (s *Server) replicasModel(c echo.Context) (web.ReplicasPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	m := web.ReplicasPage{Page: s.page(c, "Replicas"), Fields: map[string]string{}}
	rows, err := s.deps.Stores.Replicas.SyncTargets(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	for _, r := range rows {
		row := web.ReplicaRow{ID: r.ID, Source: r.SourceName, Binding: r.BindingName, Target: r.TargetName, State: string(r.State), Detail: r.Detail}
		if !r.CheckedAt.IsZero() {
			row.Checked = r.CheckedAt.UTC().Format(time.DateTime)
		}
		m.Rows = append(m.Rows, row)
	}
	items, err := s.deps.Requests.Catalog(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	for _, r := range items {
		if !r.Cloud() && !strings.HasSuffix(r.Path, "/") {
			m.Sources = append(m.Sources, web.Option{Value: r.ID, Label: r.Name + " (" + r.Mount + "/" + r.Path + ")"})
		}
	}
	bs, err := s.deps.Stores.Bindings.List(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	for _, b := range bs {
		m.Bindings = append(m.Bindings, web.Option{Value: b.ID, Label: b.Name + " (" + secretstores.Kind(b.Kind).Label() + ")"})
	}
	return m, nil
}

// replicaAdd adds a replica; invalid input re-renders with field errors.
func (s *Server) replicaAdd(c echo.Context) error {
	sess := currentSession(c)
	fields := map[string]string{"source": c.FormValue("source"), "binding": c.FormValue("binding"), "target_name": c.FormValue("target_name")}
	_, err := s.deps.Stores.AddReplica(c.Request().Context(), tenants.SyncTarget{TenantID: sess.TenantID, SourceID: fields["source"],
		BindingID: fields["binding"], TargetName: fields["target_name"]}, sess.Actor(), meta(c))
	if e := apperr.As(err); e != nil && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) {
		m, merr := s.replicasModel(c)
		if merr != nil {
			return merr
		}
		m.Fields, m.FieldErrors, m.FormError = fields, e.Fields, e.Message
		return render(c, statusOf(e.Code), web.Replicas(m))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/replicas?flash="+url.QueryEscape("Replica added; its first sync is queued."))
}

// replicaAction syncs, overwrites or purges one replica.
func (s *Server) replicaAction(c echo.Context) error {
	sess := currentSession(c)
	ctx, id := c.Request().Context(), c.Param("id")
	var err error
	var flash string
	switch c.Param("action") {
	case "sync":
		err, flash = s.deps.Stores.SyncNow(ctx, sess.TenantID, id, false), "Sync queued."
	case "overwrite":
		err, flash = s.deps.Stores.SyncNow(ctx, sess.TenantID, id, true), "Overwrite queued."
	case "purge":
		err, flash = s.deps.Stores.Purge(ctx, sess.TenantID, id), "Purged."
	default:
		return apperr.New(apperr.NotFound, "There is no page at this address.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/replicas?flash="+url.QueryEscape(flash))
}

// rotationForm is a resource's schedule as its form shows it.
func rotationForm(r *tenants.RotationSchedule) *web.RotationForm {
	f := &web.RotationForm{Every: "720h", Length: "40", Alphabet: "urlsafe", FieldErrors: map[string]string{}}
	if r == nil {
		return f
	}
	f.Every, f.Length, f.Alphabet, f.VerifyURL, f.Scheduled = r.Every.String(), strconv.Itoa(r.Length), r.Alphabet, r.VerifyURL, true
	f.Status = "Next rotation: " + r.NextAt.UTC().Format(time.DateTime) + " UTC."
	if !r.LastAt.IsZero() {
		f.Status += " Last run " + r.LastAt.UTC().Format(time.DateTime) + " UTC: "
		if r.LastError != "" {
			f.Status += "failed (" + r.LastError + ")."
		} else {
			f.Status += "version " + r.LastVersion + " written."
		}
	}
	return f
}

// rotationSave saves a cloud resource's rotation schedule. Bad input
// re-renders the form with field errors (400), a retired resource with
// why (409); nothing changes either way.
func (s *Server) rotationSave(c echo.Context) error {
	sess := currentSession(c)
	every, derr := time.ParseDuration(c.FormValue("every"))
	n, _ := strconv.Atoi(c.FormValue("length"))
	sched := tenants.RotationSchedule{ResourceID: c.Param("id"), Every: every, Length: n, Alphabet: c.FormValue("alphabet"), VerifyURL: strings.TrimSpace(c.FormValue("verify_url"))}
	if derr != nil {
		sched.Every = 0
	}
	return s.rotationChange(c, "The rotation schedule is saved.", func(ctx context.Context) error {
		return s.deps.Stores.Replicas.SetRotationSchedule(ctx, sess.TenantID, sched, sess.Actor(), meta(c))
	}, func(f *web.RotationForm, e *apperr.Error) {
		f.Every, f.Length, f.Alphabet, f.VerifyURL = c.FormValue("every"), c.FormValue("length"), sched.Alphabet, sched.VerifyURL
		f.FieldErrors = e.Fields
	})
}

// rotationStop stops a cloud resource's scheduled rotation, retired or
// not; one with no schedule re-renders the page with why (409).
func (s *Server) rotationStop(c echo.Context) error {
	sess := currentSession(c)
	return s.rotationChange(c, "Scheduled rotation is stopped.", func(ctx context.Context) error {
		return s.deps.Stores.Replicas.StopRotation(ctx, sess.TenantID, c.Param("id"), sess.Actor(), meta(c))
	}, nil)
}

// rotationChange runs change on the session tenant's resource named by
// :id and renders its page with the schedule as it is now and flash. A
// refusal (apperr.Invalid or Conflict) renders it with the message and
// its status instead, after refused (when not nil) has put the input back
// into the form.
func (s *Server) rotationChange(c echo.Context, flash string, change func(context.Context) error, refused func(*web.RotationForm, *apperr.Error)) error {
	ctx := c.Request().Context()
	res, err := s.managedResource(c)
	if err != nil {
		return err
	}
	err = change(ctx)
	e := apperr.As(err)
	if err != nil && (e == nil || e.Code != apperr.Invalid && e.Code != apperr.Conflict) {
		return s.scoped(c, "resource", res.ID, err)
	}
	if res, err = s.managedResource(c); err != nil {
		return err
	}
	m, err := s.resourcePage(c, res)
	if err != nil {
		return err
	}
	if m.Rotation == nil && e != nil { // a Vault secret has no rotation form to show why
		return e
	}
	if m.Rotation == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/catalog/"+res.ID)
	}
	if e == nil {
		m.Rotation.Flash = flash
		return render(c, http.StatusOK, web.PolicyEditor(m))
	}
	m.Rotation.Error = e.Message
	if refused != nil {
		refused(m.Rotation, e)
	}
	return render(c, statusOf(e.Code), web.PolicyEditor(m))
}
