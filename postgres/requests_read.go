package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// Catalog returns the tenant's catalog: its resources not retired.
func (s *RequestStore) Catalog(ctx context.Context, tenantID string) ([]approvals.Resource, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoResource
	}
	return resourceList(db.New(s.pool).ListResources(ctx, tid))
}

// resourceList converts a query's resource rows (or its error, as
// apperr.Unavailable) to the domain's resources, in the rows' order.
func resourceList(rows []db.Resource, err error) ([]approvals.Resource, error) {
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The catalog cannot be read right now.", err)
	}
	out := make([]approvals.Resource, 0, len(rows))
	for _, r := range rows {
		res, err := resourceFrom(r)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// Resource returns one of the tenant's resources, retired or not
// (Resource.Retired says), or apperr.NotFound. Pages and paths offering
// access read it through Requestable instead.
func (s *RequestStore) Resource(ctx context.Context, tenantID, id string) (approvals.Resource, error) {
	tid, rid, err := parseIDs(tenantID, id, errNoResource)
	if err != nil {
		return approvals.Resource{}, err
	}
	r, err := db.New(s.pool).GetResource(ctx, db.GetResourceParams{ID: rid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.Resource{}, errNoResource
	}
	if err != nil {
		return approvals.Resource{}, err
	}
	return resourceFrom(r)
}

func resourceFrom(r db.Resource) (approvals.Resource, error) {
	res := approvals.Resource{ID: r.ID.String(), Name: r.Name, Description: r.Description, OwnerTeam: r.OwnerTeam,
		Classification: approvals.Classification(r.Classification), Mount: r.Mount, Path: r.Path,
		StoreKind: r.StoreKind, BindingID: optUUID(r.BindingID), PolicyFromClass: r.PolicyFromClass,
		BreakGlass: approvals.BreakGlass{Enabled: r.Breakglass, MaxDuration: time.Duration(r.BreakglassMaxSeconds) * time.Second,
			RotateAfter: r.BreakglassRotate, Drill: r.BreakglassDrill},
		RetiredBy: r.RetiredBy, RetiredReason: r.RetiredReason}
	if r.RetiredAt.Valid {
		res.RetiredAt = r.RetiredAt.Time
	}
	if err := json.Unmarshal(r.Policy, &res.Policy); err != nil {
		return res, fmt.Errorf("resource policy: %w", err)
	}
	return res, nil
}

// RequestsOf returns one page of the requests the subject of the tenant
// made as q asks (in its catalog, or in another's under a share), newest
// first, and where the next page starts (zero when none follows). Only
// theirs are read, wherever q's cursor points. An invalid q is
// apperr.Invalid, a malformed tenant ID apperr.NotFound, a database
// failure apperr.Unavailable.
func (s *RequestStore) RequestsOf(ctx context.Context, tenantID, subject string, q paging.Query) (paging.Page[approvals.Summary], error) {
	if err := q.Check(); err != nil {
		return paging.Page[approvals.Summary]{}, err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return paging.Page[approvals.Summary]{}, errNoRequest
	}
	p := db.ListRequestsOfPageParams{TenantID: tid, Subject: subject, Max: q.Fetch()}
	p.BeforeAt, p.BeforeID = keyset(q.Before)
	rows, err := db.New(s.pool).ListRequestsOfPage(ctx, p)
	if err != nil {
		return paging.Page[approvals.Summary]{}, apperr.Wrap(apperr.Unavailable, "Your requests cannot be read right now.", err)
	}
	page := paging.Cut(q, rows, func(r db.ListRequestsOfPageRow) paging.Cursor { return paging.At(r.SubmittedAt, r.ID) })
	return paging.Map(page, mineSummary), nil
}

// ActiveGrantsOf returns every active grant of the subject of the tenant
// (in its catalog, or in another's under a share), newest first, however
// many requests they made since. A malformed tenant ID is
// apperr.NotFound, a database failure apperr.Unavailable.
func (s *RequestStore) ActiveGrantsOf(ctx context.Context, tenantID, subject string) ([]approvals.Summary, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoRequest
	}
	rows, err := db.New(s.pool).ListActiveGrantsOf(ctx, db.ListActiveGrantsOfParams{TenantID: tid, Subject: subject})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "Your grants cannot be read right now.", err)
	}
	out := make([]approvals.Summary, 0, len(rows))
	for _, r := range rows {
		out = append(out, mineSummary(db.ListRequestsOfPageRow(r)))
	}
	return out, nil
}

