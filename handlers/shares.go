package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// sharePageSize is how many shares a page of the list shows (outgoing
// and incoming together), and how many requests a page of a share's.
const sharePageSize = 200

// shares lists one page of the organization's outgoing and incoming
// shares, newest first: the first, or the one after the cursor in
// ?before. A bad cursor is apperr.Invalid (400), and nothing is read.
func (s *Server) shares(c echo.Context) error {
	q, err := pageQuery(c, sharePageSize, "shares")
	if err != nil {
		return err
	}
	m, err := s.sharesModel(c, q)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Shares(m))
}

// sharesModel is the shares page with the page of shares q asks for; it
// returns the stores' errors.
func (s *Server) sharesModel(c echo.Context, q paging.Query) (web.SharesPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	all, err := s.deps.Shares.Shares(ctx, sess.TenantID, q)
	if err != nil {
		return web.SharesPage{}, err
	}
	pol, err := s.deps.Shares.SharePolicy(ctx, sess.TenantID)
	if err != nil {
		return web.SharesPage{}, err
	}
	m := web.SharesPage{Page: s.page(c, "Shares"), CanPropose: s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, authz.ManageShares),
		Required: strconv.Itoa(pol.Required), MaxTermDays: strconv.Itoa(int(pol.MaxTerm / (24 * time.Hour))), FieldErrors: map[string]string{},
		Pager: pager("/shares", nil, q, all.Older, "")}
	for _, sh := range all.Rows {
		row := web.ShareRow{ID: sh.ID, State: string(sh.State), Mode: string(sh.Mode), Level: string(sh.Level), TermEnd: when(sh.TermEnd),
			Purpose: sh.Purpose, Resources: sh.Resources}
		if sh.Outgoing {
			row.Other = sh.Recipient
			m.Outgoing = append(m.Outgoing, row)
		} else {
			row.Other = sh.Owner
			m.Incoming = append(m.Incoming, row)
		}
	}
	return m, nil
}

// sharePolicySave sets the organization's share policy (its approvers stay
// the approver role).
func (s *Server) sharePolicySave(c echo.Context) error {
	sess := currentSession(c)
	p := approvals.DefaultSharePolicy()
	p.Required, p.MaxTerm = atoi(c.FormValue("required")), time.Duration(atoi(c.FormValue("max_term_days")))*24*time.Hour
	err := s.deps.Shares.SetSharePolicy(c.Request().Context(), sess.TenantID, p, sess.Actor(), meta(c))
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/shares")
	}
	ae := apperr.As(err)
	if ae.Code != apperr.Invalid {
		return err
	}
	m, merr := s.sharesModel(c, paging.First(sharePageSize))
	if merr != nil {
		return merr
	}
	m.FormError, m.FieldErrors = ae.Message, ae.Fields
	return render(c, statusOf(ae.Code), web.Shares(m))
}

// shareForm shows the proposal form.
func (s *Server) shareForm(c echo.Context) error {
	m, err := s.shareFormModel(c, map[string]string{"level": "read", "mode": "pre-approved", "max_grant": "1h",
		"recipient_approvals": "0", "owner_approvals": "0"}, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.ShareForm(m))
}

func (s *Server) shareFormModel(c echo.Context, fields map[string]string, picked []string) (web.ShareFormPage, error) {
	sess := currentSession(c)
	ctx := c.Request().Context()
	orgs, err := s.deps.Shares.ShareTargets(ctx, sess.TenantID)
	if err != nil {
		return web.ShareFormPage{}, err
	}
	catalog, err := s.deps.Requests.Catalog(ctx, sess.TenantID)
	if err != nil {
		return web.ShareFormPage{}, err
	}
	m := web.ShareFormPage{Page: s.page(c, "Propose a share"), Fields: fields, Picked: map[string]bool{}, FieldErrors: map[string]string{},
		MaxTermDays: int(approvals.DefaultSharePolicy().MaxTerm / (24 * time.Hour))}
	if pol, err := s.deps.Shares.SharePolicy(ctx, sess.TenantID); err == nil {
		m.MaxTermDays = int(pol.MaxTerm / (24 * time.Hour))
	}
	for _, o := range orgs {
		m.Orgs = append(m.Orgs, web.Option{Value: o.Slug, Label: o.Name})
	}
	for _, r := range catalog {
		m.Resources = append(m.Resources, web.Option{Value: r.ID, Label: r.Name + " (" + r.Mount + "/" + r.Path + ")"})
	}
	for _, p := range picked {
		m.Picked[p] = true
	}
	return m, nil
}

