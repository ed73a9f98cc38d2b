package handlers

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// storeFields are the binding form's non-secret fields, echoed back on
// errors; credentials are never echoed.
var storeFields = []string{"kind", "name", "account", "region", "role_arn", "external_id", "prefix", "vault_url", "directory_id", "client_id", "project"}

// bindingForm reads the bind form: the binding for tenantID, its
// credentials, and the non-secret fields to echo back on errors.
func bindingForm(c echo.Context, tenantID string) (tenants.CloudBinding, tenants.StoreCredentials, map[string]string) {
	fields := map[string]string{}
	for _, f := range storeFields {
		fields[f] = strings.TrimSpace(c.FormValue(f))
	}
	b := tenants.CloudBinding{TenantID: tenantID, Name: fields["name"], Kind: tenants.StoreKind(fields["kind"]), Settings: tenants.StoreSettings{
		Account: fields["account"], Region: fields["region"], RoleARN: fields["role_arn"], ExternalID: fields["external_id"], Prefix: fields["prefix"],
		VaultURL: fields["vault_url"], DirectoryID: fields["directory_id"], ClientID: fields["client_id"], Project: fields["project"],
	}}
	creds := tenants.StoreCredentials{AccessKeyID: strings.TrimSpace(c.FormValue("access_key_id")), SecretAccessKey: c.FormValue("secret_access_key"),
		ClientSecret: c.FormValue("client_secret"), ServiceAccountJSON: c.FormValue("service_account_json")}
	return b, creds, fields
}

// stores lists the tenant's cloud store bindings with the bind form.
func (s *Server) stores(c echo.Context) error {
	m, err := s.storesModel(c)
	if err != nil {
		return err
	}
	m.Fields["kind"] = string(tenants.StoreAWS)
	return render(c, http.StatusOK, web.Stores(m))
}

func (s *Server) storesModel(c echo.Context) (web.StoresPage, error) {
	sess := currentSession(c)
	bs, err := s.deps.Stores.Bindings.List(c.Request().Context(), sess.TenantID)
	if err != nil {
		return web.StoresPage{}, err
	}
	m := web.StoresPage{Page: s.page(c, "Secret stores"), Fields: map[string]string{}}
	for _, b := range bs {
		m.Bindings = append(m.Bindings, bindingRow(b))
	}
	for _, k := range tenants.CloudKinds() {
		m.Kinds = append(m.Kinds, web.Option{Value: string(k), Label: secretstores.Kind(k).Label()})
	}
	return m, nil
}

func bindingRow(b tenants.CloudBinding) web.BindingRow {
	r := web.BindingRow{ID: b.ID, Name: b.Name, Kind: secretstores.Kind(b.Kind).Label(), Location: b.Location(), Status: "untested", Error: b.CheckError}
	if !b.CheckedAt.IsZero() {
		r.Status, r.Checked = "ok", "(tested "+b.CheckedAt.UTC().Format(time.DateTime)+" UTC)"
		if b.CheckError != "" {
			r.Status = "failing"
		}
	}
	return r
}

// storeBind binds a cloud store and tests it; invalid input re-renders
// with field errors and saves nothing.
func (s *Server) storeBind(c echo.Context) error {
	sess := currentSession(c)
	b, creds, fields := bindingForm(c, sess.TenantID)
	id, checkErr, err := s.deps.Stores.Bind(c.Request().Context(), b, creds, sess.Actor(), meta(c))
	if e := apperr.As(err); e != nil && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) {
		m, merr := s.storesModel(c)
		if merr != nil {
			return merr
		}
		m.Fields, m.FieldErrors, m.FormError = fields, e.Fields, e.Message
		return render(c, statusOf(e.Code), web.Stores(m))
	}
	if err != nil {
		return err
	}
	flash := "Bound, and the connection test passed."
	if checkErr != "" {
		flash = "Bound, but the connection test failed: see below."
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+id+"?flash="+url.QueryEscape(flash))
}

// store shows one binding and the secrets under ?prefix= (names only).
func (s *Server) store(c echo.Context) error {
	var flash string
	switch f := c.QueryParam("flash"); f {
	case "Bound, and the connection test passed.", "Bound, but the connection test failed: see below.", "The connection test passed.", "The connection test failed: see below.":
		flash = f // only Gatehouse's own messages are shown
	}
	return s.storePage(c, flash)
}

func (s *Server) storePage(c echo.Context, flash string) error {
	sess := currentSession(c)
	ctx := c.Request().Context()
	b, err := s.deps.Stores.Bindings.Get(ctx, sess.TenantID, c.Param("id"))
	if err != nil {
		return err
	}
	m := web.StorePage{Page: s.page(c, b.Name), Binding: bindingRow(b), Prefix: c.QueryParam("prefix"), Flash: flash}
	secrets, err := s.deps.Stores.Browse(ctx, sess.TenantID, b.ID, m.Prefix)
	if err != nil {
		m.Error = "The store could not be listed: " + err.Error()
	}
	for _, x := range secrets {
		q := url.Values{"binding": {b.ID}, "path": {x.Name}}
		row := web.SecretRow{Name: x.Name, Version: x.CurrentVersion, AddURL: "/admin/catalog?" + q.Encode()}
		if !x.UpdatedAt.IsZero() {
			row.Updated = x.UpdatedAt.UTC().Format(time.DateTime)
		}
		m.Secrets = append(m.Secrets, row)
	}
	return render(c, http.StatusOK, web.Store(m))
}

// storeRotate rotates one secret of the binding with a generated value,
// verified by the optional webhook (rolled back when it refuses).
func (s *Server) storeRotate(c echo.Context) error {
	sess := currentSession(c)
	if _, err := s.deps.Stores.Bindings.Get(c.Request().Context(), sess.TenantID, c.Param("id")); err != nil {
		return err // not this tenant's binding: nothing is rotated
	}
	n, _ := strconv.Atoi(c.FormValue("length"))
	r := stores.Rotation{Secret: c.FormValue("secret"), VerifyURL: strings.TrimSpace(c.FormValue("verify_url")), Value: c.FormValue("value"),
		Generator: secretstores.Generator{Length: n, Alphabet: secretstores.AlphabetNamed(c.FormValue("alphabet"))}}
	done, err := s.deps.Stores.Rotate(c.Request().Context(), sess.TenantID, c.Param("id"), r, sess.Actor(), meta(c))
	flash := "Rotated " + r.Secret + ": version " + done.Current + " is current; " + done.Previous + " is kept as the previous one."
	if err != nil {
		flash = "The rotation of " + r.Secret + " did not complete: " + apperr.As(err).Message
		if e := apperr.As(err); e != nil && len(e.Fields) > 0 {
			flash = "The rotation needs correcting: " + strings.Join(slices.Sorted(maps.Values(e.Fields)), " ")
		}
	}
	return s.storePage(c, flash)
}

// storeTest tests a binding's connection again.
func (s *Server) storeTest(c echo.Context) error {
	sess := currentSession(c)
	checkErr, err := s.deps.Stores.Test(c.Request().Context(), sess.TenantID, c.Param("id"), sess.Actor(), meta(c))
	if err != nil {
		return err
	}
	flash := "The connection test passed."
	if checkErr != "" {
		flash = "The connection test failed: see below."
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+c.Param("id")+"?flash="+url.QueryEscape(flash))
}
