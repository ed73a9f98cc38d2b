package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// person is the signed-in person as the approvals rules see them.
func person(sess *identity.Session) approvals.Person {
	return approvals.Person{Tenant: sess.TenantID, Subject: sess.Subject, Email: sess.Email, Name: sess.Name, Roles: sess.Roles, Groups: sess.Groups}
}

func holder(sess *identity.Session) access.Holder {
	return access.Holder{TenantID: sess.TenantID, TenantSlug: sess.TenantSlug, Person: person(sess)}
}

func catalogItem(r approvals.Resource) web.CatalogItem {
	return web.CatalogItem{ID: r.ID, Name: r.Name, Description: r.Description, Classification: string(r.Classification),
		Secret: r.Mount + "/" + r.Path, MaxDuration: r.Policy.MaxDuration.String()}
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

func names(ps []approvals.Person) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		n := p.Name
		if n == "" {
			n = p.Email
		}
		out = append(out, n)
	}
	return out
}

// scoped returns err, auditing it first when it is a NotFound for an
// object that exists in another tenant (a cross-tenant probe: the answer
// stays 404, exactly as for a missing object).
func (s *Server) scoped(c echo.Context, kind, id string, err error) error {
	if apperr.CodeOf(err) != apperr.NotFound {
		return err
	}
	sess := currentSession(c)
	if elsewhere, lerr := s.deps.Requests.OwnedElsewhere(c.Request().Context(), kind, sess.TenantID, id); lerr == nil && elsewhere {
		if aerr := s.crossTenant(c, kind+" "+id); aerr != nil {
			return aerr
		}
	}
	return err
}

// catalog lists the resources the person may request.
func (s *Server) catalog(c echo.Context) error {
	sess := currentSession(c)
	all, err := s.deps.Requests.Catalog(c.Request().Context(), sess.TenantID)
	if err != nil {
		return err
	}
	m := web.CatalogPage{Page: s.page(c, "Catalog")}
	for _, r := range all {
		if r.Policy.Requesters.Includes(person(sess)) {
			m.Items = append(m.Items, catalogItem(r))
		}
	}
	if s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.CreateRequests) {
		shared, err := s.deps.Shares.SharedCatalog(c.Request().Context(), sess.TenantID)
		if err != nil {
			return err
		}
		for _, it := range shared {
			if it.Recipients.Includes(person(sess)) {
				m.Shared = append(m.Shared, sharedRow(it))
			}
		}
	}
	return render(c, http.StatusOK, web.Catalog(m))
}

// requestForm shows the request form of one resource.
func (s *Server) requestForm(c echo.Context) error {
	m, err := s.requestFormModel(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.RequestForm(m))
}

func (s *Server) requestFormModel(c echo.Context) (web.RequestFormPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	r, err := s.deps.Requests.Requestable(ctx, sess.TenantID, c.Param("id"))
	if err != nil {
		return web.RequestFormPage{}, s.scoped(c, "resource", c.Param("id"), err)
	}
	if !r.Policy.Requesters.Includes(person(sess)) {
		return web.RequestFormPage{}, apperr.New(apperr.Forbidden, "You are not among the people who may request this resource.")
	}
	m := web.RequestFormPage{Page: s.page(c, "Request "+r.Name), Resource: catalogItem(r), DefaultDuration: r.Policy.DefaultDuration.String(),
		JustificationMin: r.Policy.JustificationMin, TicketRequired: r.Policy.TicketPattern != "", Fields: map[string]string{}}
	for _, l := range r.Policy.Levels {
		m.Levels = append(m.Levels, string(l))
	}
	people, err := s.deps.Requests.People(ctx, sess.TenantID)
	if err != nil {
		return m, err
	}
	draft := approvals.Request{Requester: person(sess), Policy: r.Policy, State: approvals.Pending}
	m.Approvers, m.Steps = names(draft.EligibleApprovers(people)), steps(r.Policy)
	return m, nil
}

