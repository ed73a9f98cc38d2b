package handlers

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// auditPageSize is how many events a page of the viewer shows.
const auditPageSize = 50

// auditExportMax bounds one export; narrow the filters for more.
const auditExportMax = 1_000_000

var auditFilterKeys = []string{"actor", "action", "target", "outcome", "since", "until"}

// auditFilter parses the viewer's query into a filter.
func auditFilter(c echo.Context) (audit.Filter, map[string]string, error) {
	raw := map[string]string{}
	for _, k := range auditFilterKeys {
		raw[k] = strings.TrimSpace(c.QueryParam(k))
	}
	f := audit.Filter{Actor: raw["actor"], Action: raw["action"], Target: raw["target"], Outcome: audit.Outcome(raw["outcome"])}
	bad := map[string]string{}
	for _, k := range []string{"since", "until"} {
		if raw[k] == "" {
			continue
		}
		d, err := time.Parse("2006-01-02", raw[k])
		if err != nil {
			bad[k] = "Pick a date."
			continue
		}
		if k == "since" {
			f.Since = d
		} else {
			f.Until = d.Add(24 * time.Hour) // through the end of that day
		}
	}
	if b := c.QueryParam("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			bad["before"] = "Not a page of the trail."
		}
		f.Before = n
	}
	if len(bad) > 0 {
		return f, raw, apperr.InvalidFields("Check the filters.", bad)
	}
	return f, raw, f.Check()
}

func (s *Server) everyTrail(c echo.Context) bool {
	return currentSession(c).HasRole(tenants.RolePlatformOperator)
}

func filterQuery(raw map[string]string, extra ...string) string {
	q := url.Values{}
	for _, k := range auditFilterKeys {
		if raw[k] != "" {
			q.Set(k, raw[k])
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q.Encode()
}

func detailText(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, " ")
}

// auditViewer shows a page of the tenant's trail (every trail for platform
// operators), filtered, with export links and the last verification.
func (s *Server) auditViewer(c echo.Context) error {
	sess := currentSession(c)
	ctx := c.Request().Context()
	every := s.everyTrail(c)
	f, raw, ferr := auditFilter(c)
	m := web.AuditPage{Page: s.page(c, "Audit trail"), Every: every, Filter: raw, FieldErrors: map[string]string{},
		ExportJSON: "/audit/export?" + filterQuery(raw, "format", "jsonl"), ExportCSV: "/audit/export?" + filterQuery(raw, "format", "csv")}
	status := http.StatusOK
	if ferr != nil {
		ae := apperr.As(ferr)
		if ae.Code != apperr.Invalid {
			return ferr
		}
		m.FormError, m.FieldErrors, status = ae.Message, ae.Fields, statusOf(ae.Code)
	} else {
		entries, err := s.deps.AuditLog.Search(ctx, sess.TenantID, every, f, auditPageSize)
		if err != nil {
			return err
		}
		for _, e := range entries {
			m.Rows = append(m.Rows, web.AuditRow{ID: strconv.FormatInt(e.ID, 10), At: e.OccurredAt.UTC().Format(time.RFC3339), Actor: e.Actor,
				Action: e.Action, Target: e.Target, Outcome: string(e.Outcome), IP: e.IP, Detail: detailText(e.Detail)})
		}
		if len(entries) == auditPageSize {
			m.OlderURL = "/audit?" + filterQuery(raw, "before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		}
	}
	v, ok, err := s.deps.AuditLog.LastVerification(ctx, sess.TenantID, every)
	if err != nil {
		return err
	}
	if ok {
		vv := &web.VerificationView{At: when(v.At), By: v.By, Chains: v.Chains, Events: strconv.FormatInt(v.Events, 10), Intact: len(v.Problems) == 0}
		for _, p := range v.Problems {
			vv.Problems = append(vv.Problems, "chain "+p.Chain+", event "+strconv.FormatInt(p.Seq, 10)+": "+p.What)
		}
		m.Verification = vv
	}
	return render(c, status, web.Audit(m))
}

// auditExport streams the filtered events as JSON lines or CSV, page by
// page (never the whole set in memory), up to auditExportMax.
func (s *Server) auditExport(c echo.Context) error {
	sess := currentSession(c)
	f, _, err := auditFilter(c)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "jsonl" && format != "csv" {
		return apperr.InvalidFields("Pick a format.", map[string]string{"format": "Export as jsonl or csv."})
	}
	every := s.everyTrail(c)
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="gatehouse-audit.`+format+`"`)
	if format == "csv" {
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		h.Set(echo.HeaderContentType, "application/x-ndjson")
	}
	c.Response().WriteHeader(http.StatusOK)
	enc := json.NewEncoder(c.Response())
	cw := csv.NewWriter(c.Response())
	if format == "csv" {
		_ = cw.Write([]string{"id", "tenant_id", "occurred_at", "actor", "action", "target", "outcome", "ip", "user_agent", "request_id", "detail"})
	}
	for written := 0; written < auditExportMax; {
		page, err := s.deps.AuditLog.Search(c.Request().Context(), sess.TenantID, every, f, 1000)
		if err != nil {
			return nil // the response has started: the download ends short rather than lying
		}
		for _, e := range page {
			if format == "csv" {
				_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.TenantID, e.OccurredAt.UTC().Format(time.RFC3339Nano), e.Actor, e.Action,
					e.Target, string(e.Outcome), e.IP, e.UserAgent, e.RequestID, detailText(e.Detail)})
			} else {
				_ = enc.Encode(map[string]any{"id": e.ID, "tenant_id": e.TenantID, "occurred_at": e.OccurredAt, "actor": e.Actor,
					"action": e.Action, "target": e.Target, "outcome": e.Outcome, "ip": e.IP, "user_agent": e.UserAgent,
					"request_id": e.RequestID, "detail": e.Detail})
			}
		}
		cw.Flush()
		written += len(page)
		if len(page) < 1000 {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	return nil
}

// auditVerify walks the chains now and records the result.
func (s *Server) auditVerify(c echo.Context) error {
	sess := currentSession(c)
	if _, err := s.deps.AuditLog.Verify(c.Request().Context(), sess.TenantID, s.everyTrail(c), sess.Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/audit")
}
