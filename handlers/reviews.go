package handlers

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/web"
)

func campaignState(c approvals.Campaign, now time.Time) string {
	switch {
	case !c.CompletedAt.IsZero():
		return "completed"
	case c.Overdue(now):
		return "overdue"
	}
	return "open"
}

// campaignPageSize is how many campaigns a page of the reviews page lists.
const campaignPageSize = 100

// reviewsModel is the reviews page with the page of campaigns q asks for
// and the form holding fields; it returns the store's errors.
func (s *Server) reviewsModel(c echo.Context, q paging.Query, fields map[string]string) (web.ReviewsPage, error) {
	sess := currentSession(c)
	all, err := s.deps.Reviews.Campaigns(c.Request().Context(), sess.TenantID, q)
	if err != nil {
		return web.ReviewsPage{}, err
	}
	m := web.ReviewsPage{Page: s.page(c, "Access reviews"), Fields: fields, FieldErrors: map[string]string{},
		Pager: pager("/reviews", nil, q, all.Older, "campaigns")}
	for _, cp := range all.Rows {
		m.Rows = append(m.Rows, web.CampaignRow{ID: cp.ID, Name: cp.Name, Due: when(cp.DueAt),
			Progress: strconv.Itoa(cp.Decided) + " of " + strconv.Itoa(cp.Total), State: campaignState(cp, s.deps.Now())})
	}
	return m, nil
}

// reviews lists one page of the campaigns, newest first: the first, or
// the one after the cursor in ?before. A bad cursor is apperr.Invalid
// (400), and nothing is read.
func (s *Server) reviews(c echo.Context) error {
	q, err := pageQuery(c, campaignPageSize, "review campaigns")
	if err != nil {
		return err
	}
	m, err := s.reviewsModel(c, q, map[string]string{"due": s.deps.Now().AddDate(0, 0, 14).Format("2006-01-02")})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Reviews(m))
}

// reviewStart opens a campaign over the organization's standing access.
func (s *Server) reviewStart(c echo.Context) error {
	sess := currentSession(c)
	fields := map[string]string{"name": c.FormValue("name"), "due": c.FormValue("due")}
	due, derr := time.Parse("2006-01-02", fields["due"])
	var id string
	err := derr
	if derr != nil {
		err = apperr.InvalidFields("Check the due date.", map[string]string{"due": "Pick a date."})
	} else {
		id, err = s.deps.Reviews.StartCampaign(c.Request().Context(), sess.TenantID, fields["name"], due.Add(24*time.Hour-time.Second), sess.Actor(), meta(c))
	}
	if err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.Invalid {
			return err
		}
		m, merr := s.reviewsModel(c, paging.First(campaignPageSize), fields)
		if merr != nil {
			return merr
		}
		m.FormError, m.FieldErrors = ae.Message, ae.Fields
		return render(c, statusOf(ae.Code), web.Reviews(m))
	}
	return c.Redirect(http.StatusSeeOther, "/reviews/"+id)
}

func (s *Server) campaignModel(c echo.Context) (web.CampaignPage, approvals.Campaign, error) {
	sess := currentSession(c)
	cp, err := s.deps.Reviews.Campaign(c.Request().Context(), sess.TenantID, c.Param("id"))
	if err != nil {
		return web.CampaignPage{}, cp, err
	}
	m := web.CampaignPage{Page: s.page(c, cp.Name), ID: cp.ID, Name: cp.Name, Due: when(cp.DueAt), State: campaignState(cp, s.deps.Now()),
		Progress: strconv.Itoa(cp.Decided) + " of " + strconv.Itoa(cp.Total), Percent: 100, FieldErrors: map[string]string{}}
	if cp.Total > 0 {
		m.Percent = cp.Decided * 100 / cp.Total
	}
	for _, it := range cp.Items {
		m.Items = append(m.Items, web.ReviewItemRow{ID: it.ID, Kind: string(it.Kind), Label: it.Label, Decision: string(it.Decision), Note: it.Note, By: it.DecidedBy})
	}
	m.Deliveries, err = s.objectNotices(c, cp.ID)
	return m, cp, err
}

// campaign shows one campaign.
func (s *Server) campaign(c echo.Context) error {
	m, _, err := s.campaignModel(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, web.Campaign(m))
}

// reviewDecide keeps or revokes one item.
func (s *Server) reviewDecide(c echo.Context) error {
	sess := currentSession(c)
	err := s.deps.ReviewService.Decide(c.Request().Context(), sess.TenantID, c.Param("id"), c.Param("item"),
		approvals.ReviewDecision(c.FormValue("decision")), strings.TrimSpace(c.FormValue("note")), sess.Actor(), meta(c))
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/reviews/"+c.Param("id"))
	}
	ae := apperr.As(err)
	if ae.Code != apperr.Invalid && ae.Code != apperr.Conflict {
		return err
	}
	m, _, merr := s.campaignModel(c)
	if merr != nil {
		return merr
	}
	m.FormError, m.FieldErrors = ae.Message, ae.Fields
	if f := ae.Fields["note"]; f != "" {
		m.FormError += " " + f
	}
	return render(c, statusOf(ae.Code), web.Campaign(m))
}

// reviewReport is the campaign's completion report as CSV.
func (s *Server) reviewReport(c echo.Context) error {
	_, cp, err := s.campaignModel(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="access-review-`+cp.ID+`.csv"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"campaign", "due", "completed", "kind", "item", "decision", "note", "decided_by", "decided_at"})
	completed := ""
	if !cp.CompletedAt.IsZero() {
		completed = cp.CompletedAt.UTC().Format(time.RFC3339)
	}
	for _, it := range cp.Items {
		at := ""
		if !it.DecidedAt.IsZero() {
			at = it.DecidedAt.UTC().Format(time.RFC3339)
		}
		_ = w.Write([]string{cp.Name, cp.DueAt.UTC().Format(time.RFC3339), completed, string(it.Kind), it.Label, string(it.Decision), it.Note, it.DecidedBy, at})
	}
	w.Flush()
	return w.Error()
}