// checkRequest validates the request form as it is filled in (htmx, on
// change) against the resource's policy, saving nothing, and answers the
// field messages to swap into place.
func (s *Server) checkRequest(c echo.Context) error {
	sess := currentSession(c)
	r, err := s.deps.Requests.Requestable(c.Request().Context(), sess.TenantID, c.Param("id"))
	if err != nil {
		return s.scoped(c, "resource", c.Param("id"), err)
	}
	sub, errs := parseSubmission(c)
	if len(errs) == 0 {
		if _, err := r.Policy.CheckSubmission(person(sess), sub); err != nil {
			errs = apperr.As(err).Fields
		}
	}
	if c.FormValue("justification") == "" { // not typed yet: no message before the person gets there
		delete(errs, "justification")
	}
	return render(c, http.StatusOK, web.FieldMessages(errs, []string{"level", "duration", "justification", "ticket"}))
}

// parseSubmission reads the request form; a duration that does not parse is
// a field error.
func parseSubmission(c echo.Context) (approvals.Submission, map[string]string) {
	sub := approvals.Submission{Level: approvals.Level(c.FormValue("level")), Justification: c.FormValue("justification"), Ticket: c.FormValue("ticket")}
	errs := map[string]string{}
	if d := strings.TrimSpace(c.FormValue("duration")); d != "" {
		var err error
		if sub.Duration, err = time.ParseDuration(d); err != nil {
			errs["duration"] = "Write a duration like 30m or 2h."
		}
	}
	return sub, errs
}

// submitRequest records a request; invalid input re-renders the form with
// field errors and creates nothing.
func (s *Server) submitRequest(c echo.Context) error {
	sess := currentSession(c)
	fields := map[string]string{"level": c.FormValue("level"), "duration": strings.TrimSpace(c.FormValue("duration")),
		"justification": c.FormValue("justification"), "ticket": c.FormValue("ticket")}
	sub, errs := parseSubmission(c)
	var err error
	if len(errs) > 0 {
		err = apperr.InvalidFields("The request needs correcting.", errs)
	}
	var id string
	if err == nil {
		id, err = s.deps.Requests.Submit(c.Request().Context(), sess.TenantID, c.Param("id"), person(sess), sub, meta(c))
	}
	if e := apperr.As(err); e != nil && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) {
		m, merr := s.requestFormModel(c)
		if merr != nil {
			return merr
		}
		m.Fields, m.FieldErrors, m.FormError = fields, e.Fields, e.Message
		return render(c, statusOf(e.Code), web.RequestForm(m))
	}
	if err != nil {
		return s.scoped(c, "resource", c.Param("id"), err)
	}
	return c.Redirect(http.StatusSeeOther, "/requests/"+id)
}

func summaryRow(r approvals.Summary) web.RequestRow {
	return web.RequestRow{ID: r.ID, Resource: r.Resource, Requester: r.Requester.Email, State: string(r.State), Level: string(r.Level),
		Duration: r.Duration.String(), Submitted: when(r.SubmittedAt), Expires: when(r.ExpiresAt), Failure: r.FailureReason}
}

// requestPageSize is how many requests a page of "My requests" lists.
const requestPageSize = 200

// myRequests lists one page of the person's requests, newest first: the
// first, or the one after the cursor in ?before. A bad cursor is
// apperr.Invalid (400), and nothing is read.
func (s *Server) myRequests(c echo.Context) error {
	sess := currentSession(c)
	q, err := pageQuery(c, requestPageSize, "your requests")
	if err != nil {
		return err
	}
	rs, err := s.deps.Requests.RequestsOf(c.Request().Context(), sess.TenantID, sess.Subject, q)
	if err != nil {
		return err
	}
	m := web.RequestsPage{Page: s.page(c, "My requests"), Pager: pager("/requests", nil, q, rs.Older, "")}
	for _, r := range rs.Rows {
		m.Rows = append(m.Rows, summaryRow(r))
	}
	return render(c, http.StatusOK, web.Requests(m))
}

