package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// onboardNew shows step 1 of the wizard.
func (s *Server) onboardNew(c echo.Context) error {
	return render(c, http.StatusOK, web.Onboarding(s.wizardModel(c, nil, 1)))
}

// onboardStart creates the organization (status onboarding) and moves to step 2.
func (s *Server) onboardStart(c echo.Context) error {
	sess := currentSession(c)
	t, err := s.deps.Onboarder.Start(c.Request().Context(), c.FormValue("slug"), c.FormValue("display_name"),
		c.FormValue("email_domains"), sess.Actor(), meta(c))
	if err != nil {
		return s.wizardError(c, nil, 1, err, "slug", "display_name", "email_domains")
	}
	return c.Redirect(http.StatusSeeOther, "/platform/onboard/"+t.Slug)
}

// onboardShow shows the organization's wizard at ?step=N or at its next step.
func (s *Server) onboardShow(c echo.Context) error {
	o, err := s.deps.Onboarder.Store.Onboarding(c.Request().Context(), c.Param("tenant"))
	if err != nil {
		return err
	}
	step := o.Next()
	if n, err := strconv.Atoi(c.QueryParam("step")); err == nil && n >= 2 && n <= 7 && o.CheckReachable(tenants.Step(n)) == nil {
		step = tenants.Step(n)
	}
	return render(c, http.StatusOK, web.Onboarding(s.wizardModel(c, &o, int(step))))
}

// onboardStep handles the form of steps 2–5 and activation: each is
// validated live against the IdP or Vault; errors re-render the step with
// field messages and change nothing.
func (s *Server) onboardStep(c echo.Context) error {
	slug, sess, ctx := c.Param("tenant"), currentSession(c), c.Request().Context()
	actor, m := sess.Actor(), meta(c)
	var step tenants.Step
	var err error
	var fields []string
	switch c.Param("step") {
	case "issuer":
		step, fields = tenants.StepIssuer, []string{"issuer_url", "scopes", "groups_claim", "step_up_acr", "require_email_verified"}
		settings := tenants.IdPSettings{
			Scopes: strings.Fields(c.FormValue("scopes")), GroupsClaim: strings.TrimSpace(c.FormValue("groups_claim")),
			RequireEmailVerified: c.FormValue("require_email_verified") == "on", StepUpACR: strings.TrimSpace(c.FormValue("step_up_acr")),
		}
		err = s.deps.Onboarder.SetIssuer(ctx, slug, c.FormValue("issuer_url"), settings, actor, m)
	case "client":
		step, fields = tenants.StepClient, []string{"client_id"}
		err = s.deps.Onboarder.SetClient(ctx, slug, c.FormValue("client_id"), c.FormValue("client_secret"), actor, m)
	case "mappings":
		step, fields = tenants.StepMappings, []string{"mappings"}
		err = s.deps.Onboarder.SetMappings(ctx, slug, c.FormValue("mappings"), actor, m)
	case "vault":
		step, fields = tenants.StepVault, []string{"vault_mount"}
		err = s.deps.Onboarder.SetVault(ctx, slug, c.FormValue("vault_mount"), actor, m)
	case "stores":
		return s.onboardBindStore(c, slug)
	case "activate":
		step = tenants.StepActivate
		err = s.deps.Onboarder.Activate(ctx, slug, actor, m)
	default:
		return apperr.New(apperr.NotFound, "There is no such step.")
	}
	if err != nil {
		o, lerr := s.deps.Onboarder.Store.Onboarding(ctx, slug)
		if lerr != nil {
			return lerr
		}
		return s.wizardError(c, &o, int(step), err, fields...)
	}
	return c.Redirect(http.StatusSeeOther, "/platform/onboard/"+slug)
}

// onboardTest starts step 6: a real sign-in at the new organization's IdP
// in test mode; the callback records the claims instead of signing in.
func (s *Server) onboardTest(c echo.Context) error {
	slug := c.Param("tenant")
	o, err := s.deps.Onboarder.Store.Onboarding(c.Request().Context(), slug)
	if err != nil {
		return err
	}
	if err := o.CheckReachable(tenants.StepTestSignIn); err != nil {
		return err
	}
	dest, token, err := s.deps.Federation.Begin(c.Request().Context(), slug, "/platform/onboard/"+slug, identity.Test)
	if err != nil {
		return err
	}
	s.setCookie(c, s.preauthCookieName(), token, "/auth/"+slug+"/", identity.AttemptTTL)
	return c.Redirect(http.StatusFound, dest)
}

// recordTestSignIn stores what a test sign-in showed, for the operator whose
// session is in the browser. Nobody is signed in to the new organization.
func (s *Server) recordTestSignIn(c echo.Context, id identity.Identity) error {
	sess, err := s.deps.Sessions.Resume(c.Request().Context(), cookieValue(c, s.sessionCookieName()), c.RealIP())
	if err != nil || !s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.ManageTenants) {
		return apperr.New(apperr.Forbidden, "A test sign-in can only be completed in the browser of the platform operator who started it.")
	}
	err = s.deps.Onboarder.RecordTest(c.Request().Context(), id.TenantSlug, tenants.TestSignIn{
		Email: id.Email, Groups: id.Groups, Roles: id.Roles, At: id.AuthTime,
	}, sess.Actor(), meta(c))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/platform/onboard/"+id.TenantSlug+"?step=6")
}