// audience parses "requester, sre-team": known role names are roles, the
// rest IdP groups.
func audience(raw string) approvals.Audience {
	var a approvals.Audience
	for _, part := range strings.Split(raw, ",") {
		p := strings.TrimSpace(part)
		switch {
		case p == "":
		case tenants.Role(p).Valid():
			a.Roles = append(a.Roles, tenants.Role(p))
		default:
			a.Groups = append(a.Groups, p)
		}
	}
	return a
}

// shareSubmit records a proposal; refusals re-render the form.
func (s *Server) shareSubmit(c echo.Context) error {
	sess := currentSession(c)
	fields := map[string]string{}
	for _, k := range []string{"recipient", "recipients", "level", "term_end", "purpose", "max_grant", "mode", "recipient_approvals", "owner_approvals"} {
		fields[k] = strings.TrimSpace(c.FormValue(k))
	}
	form, _ := c.FormParams()
	picked := form["resource"]
	bad := map[string]string{}
	t := approvals.ShareTerms{Recipients: audience(fields["recipients"]), Level: approvals.Level(fields["level"]),
		Purpose: fields["purpose"], Mode: approvals.ShareMode(fields["mode"]),
		RecipientApprovals: atoi(fields["recipient_approvals"]), OwnerApprovals: atoi(fields["owner_approvals"])}
	if t.Mode == approvals.PreApproved {
		t.RecipientApprovals, t.OwnerApprovals = 0, 0
	}
	if d, err := time.Parse("2006-01-02", fields["term_end"]); err != nil {
		bad["term_end"] = "Pick the date the share ends."
	} else {
		t.TermEnd = d.Add(24*time.Hour - time.Second) // the end of that day, UTC
	}
	if d, err := time.ParseDuration(fields["max_grant"]); err != nil {
		bad["max_grant"] = "Write a duration like 1h."
	} else {
		t.MaxGrant = d
	}
	var err error
	var id string
	if len(bad) > 0 {
		err = apperr.InvalidFields("The share needs correcting.", bad)
	} else {
		id, err = s.deps.Shares.ProposeShare(c.Request().Context(), sess.TenantID, person(sess), fields["recipient"], picked, t, meta(c))
	}
	if err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.Invalid && ae.Code != apperr.Forbidden {
			return err
		}
		m, merr := s.shareFormModel(c, fields, picked)
		if merr != nil {
			return merr
		}
		m.FormError, m.FieldErrors = ae.Message, ae.Fields
		return render(c, statusOf(ae.Code), web.ShareForm(m))
	}
	return c.Redirect(http.StatusSeeOther, "/shares/"+id)
}

// shareDetail shows one share from the viewer's side; a third
// organization gets 404 (and the probe is audited).
func (s *Server) shareDetail(c echo.Context) error {
	q, err := pageQuery(c, sharePageSize, "access under this share")
	if err != nil {
		return err
	}
	m, err := s.shareDetailModel(c, q)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.ShareDetail(m))
}

