package handlers

import (
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
	f.Every, f.Length, f.Alphabet, f.VerifyURL = r.Every.String(), strconv.Itoa(r.Length), r.Alphabet, r.VerifyURL
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

// rotationSave saves a cloud resource's rotation schedule.
func (s *Server) rotationSave(c echo.Context) error {
	sess := currentSession(c)
	ctx := c.Request().Context()
	res, err := s.deps.Requests.Resource(ctx, sess.TenantID, c.Param("id"))
	if err != nil {
		return err
	}
	every, derr := time.ParseDuration(c.FormValue("every"))
	n, _ := strconv.Atoi(c.FormValue("length"))
	sched := tenants.RotationSchedule{ResourceID: res.ID, Every: every, Length: n, Alphabet: c.FormValue("alphabet"), VerifyURL: strings.TrimSpace(c.FormValue("verify_url"))}
	if derr != nil {
		sched.Every = 0
	}
	err = s.deps.Stores.Replicas.SetRotationSchedule(ctx, sess.TenantID, sched, sess.Actor(), meta(c))
	m := web.PolicyPage{Page: s.page(c, "Access policy"), Resource: catalogItem(res), Roles: requestRoles(), Policy: policyForm(res.Policy)}
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		m.Rotation = &web.RotationForm{Every: c.FormValue("every"), Length: c.FormValue("length"), Alphabet: sched.Alphabet, VerifyURL: sched.VerifyURL, FieldErrors: e.Fields}
		return render(c, http.StatusBadRequest, web.PolicyEditor(m))
	}
	if err != nil {
		return err
	}
	saved, err := s.deps.Stores.Replicas.RotationSchedule(ctx, sess.TenantID, res.ID)
	if err != nil {
		return err
	}
	m.Rotation = rotationForm(saved)
	m.Rotation.Flash = "The rotation schedule is saved."
	return render(c, http.StatusOK, web.PolicyEditor(m))
}