func (s *Server) wizardError(c echo.Context, o *tenants.Onboarding, step int, err error, fields ...string) error {
	e := apperr.As(err)
	if e.Code != apperr.Invalid && e.Code != apperr.Conflict && e.Code != apperr.Unavailable {
		return err
	}
	ev := audit.Event{Actor: currentSession(c).Actor(), Action: "onboarding.refused", Outcome: audit.Failure,
		Target: tenants.StepNames()[step-1], Detail: map[string]string{"reason": e.Message}}
	if o != nil {
		ev.TenantID, ev.Target = o.TenantID, o.Tenant.Slug+": "+ev.Target
	}
	if aerr := s.deps.Audit.RecordEvent(c.Request().Context(), meta(c).Stamp(ev)); aerr != nil {
		return aerr
	}
	m := s.wizardModel(c, o, step)
	m.FieldErrors, m.FormError = e.Fields, e.Message
	for _, f := range fields {
		m.Fields[f] = c.FormValue(f)
	}
	status := http.StatusBadRequest
	if e.Code == apperr.Conflict {
		status = http.StatusConflict
	}
	return render(c, status, web.Onboarding(m))
}

func (s *Server) wizardModel(c echo.Context, o *tenants.Onboarding, step int) web.OnboardingPage {
	m := web.OnboardingPage{Page: s.page(c, "Onboard an organization"), Current: step, Fields: map[string]string{}}
	for i, name := range tenants.StepNames() {
		m.Steps = append(m.Steps, web.WizardStep{Number: i + 1, Name: name})
	}
	if o == nil {
		return m
	}
	m.Slug, m.Name = o.Tenant.Slug, o.Tenant.DisplayName
	for i := range m.Steps {
		st := tenants.Step(i + 1)
		m.Steps[i].Done = o.Done(st)
		if st > tenants.StepOrganization && o.CheckReachable(st) == nil {
			m.Steps[i].Href = "/platform/onboard/" + o.Tenant.Slug + "?step=" + strconv.Itoa(i+1)
		}
	}
	m.Issuer, m.ClientID, m.VaultMount = o.IssuerURL, o.ClientID, o.VaultMount
	if o.VaultReady {
		m.Stores = s.onboardingStores(c, o.TenantID)
	}
	m.CallbackURL = s.deps.Federation.CallbackURL(o.Tenant.Slug)
	m.Activated = o.Tenant.Status == tenants.StatusActive
	for _, e := range []web.Endpoint{
		{Name: "authorization", URL: o.Endpoints.Authorization}, {Name: "token", URL: o.Endpoints.Token},
		{Name: "jwks", URL: o.Endpoints.JWKS}, {Name: "userinfo", URL: o.Endpoints.UserInfo}, {Name: "end session", URL: o.Endpoints.EndSession},
	} {
		if e.URL != "" {
			m.Endpoints = append(m.Endpoints, e)
		}
	}
	var lines []string
	for _, mp := range o.Mappings {
		lines = append(lines, mp.Group+" = "+string(mp.Role))
	}
	m.Mappings = strings.Join(lines, "\n")
	m.Fields["issuer_url"], m.Fields["client_id"], m.Fields["mappings"] = o.IssuerURL, o.ClientID, m.Mappings
	m.Fields["vault_mount"] = o.VaultMount
	settings := o.Settings
	if o.IssuerURL == "" {
		settings = tenants.DefaultIdPSettings()
	}
	m.Fields["scopes"], m.Fields["groups_claim"], m.Fields["step_up_acr"] = strings.Join(settings.Scopes, " "), settings.GroupsClaim, settings.StepUpACR
	if settings.RequireEmailVerified {
		m.Fields["require_email_verified"] = "on"
	}
	if m.Fields["vault_mount"] == "" {
		m.Fields["vault_mount"] = tenants.VaultMountFor(o.Tenant.Slug)
	}
	if o.Test != nil {
		roles := make([]string, len(o.Test.Roles))
		for i, r := range o.Test.Roles {
			roles[i] = string(r)
		}
		m.TestEmail, m.TestGroups, m.TestRoles = o.Test.Email, strings.Join(o.Test.Groups, ", "), strings.Join(roles, ", ")
		if m.TestRoles == "" {
			m.TestRoles = "none: no group maps to a role"
		}
	}
	return m
}

// onboardingStores is the wizard's optional cloud-store section.
func (s *Server) onboardingStores(c echo.Context, tenantID string) *web.StoresPage {
	m := &web.StoresPage{Page: s.page(c, ""), Fields: map[string]string{"kind": string(tenants.StoreAWS)}}
	for _, k := range tenants.CloudKinds() {
		m.Kinds = append(m.Kinds, web.Option{Value: string(k), Label: secretstores.Kind(k).Label()})
	}
	if bs, err := s.deps.Stores.Bindings.List(c.Request().Context(), tenantID); err == nil {
		for _, b := range bs {
			m.Bindings = append(m.Bindings, bindingRow(b))
		}
	}
	return m
}

// onboardBindStore binds a cloud store for the organization being
// onboarded (once its Vault mount is ready); invalid input re-renders the
// wizard with the form's errors and saves nothing.
func (s *Server) onboardBindStore(c echo.Context, slug string) error {
	ctx := c.Request().Context()
	o, err := s.deps.Onboarder.Store.Onboarding(ctx, slug)
	if err != nil {
		return err
	}
	if !o.VaultReady {
		return apperr.New(apperr.Conflict, "Bind cloud stores once the organization's Vault mount is ready.")
	}
	b, creds, fields := bindingForm(c, o.TenantID)
	_, _, err = s.deps.Stores.Bind(ctx, b, creds, currentSession(c).Actor(), meta(c))
	if e := apperr.As(err); e != nil && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) {
		m := s.wizardModel(c, &o, int(o.Next()))
		m.Stores.Fields, m.Stores.FieldErrors, m.Stores.FormError = fields, e.Fields, e.Message
		return render(c, statusOf(e.Code), web.Onboarding(m))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/platform/onboard/"+slug)
}