// requestDetail shows a request to its requester and to the tenant's
// approvers, admins and auditors; to anyone else it does not exist.
func (s *Server) requestDetail(c echo.Context) error {
	m, err := s.requestDetailModel(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.RequestDetail(m))
}

func (s *Server) requestDetailModel(c echo.Context) (web.RequestDetailPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	d, err := s.deps.Requests.Detail(ctx, sess.TenantID, c.Param("id"))
	if err != nil {
		return web.RequestDetailPage{}, s.scoped(c, "request", c.Param("id"), err)
	}
	me := person(sess)
	overseer := slices.ContainsFunc(sess.Roles, func(r tenants.Role) bool {
		return r == tenants.RoleApprover || r == tenants.RoleTenantAdmin || r == tenants.RoleAuditor
	})
	mine := d.Requester.Subject == me.Subject && d.RequesterTenant == sess.TenantID
	if !mine && !overseer {
		return web.RequestDetailPage{}, apperr.New(apperr.NotFound, "There is no such request in your organization.")
	}
	m := web.RequestDetailPage{Page: s.page(c, d.Resource), Row: summaryRow(d.Summary), Justification: d.Justification, Ticket: d.Ticket,
		CanDecide:     d.State == approvals.Pending && d.Request.Eligible(me),
		CanCancel:     d.State == approvals.Pending && mine,
		CanRetry:      d.State == approvals.Failed && (mine || (d.TenantID == sess.TenantID && sess.HasRole(tenants.RoleTenantAdmin))),
		IsActiveGrant: d.State == approvals.Active && mine}
	m.Timeline, m.Steps = timeline(d, sess.TenantID), steps(d.Request.Policy)
	if d.State == approvals.Pending {
		people, err := s.deps.Requests.People(ctx, sess.TenantID)
		if err != nil {
			return m, err
		}
		m.Approvers = names(d.Request.EligibleApprovers(people))
	}
	m.Deliveries, err = s.objectNotices(c, d.ID)
	return m, err
}

func steps(p approvals.Policy) []string {
	out := make([]string, 0, len(p.Steps))
	for _, s := range p.Steps {
		out = append(out, s.Describe())
	}
	return out
}