// shareDetailModel is a share's page with the page of requests under it q
// asks for; a share the viewer may not see is a 404 (audited as a probe).
func (s *Server) shareDetailModel(c echo.Context, q paging.Query) (web.ShareDetailPage, error) {
	sess := currentSession(c)
	id := c.Param("id")
	d, err := s.deps.Shares.ShareDetail(c.Request().Context(), sess.TenantID, id)
	if err != nil {
		return web.ShareDetailPage{}, s.scoped(c, "share", id, err)
	}
	me := person(sess)
	outgoing := d.Owner == sess.TenantID
	m := web.ShareDetailPage{Page: s.page(c, "Share"), ID: d.ID, Outgoing: outgoing, Owner: d.OwnerName, Recipient: d.RecipientName,
		State: string(d.State), Mode: string(d.Terms.Mode), Level: string(d.Terms.Level), TermEnd: when(d.Terms.TermEnd),
		Purpose: d.Terms.Purpose, Recipients: describeAudience(d.Terms.Recipients), MaxGrant: d.Terms.MaxGrant.String(),
		FieldErrors: map[string]string{}}
	if d.Terms.Mode == approvals.PerAccess {
		m.Approvals = "each access needs " + strconv.Itoa(d.Terms.RecipientApprovals) + " recipient and " +
			strconv.Itoa(d.Terms.OwnerApprovals) + " owner approval(s)"
	}
	for _, r := range d.Terms.Resources {
		label := r.Name
		if outgoing {
			label += " (" + r.Mount + "/" + r.Path + ")"
		}
		m.Resources = append(m.Resources, label)
	}
	m.Timeline = shareTimeline(d, outgoing)
	// Each side sees its own members' access; the owner sees every access to its secrets.
	reqs, err := s.deps.Shares.ShareRequests(c.Request().Context(), sess.TenantID, d.ID, q)
	if err != nil {
		return m, err
	}
	for _, r := range reqs.Rows {
		m.Requests = append(m.Requests, summaryRow(r))
	}
	m.RequestsPager = pager("/shares/"+d.ID, nil, q, reqs.Older, "share-requests")
	if m.Deliveries, err = s.objectNotices(c, d.ID); err != nil {
		return m, err
	}
	allowed := func(p authz.Permission) bool { return s.deps.Authz.Allowed(sess.Roles, sess.TenantSlug, p) }
	m.CanDecide = outgoing && allowed(authz.DecideShares) && d.CheckOwnerVoter(me) == nil
	m.CanAccept = !outgoing && d.State == approvals.ShareAccepting && allowed(authz.ManageShares) && d.CheckAcceptor(me) == nil
	m.CanEnd = d.State.Open() && allowed(authz.ManageShares) && (outgoing || d.State != approvals.ShareProposed)
	return m, nil
}

// describeAudience says who an audience names, e.g. "role requester, group sre".
func describeAudience(a approvals.Audience) string {
	var out []string
	for _, r := range a.Roles {
		out = append(out, "role "+string(r))
	}
	for _, g := range a.Groups {
		out = append(out, "group "+g)
	}
	return strings.Join(out, ", ")
}

// shareTimeline lists a share's events; the recipient sees the owner's
// approvers by display name only.
func shareTimeline(d approvals.ShareDetail, outgoing bool) []web.TimelineEntry {
	out := []web.TimelineEntry{{At: when(d.ProposedAt), Text: "Proposed by " + shown(d.Proposer, outgoing)}}
	for _, v := range d.Votes {
		verb := "Approved"
		if !v.Approve {
			verb = "Rejected"
		}
		text := verb + " by " + shown(v.Approver, outgoing) + " (" + d.OwnerName + ")"
		if v.Comment != "" {
			text += ": " + v.Comment
		}
		out = append(out, web.TimelineEntry{At: when(v.At), Text: text})
	}
	if !d.OfferedAt.IsZero() {
		out = append(out, web.TimelineEntry{At: when(d.OfferedAt), Text: "Offered to " + d.RecipientName})
	}
	if !d.DecidedAt.IsZero() {
		text := "Accepted by " + d.RecipientName
		if d.State == approvals.ShareDeclined {
			text = "Declined by " + d.RecipientName
		}
		if d.DecisionComment != "" {
			text += ": " + d.DecisionComment
		}
		out = append(out, web.TimelineEntry{At: when(d.DecidedAt), Text: text})
	}
	if !d.EndedAt.IsZero() {
		out = append(out, web.TimelineEntry{At: when(d.EndedAt), Text: "Ended: " + d.EndReason + " Every access under it is revoked."})
	}
	return out
}

// shown names a person: by email on their own side, by display name only
// across the boundary.
func shown(p approvals.Person, sameSide bool) string {
	switch {
	case sameSide:
		return p.Email
	case p.Name != "":
		return p.Name
	}
	return "a member of the owner organization"
}

func (s *Server) shareRefused(c echo.Context, err error) error {
	ae := apperr.As(err)
	if ae.Code == apperr.NotFound {
		return s.scoped(c, "share", c.Param("id"), err)
	}
	if ae.Code != apperr.Invalid && ae.Code != apperr.Forbidden && ae.Code != apperr.Conflict {
		return err
	}
	m, merr := s.shareDetailModel(c, paging.First(sharePageSize))
	if merr != nil {
		return merr
	}
	m.FormError, m.FieldErrors = ae.Message, ae.Fields
	return render(c, statusOf(ae.Code), web.ShareDetail(m))
}