// mineSummary is one of a person's own requests as their lists show it.
func mineSummary(r db.ListRequestsOfPageRow) approvals.Summary {
	return approvals.Summary{ID: r.ID.String(), Resource: r.ResourceName, State: approvals.State(r.State), StoreKind: r.StoreKind,
		Level: approvals.Level(r.Level), Duration: time.Duration(r.DurationSeconds) * time.Second,
		SubmittedAt: r.SubmittedAt, ExpiresAt: r.ExpiresAt.Time, FailureReason: r.FailureReason,
		Kind: approvals.Kind(r.Kind), Drill: r.Drill}
}

// Inbox returns, oldest first, up to limit pending requests of the tenant
// (and those under a share its people asked for) that p may decide now,
// with their votes, and how many there are in all. Eligibility is decided
// in SQL (ListEligiblePending) as approvals.Request.Eligible decides it, so
// only the rows shown are read into Go and decoded.
func (s *RequestStore) Inbox(ctx context.Context, tenantID string, p approvals.Person, limit int) ([]approvals.Detail, int, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, 0, errNoRequest
	}
	q := db.New(s.pool)
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	eligible, err := q.ListEligiblePending(ctx, db.ListEligiblePendingParams{TenantID: tid, Subject: p.Subject, PersonTenant: p.Tenant,
		Roles: roles, Groups: append([]string{}, p.Groups...), Lim: int32(max(limit, 1))})
	if err != nil {
		return nil, 0, apperr.Wrap(apperr.Unavailable, "Pending requests cannot be read right now.", err)
	}
	if len(eligible) == 0 {
		return nil, 0, nil
	}
	total := int(eligible[0].Total)
	if limit <= 0 {
		return nil, total, nil
	}
	ids := make([]uuid.UUID, len(eligible))
	for i, e := range eligible {
		ids[i] = e.ID
	}
	rows, err := q.ListRequestDetails(ctx, db.ListRequestDetailsParams{Ids: ids, TenantID: tid})
	if err != nil {
		return nil, 0, apperr.Wrap(apperr.Unavailable, "Pending requests cannot be read right now.", err)
	}
	votes, err := q.ListVotesOf(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	byRequest := map[uuid.UUID][]db.Vote{}
	for _, v := range votes {
		byRequest[v.RequestID] = append(byRequest[v.RequestID], v)
	}
	out := make([]approvals.Detail, 0, len(rows))
	for _, row := range rows {
		d, err := detailFrom(row, byRequest[row.ID])
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, nil
}

// Detail returns one request of the tenant with its votes and grant, or
// apperr.NotFound.
func (s *RequestStore) Detail(ctx context.Context, tenantID, id string) (approvals.Detail, error) {
	tid, rid, err := parseIDs(tenantID, id, errNoRequest)
	if err != nil {
		return approvals.Detail{}, err
	}
	q := db.New(s.pool)
	row, err := q.GetRequestDetail(ctx, db.GetRequestDetailParams{ID: rid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.Detail{}, errNoRequest
	}
	if err != nil {
		return approvals.Detail{}, err
	}
	r := db.ListRequestDetailsRow(row)
	votes, err := q.ListVotes(ctx, r.ID)
	if err != nil {
		return approvals.Detail{}, err
	}
	d, err := detailFrom(r, votes)
	if err != nil {
		return d, err
	}
	if d.Kind == approvals.BreakGlassKind {
		rv, err := q.GetBreakGlassReview(ctx, rid)
		if err != nil {
			return d, fmt.Errorf("break-glass review: %w", err)
		}
		review, err := reviewFrom(rv)
		if err != nil {
			return d, err
		}
		d.Review = &review
	}
	return d, nil
}

// detailFrom builds a request's detail from its row and votes.
func detailFrom(r db.ListRequestDetailsRow, votes []db.Vote) (approvals.Detail, error) {
	req, err := requestWith(db.Request{ID: r.ID, Requester: r.Requester, Policy: r.Policy, Level: r.Level,
		DurationSeconds: r.DurationSeconds, State: r.State, SubmittedAt: r.SubmittedAt}, votes)
	if err != nil {
		return approvals.Detail{}, err
	}
	d := approvals.Detail{
		Summary: approvals.Summary{ID: r.ID.String(), Resource: r.ResourceName, Requester: req.Requester, State: req.State, Level: req.Level,
			Duration: req.Duration, SubmittedAt: r.SubmittedAt, ExpiresAt: r.ExpiresAt.Time, FailureReason: r.FailureReason,
			Kind: approvals.Kind(r.Kind), Drill: r.Drill, StoreKind: r.StoreKind},
		Request: req, ResourceID: r.ResourceID.String(), Mount: r.Mount, Path: r.Path, Justification: r.Justification,
		StoreKind: r.StoreKind, BindingID: optUUID(r.BindingID),
		Ticket: r.Ticket, IssuedAt: r.IssuedAt.Time, EndedAt: r.EndedAt.Time, Incident: r.Incident,
		TenantID: r.TenantID.String(), RequesterTenant: r.TenantID.String(), OwnerName: r.OwnerName,
	}
	if r.RequesterTenantID.Valid {
		d.RequesterTenant = uuidString(r.RequesterTenantID.Bytes)
	}
	if r.ShareID.Valid {
		d.ShareID = uuidString(r.ShareID.Bytes)
	}
	return d, nil
}

func reviewFrom(rv db.BreakglassReview) (approvals.Review, error) {
	r := approvals.Review{TenantID: rv.TenantID.String(), DueAt: rv.DueAt, Notes: rv.Notes, ReviewedAt: rv.ReviewedAt.Time, Escalations: int(rv.Escalations),
		RotatedAt: rv.RotatedAt.Time}
	if rv.Verdict.Valid {
		r.Verdict = approvals.Verdict(rv.Verdict.String)
	}
	if rv.RotatedVersion.Valid {
		r.RotatedVersion = rv.RotatedVersion.String
	}
	if len(rv.Reviewer) > 0 {
		if err := json.Unmarshal(rv.Reviewer, &r.Reviewer); err != nil {
			return r, fmt.Errorf("break-glass reviewer: %w", err)
		}
	}
	return r, nil
}

// People returns the tenant's members as approvals.Person, to show a
// requester who the eligible approvers are.
func (s *RequestStore) People(ctx context.Context, tenantID string) ([]approvals.Person, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoRequest
	}
	rows, err := db.New(s.pool).ListMembersOf(ctx, tid)
	if err != nil {
		return nil, err
	}
	return peopleFrom(rows, tenantID), nil
}

func peopleFrom(rows []db.ListMembersOfRow, tenantID string) []approvals.Person {
	out := make([]approvals.Person, 0, len(rows))
	for _, m := range rows {
		p := approvals.Person{Tenant: tenantID, Subject: m.Subject, Email: m.Email, Name: m.DisplayName, Groups: m.Groups}
		for _, r := range m.Roles {
			p.Roles = append(p.Roles, tenants.Role(r))
		}
		out = append(out, p)
	}
	return out
}

// Cancel ends the requester's own pending request, audited.
func (s *RequestStore) Cancel(ctx context.Context, tenantID, id string, who approvals.Person, meta audit.Meta) error {
	tid, rid, err := parseIDs(tenantID, id, errNoRequest)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.LockRequest(ctx, db.LockRequestParams{ID: rid, TenantID: tid})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoRequest
		}
		if err != nil {
			return err
		}
		r, err := loadRequest(ctx, q, row)
		if err != nil {
			return err
		}
		if err := r.Cancel(who); err != nil {
			return err
		}
		now := s.now()
		if err := q.SetRequestState(ctx, db.SetRequestStateParams{ID: rid, State: string(r.State), UpdatedAt: now}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, meta.Stamp(auditOf(tenantID, who, "request.cancelled", id)))
	})
}

// OwnedElsewhere reports whether id names a request (kind "request") or
// resource ("resource") of another tenant than tenantID — a cross-tenant
// probe, answered as not found but audited.
func (s *RequestStore) OwnedElsewhere(ctx context.Context, kind, tenantID, id string) (bool, error) {
	tid, oid, err := parseIDs(tenantID, id, errNoRequest)
	if err != nil {
		return false, nil // not even an ID: nothing to find anywhere
	}
	q := db.New(s.pool)
	switch kind {
	case "resource":
		return q.ResourceOwnedElsewhere(ctx, db.ResourceOwnedElsewhereParams{ID: oid, TenantID: tid})
	case "share":
		return q.ShareOwnedElsewhere(ctx, db.ShareOwnedElsewhereParams{ID: oid, TenantID: tid})
	}
	return q.RequestOwnedElsewhere(ctx, db.RequestOwnedElsewhereParams{ID: oid, TenantID: tid})
}
