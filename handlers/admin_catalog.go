package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/web"
)

// adminCatalog shows the catalog, the tenant's Vault keys under ?prefix=
// (names only) and the form adding an entry.
func (s *Server) adminCatalog(c echo.Context) error {
	m, err := s.adminCatalogModel(c)
	if err != nil {
		return err
	}
	m.Policy = policyForm(defaultPolicy())
	m.Fields["classification"] = "medium"
	m.Fields["policy_source"] = web.PolicyOwn
	for _, cl := range m.Classes {
		if cl.Set { // once the tenant has classification policies, following them is the norm
			m.Fields["policy_source"] = web.PolicyClass
		}
	}
	m.Fields["binding"], m.Fields["path"] = c.QueryParam("binding"), c.QueryParam("path")
	return render(c, http.StatusOK, web.AdminCatalog(m))
}

func (s *Server) adminCatalogModel(c echo.Context) (web.AdminCatalogPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	items, err := s.deps.Requests.Catalog(ctx, sess.TenantID)
	if err != nil {
		return web.AdminCatalogPage{}, err
	}
	m := web.AdminCatalogPage{Page: s.page(c, "Catalog management"), Roles: requestRoles(), Fields: map[string]string{}}
	for _, r := range items {
		m.Items = append(m.Items, catalogItem(r))
	}
	retired, err := s.deps.Requests.RetiredResources(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	for _, r := range retired {
		m.Retired = append(m.Retired, web.RetiredRow{ID: r.ID, Name: r.Name, Secret: r.Mount + "/" + r.Path, RetiredAt: when(r.RetiredAt),
			RetiredBy: r.RetiredBy, Reason: r.RetiredReason})
	}
	classes, err := s.deps.Requests.ClassPolicies(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	for _, cl := range classes {
		m.Classes = append(m.Classes, web.ClassRow{Classification: string(cl.Classification), Set: cl.Set, Followers: cl.Followers})
	}
	if m.Mount, err = s.deps.Requests.VaultMount(ctx, sess.TenantID); err != nil {
		return m, err
	}
	m.Stores = []web.Option{{Value: "", Label: "Vault mount " + m.Mount}}
	bs, err := s.deps.Stores.Bindings.List(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	for _, b := range bs {
		m.Stores = append(m.Stores, web.Option{Value: b.ID, Label: b.Name + " (" + secretstores.Kind(b.Kind).Label() + ")"})
	}
	prefix := strings.TrimLeft(c.QueryParam("prefix"), "/")
	if strings.Contains(prefix, "..") {
		prefix = ""
	}
	m.Prefix = prefix
	if m.Keys, err = s.deps.SecretKeys.ListKV2(ctx, m.Mount, prefix); err != nil {
		return m, apperr.Wrap(apperr.Unavailable, "Vault cannot list your organization's secrets right now.", err)
	}
	return m, nil
}

// adminCatalogAdd adds an entry; invalid input re-renders with field errors.
func (s *Server) adminCatalogAdd(c echo.Context) error {
	sess := currentSession(c)
	fields := map[string]string{"name": c.FormValue("name"), "path": strings.TrimSpace(c.FormValue("path")), "binding": c.FormValue("binding"),
		"description": c.FormValue("description"), "owner_team": c.FormValue("owner_team"), "classification": c.FormValue("classification"),
		"policy_source": c.FormValue("policy_source")}
	fromClass := fields["policy_source"] == web.PolicyClass
	policy, pf, err := parsePolicy(c)
	if fromClass { // the policy fields are not used
		err = nil
	}
	var id string
	if err == nil {
		mount, merr := s.deps.Requests.VaultMount(c.Request().Context(), sess.TenantID)
		if merr != nil {
			return merr
		}
		id, err = s.deps.Requests.AddResource(c.Request().Context(), sess.TenantID, approvals.Resource{
			Name: strings.TrimSpace(fields["name"]), Description: fields["description"], OwnerTeam: fields["owner_team"],
			Classification: approvals.Classification(fields["classification"]), Mount: mount, Path: fields["path"], Policy: policy,
			PolicyFromClass: fromClass, BindingID: fields["binding"],
		}, sess.Actor(), meta(c))
	}
	if e := apperr.As(err); e != nil && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) {
		m, merr := s.adminCatalogModel(c)
		if merr != nil {
			return merr
		}
		m.Fields, m.Policy, m.FieldErrors, m.FormError = fields, pf, e.Fields, e.Message
		return render(c, statusOf(e.Code), web.AdminCatalog(m))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/catalog/"+id)
}

// policyEditor shows one resource's admin page (retired or not): its
// details, policy, rotation and retire forms. Another tenant's resource is
// a 404, audited as a cross-tenant probe.
func (s *Server) policyEditor(c echo.Context) error {
	r, err := s.managedResource(c)
	if err != nil {
		return err
	}
	m, err := s.resourcePage(c, r)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.PolicyEditor(m))
}

// resourcePage is r's admin page with every form showing what is stored.
func (s *Server) resourcePage(c echo.Context, r approvals.Resource) (web.PolicyPage, error) {
	m, err := s.policyPage(c, r)
	if err != nil {
		return m, err
	}
	m.Policy = policyForm(r.Policy)
	if r.Cloud() {
		sched, err := s.deps.Stores.Replicas.RotationSchedule(c.Request().Context(), currentSession(c).TenantID, r.ID)
		if err != nil {
			return m, err
		}
		m.Rotation = rotationForm(sched)
		m.Rotation.Retired = r.Retired()
	}
	return m, nil
}

// policyPage is r's admin page without its policy and rotation form
// values: its details as stored, and whether it is retired or what keeps
// it in use.
func (s *Server) policyPage(c echo.Context, r approvals.Resource) (web.PolicyPage, error) {
	ctx, tenantID := c.Request().Context(), currentSession(c).TenantID
	m := web.PolicyPage{Page: s.page(c, r.Name), Resource: catalogItem(r), Roles: requestRoles(), Source: web.PolicyOwn,
		Details: detailsForm(r), Retire: web.RetireForm{Retired: r.Retired(), RetiredAt: when(r.RetiredAt), RetiredBy: r.RetiredBy,
			Reason: r.RetiredReason, RevokeURL: "/revocations/preview?scope=" + url.QueryEscape("resource:"+r.ID), Fields: map[string]string{}}}
	if r.PolicyFromClass {
		m.Source = web.PolicyClass
	}
	if !r.Retired() {
		u, err := s.deps.Requests.ResourceInUse(ctx, tenantID, r.ID)
		if err != nil {
			return m, err
		}
		m.Retire.Requests, m.Retire.Grants, m.Retire.Shares, m.Retire.Rotation, m.Retire.Replicas = u.Requests, u.Grants, u.Shares, u.Rotation, u.Replicas
	}
	classes, err := s.deps.Requests.ClassPolicies(ctx, tenantID)
	for _, cl := range classes {
		m.ClassSet = m.ClassSet || (cl.Classification == r.Classification && cl.Set)
	}
	return m, err
}

// policySave gives a resource its own policy, or makes it follow its
// classification's (policy_source); invalid input re-renders.
func (s *Server) policySave(c echo.Context) error {
	sess := currentSession(c)
	ctx := c.Request().Context()
	r, err := s.managedResource(c)
	if err != nil {
		return err
	}
	policy, pf, err := parsePolicy(c)
	switch {
	case c.FormValue("policy_source") == web.PolicyClass:
		err = s.deps.Requests.FollowClassPolicy(ctx, sess.TenantID, r.ID, sess.Actor(), meta(c))
	case err == nil:
		err = s.deps.Requests.SetPolicy(ctx, sess.TenantID, r.ID, policy, sess.Actor(), meta(c))
	}
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		m, merr := s.policyPage(c, r)
		if merr != nil {
			return merr
		}
		m.Source, m.Policy, m.FieldErrors, m.FormError = c.FormValue("policy_source"), pf, policyFields(e.Fields), e.Message
		return render(c, http.StatusBadRequest, web.PolicyEditor(m))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/catalog")
}

// policyFields names a policy's field errors as the form shows them
// ("policy.<field>").
func policyFields(errs map[string]string) map[string]string {
	fields := map[string]string{}
	for k, v := range errs {
		if !strings.HasPrefix(k, "policy.") {
			k = "policy." + k
		}
		fields[k] = v
	}
	return fields
}