// shareDecide records an owner approver's decision.
func (s *Server) shareDecide(c echo.Context) error {
	sess := currentSession(c)
	_, err := s.deps.Shares.DecideShare(c.Request().Context(), sess.TenantID, c.Param("id"), person(sess),
		c.FormValue("decision") == "approve", c.FormValue("comment"), meta(c))
	if err != nil {
		return s.shareRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/shares/"+c.Param("id"))
}

// shareAccept records the recipient admin's acceptance or refusal.
func (s *Server) shareAccept(c echo.Context) error {
	sess := currentSession(c)
	err := s.deps.Shares.AcceptShare(c.Request().Context(), sess.TenantID, c.Param("id"), person(sess),
		c.FormValue("decision") == "accept", strings.TrimSpace(c.FormValue("comment")), meta(c))
	if err != nil {
		return s.shareRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/shares/"+c.Param("id"))
}

// shareEnd ends the share from either side.
func (s *Server) shareEnd(c echo.Context) error {
	sess := currentSession(c)
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" {
		reason = "Ended from " + sess.TenantName + "."
	}
	if err := s.deps.Shares.EndShare(c.Request().Context(), sess.TenantID, c.Param("id"), person(sess), reason, meta(c)); err != nil {
		return s.shareRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/shares/"+c.Param("id"))
}

// sharedItem finds a resource shared with the viewer's organization.
func (s *Server) sharedItem(c echo.Context) (approvals.SharedItem, error) {
	sess := currentSession(c)
	items, err := s.deps.Shares.SharedCatalog(c.Request().Context(), sess.TenantID)
	if err != nil {
		return approvals.SharedItem{}, err
	}
	for _, it := range items {
		if it.ShareID == c.Param("id") && it.Resource.ID == c.Param("rid") && it.Recipients.Includes(approvals.Person{Roles: sess.Roles, Groups: sess.Groups}) {
			return it, nil
		}
	}
	return approvals.SharedItem{}, s.scoped(c, "share", c.Param("id"), apperr.New(apperr.NotFound, "Nothing of that is shared with you."))
}

func sharedRow(it approvals.SharedItem) web.SharedItemRow {
	return web.SharedItemRow{ShareID: it.ShareID, ID: it.Resource.ID, Name: it.Resource.Name, Owner: it.OwnerName,
		Level: string(it.Level), MaxGrant: it.MaxGrant.String(), Mode: string(it.Mode)}
}

// sharedRequestForm asks for access to a shared resource.
func (s *Server) sharedRequestForm(c echo.Context) error {
	it, err := s.sharedItem(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.SharedRequest(web.SharedRequestPage{Page: s.page(c, "Request "+it.Resource.Name),
		Item: sharedRow(it), Fields: map[string]string{}, FieldErrors: map[string]string{}}))
}

// sharedRequestSubmit records the request (issued at once under a
// pre-approved share) and shows it.
func (s *Server) sharedRequestSubmit(c echo.Context) error {
	sess := currentSession(c)
	it, err := s.sharedItem(c)
	if err != nil {
		return err
	}
	fields := map[string]string{"duration": strings.TrimSpace(c.FormValue("duration")), "justification": strings.TrimSpace(c.FormValue("justification"))}
	sub := approvals.Submission{Level: approvals.Level(c.FormValue("level")), Justification: fields["justification"]}
	if fields["duration"] != "" {
		if sub.Duration, err = time.ParseDuration(fields["duration"]); err != nil {
			err = apperr.InvalidFields("Check the duration.", map[string]string{"duration": "Write a duration like 30m."})
		}
	}
	var id string
	if err == nil {
		id, err = s.deps.Access.RequestShared(c.Request().Context(), holder(sess), it.ShareID, it.Resource.ID, sub, meta(c))
	}
	if err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.Invalid && ae.Code != apperr.Conflict && ae.Code != apperr.Forbidden {
			return err
		}
		return render(c, statusOf(ae.Code), web.SharedRequest(web.SharedRequestPage{Page: s.page(c, "Request "+it.Resource.Name),
			Item: sharedRow(it), Fields: fields, FieldErrors: ae.Fields, FormError: ae.Message}))
	}
	return c.Redirect(http.StatusSeeOther, "/requests/"+id)
}