// timeline lists a request's events in time order.
//
// Approvers of another organization (a share's) are shown by display name only.
func timeline(d approvals.Detail, viewerTenant string) []web.TimelineEntry {
	type ev struct {
		at   time.Time
		text string
	}
	evs := []ev{{d.SubmittedAt, "Submitted by " + d.Requester.Email}}
	for _, v := range d.Request.Votes {
		verb := "Approved"
		if !v.Approve {
			verb = "Denied"
		}
		who := v.Approver.Email
		if v.Approver.Tenant != "" && v.Approver.Tenant != viewerTenant {
			who = shown(v.Approver, false)
		}
		text := fmt.Sprintf("%s by %s (step %d)", verb, who, v.Step+1)
		if v.Comment != "" {
			text += ": " + v.Comment
		}
		evs = append(evs, ev{v.At, text})
	}
	if !d.IssuedAt.IsZero() {
		evs = append(evs, ev{d.IssuedAt, "Access granted until " + when(d.ExpiresAt)})
	}
	if !d.EndedAt.IsZero() {
		evs = append(evs, ev{d.EndedAt, "Access ended (" + string(d.State) + ")"})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	out := make([]web.TimelineEntry, 0, len(evs))
	for _, e := range evs {
		out = append(out, web.TimelineEntry{At: when(e.at), Text: e.text})
	}
	switch d.State {
	case approvals.Approved, approvals.Issuing:
		out = append(out, web.TimelineEntry{Text: "Approved: the credential is being prepared. If Vault is unreachable this is retried until it works."})
	case approvals.Failed:
		out = append(out, web.TimelineEntry{Text: "Issuing failed: " + d.FailureReason})
	}
	return out
}

// decide records an approval or denial; refusals re-render the request
// with the reason and change nothing.
func (s *Server) decide(c echo.Context) error {
	sess := currentSession(c)
	approve := c.FormValue("decision") == "approve"
	var shorten time.Duration
	var err error
	if d := strings.TrimSpace(c.FormValue("duration")); d != "" && approve {
		if shorten, err = time.ParseDuration(d); err != nil {
			err = apperr.InvalidFields("Check the duration.", map[string]string{"duration": "Write a duration like 30m."})
		}
	}
	var state approvals.State
	if err == nil {
		state, err = s.deps.Requests.Decide(c.Request().Context(), sess.TenantID, c.Param("id"), person(sess), approve, c.FormValue("comment"), shorten, meta(c))
	}
	if err == nil && state == approvals.Approved && s.deps.Access.IssueApproved(c.Request().Context(), c.Param("id")) {
		state = approvals.Active // the last approval issues at once; its job is the durable path
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return s.decidedInPlace(c, state, err)
	}
	if e := apperr.As(err); e != nil && e.Code != apperr.Internal && e.Code != apperr.Unavailable && e.Code != apperr.NotFound {
		m, merr := s.requestDetailModel(c)
		if merr != nil {
			return merr
		}
		m.FieldErrors, m.FormError = e.Fields, e.Message
		return render(c, statusOf(e.Code), web.RequestDetail(m))
	}
	if err != nil {
		return s.scoped(c, "request", c.Param("id"), err)
	}
	return c.Redirect(http.StatusSeeOther, "/requests/"+c.Param("id"))
}

// decidedInPlace answers a decision made from the inbox (htmx): the row,
// showing the outcome, or the refusal's reason with the form still there.
func (s *Server) decidedInPlace(c echo.Context, state approvals.State, err error) error {
	sess := currentSession(c)
	d, derr := s.deps.Requests.Detail(c.Request().Context(), sess.TenantID, c.Param("id"))
	if derr != nil {
		return s.scoped(c, "request", c.Param("id"), derr)
	}
	row := summaryRow(d.Summary)
	row.Note = d.Justification
	outcome := "Your vote is recorded; the request is " + string(state) + "."
	if state == approvals.Active {
		outcome = "Your vote is recorded; the request is approved and its access issued."
	}
	if e := apperr.As(err); e != nil {
		if e.Code == apperr.Internal || e.Code == apperr.Unavailable {
			return err
		}
		outcome = e.Message
		for _, v := range e.Fields {
			outcome += " " + v
		}
		if e.Code == apperr.Invalid { // keep the form: the approver can correct and retry
			row.Note = outcome
			outcome = ""
		}
	}
	return render(c, http.StatusOK, web.InboxRow(s.page(c, ""), row, outcome))
}

// retryRequest retries issuing a request whose issuing failed (its
// requester or a tenant admin), at once as after a final approval; its job
// stays the durable path.
func (s *Server) retryRequest(c echo.Context) error {
	sess := currentSession(c)
	ctx := c.Request().Context()
	if err := s.deps.Requests.RetryIssuing(ctx, sess.TenantID, c.Param("id"), person(sess), meta(c)); err != nil {
		return s.scoped(c, "request", c.Param("id"), err)
	}
	s.deps.Access.IssueApproved(ctx, c.Param("id"))
	return c.Redirect(http.StatusSeeOther, "/requests/"+c.Param("id"))
}

// cancelRequest ends the requester's own pending request.
func (s *Server) cancelRequest(c echo.Context) error {
	sess := currentSession(c)
	if err := s.deps.Requests.Cancel(c.Request().Context(), sess.TenantID, c.Param("id"), person(sess), meta(c)); err != nil {
		return s.scoped(c, "request", c.Param("id"), err)
	}
	return c.Redirect(http.StatusSeeOther, "/requests/"+c.Param("id"))
}

// inboxPageSize is how many requests the inbox shows at once, oldest first.
const inboxPageSize = 50

// inbox lists what the approver can decide now, oldest first: decide those
// before the rest.
func (s *Server) inbox(c echo.Context) error {
	sess := currentSession(c)
	ds, total, err := s.deps.Requests.Inbox(c.Request().Context(), sess.TenantID, person(sess), inboxPageSize)
	if err != nil {
		return err
	}
	m := web.InboxPage{Page: s.page(c, "Approvals"), Total: total}
	for _, d := range ds {
		row := summaryRow(d.Summary)
		row.Note = d.Justification
		m.Rows = append(m.Rows, row)
	}
	return render(c, http.StatusOK, web.Inbox(m))
}

// inboxCount is the live count of the approvals inbox, polled by htmx.
func (s *Server) inboxCount(c echo.Context) error {
	sess := currentSession(c)
	_, total, err := s.deps.Requests.Inbox(c.Request().Context(), sess.TenantID, person(sess), 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.InboxCount(total))
}

// grants lists the person's active grants (among their newest requests:
// the first page of "My requests").
func (s *Server) grants(c echo.Context) error {
	sess := currentSession(c)
	active, err := s.deps.Requests.ActiveGrantsOf(c.Request().Context(), sess.TenantID, sess.Subject)
	if err != nil {
		return err
	}
	m := web.GrantsPage{Page: s.page(c, "My grants")}
	for _, r := range active {
		row := summaryRow(r)
		row.Store = r.StoreKind
		row.Remaining = time.Until(r.ExpiresAt).Truncate(time.Minute).String()
		if left := time.Until(r.ExpiresAt); left < time.Minute {
			row.Remaining = "under a minute"
		}
		m.Rows = append(m.Rows, row)
	}
	return render(c, http.StatusOK, web.Grants(m))
}

// grantAction hands out the grant's wrapped token, reveals its secret once,
// or relinquishes it.
func (s *Server) grantAction(c echo.Context) error {
	sess := currentSession(c)
	ctx, id := c.Request().Context(), c.Param("id")
	m := web.OncePage{Page: s.page(c, "Your access")}
	switch c.Param("action") {
	case "token":
		issued, err := s.deps.Access.TakeToken(ctx, holder(sess), id, meta(c))
		if err != nil {
			return s.scoped(c, "request", id, err)
		}
		m.Resource, m.WrappingToken, m.WrapTTL = "Vault token", issued.WrappingToken, issued.WrapTTL.String()
		if issued.PreviousAlive > 0 {
			m.Note = "Your previous token could not be revoked just now. Gatehouse keeps track of it: it is revoked when you take a token again, and when the grant ends."
		}
	case "credentials":
		cred, err := s.deps.Access.TakeCredential(ctx, holder(sess), id, meta(c))
		if err != nil {
			return s.scoped(c, "request", id, err)
		}
		m.Resource, m.Note = "Cloud credentials until "+cred.ExpiresAt.UTC().Format("15:04 MST"), cred.Note
		for _, f := range cred.Fields {
			m.Values = append(m.Values, web.KeyValue{Key: f.Name, Value: f.Value})
		}
	case "reveal":
		data, err := s.deps.Access.Reveal(ctx, holder(sess), id, meta(c))
		if err != nil {
			return s.scoped(c, "request", id, err)
		}
		m.Resource = "Secret"
		for k, v := range data {
			m.Values = append(m.Values, web.KeyValue{Key: k, Value: fmt.Sprint(v)})
		}
		sort.Slice(m.Values, func(i, j int) bool { return m.Values[i].Key < m.Values[j].Key })
	case "relinquish":
		if err := s.deps.Access.Relinquish(ctx, holder(sess), id); err != nil {
			return s.scoped(c, "request", id, err)
		}
		s.banners.forget(sess.TenantID)
		return c.Redirect(http.StatusSeeOther, "/requests/"+id)
	default:
		return apperr.New(apperr.NotFound, "There is no page at this address.")
	}
	return render(c, http.StatusOK, web.Once(m))
}
