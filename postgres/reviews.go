package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

var errNoCampaign = apperr.New(apperr.NotFound, "There is no such review campaign in your organization.")

// StartCampaign opens an access review of the tenant with one item per
// role mapping, long-running share (a term over approvals.LongRunning) and
// break-glass-able resource, audited, and returns its ID.
func (s *RequestStore) StartCampaign(ctx context.Context, tenantID, name string, due time.Time, actor string, meta audit.Meta) (string, error) {
	now := s.now()
	if err := approvals.CheckCampaign(name, due, now); err != nil {
		return "", err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return "", errNoCampaign
	}
	var id uuid.UUID
	err = InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if id, err = q.InsertCampaign(ctx, db.InsertCampaignParams{TenantID: tid, Name: strings.TrimSpace(name), DueAt: due, CreatedBy: actor, CreatedAt: now}); err != nil {
			return err
		}
		add := func(kind approvals.ItemKind, ref, label string) error {
			return q.InsertReviewItem(ctx, db.InsertReviewItemParams{CampaignID: id, Kind: string(kind), Ref: ref, Label: label})
		}
		maps, err := q.ListRoleMappings(ctx, tid)
		if err != nil {
			return err
		}
		for _, m := range maps {
			if err := add(approvals.ItemRoleMapping, m.IdpGroup+"\t"+m.Role, "IdP group "+m.IdpGroup+" → role "+m.Role); err != nil {
				return err
			}
		}
		shares, err := q.LongRunningShares(ctx, db.LongRunningSharesParams{TenantID: tid, LongerThan: pgtype.Interval{Microseconds: int64(approvals.LongRunning / time.Microsecond), Valid: true}})
		if err != nil {
			return err
		}
		for _, sh := range shares {
			if err := add(approvals.ItemShare, sh.ID.String(), "Share "+sh.OwnerName+" → "+sh.RecipientName+" until "+
				sh.TermEnd.UTC().Format("2006-01-02")+": "+sh.Purpose); err != nil {
				return err
			}
		}
		res, err := q.BreakGlassResources(ctx, tid)
		if err != nil {
			return err
		}
		for _, r := range res {
			if err := add(approvals.ItemBreakGlass, r.ID.String(), "Break-glass on "+r.Name+" ("+r.Mount+"/"+r.Path+", up to "+
				(time.Duration(r.BreakglassMaxSeconds)*time.Second).String()+")"); err != nil {
				return err
			}
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "review.started",
			Target: id.String(), Outcome: audit.Success, Detail: map[string]string{"name": name, "items": strconv.Itoa(len(maps) + len(shares) + len(res))}}))
	})
	return id.String(), err
}

// Campaigns returns one page of the tenant's campaigns with their progress
// as q asks, newest first, and where the next page starts (zero when none
// follows). Only the tenant's are read, wherever q's cursor points. An
// invalid q is apperr.Invalid, a malformed tenant ID apperr.NotFound, a
// database failure apperr.Unavailable.
func (s *RequestStore) Campaigns(ctx context.Context, tenantID string, q paging.Query) (paging.Page[approvals.Campaign], error) {
	if err := q.Check(); err != nil {
		return paging.Page[approvals.Campaign]{}, err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return paging.Page[approvals.Campaign]{}, errNoCampaign
	}
	p := db.ListCampaignsPageParams{TenantID: tid, Max: q.Fetch()}
	p.BeforeAt, p.BeforeID = keyset(q.Before)
	rows, err := db.New(s.pool).ListCampaignsPage(ctx, p)
	if err != nil {
		return paging.Page[approvals.Campaign]{}, apperr.Wrap(apperr.Unavailable, "The review campaigns cannot be read right now.", err)
	}
	page := paging.Cut(q, rows, func(r db.ListCampaignsPageRow) paging.Cursor { return paging.At(r.CreatedAt, r.ID) })
	return paging.Map(page, func(r db.ListCampaignsPageRow) approvals.Campaign {
		return approvals.Campaign{ID: r.ID.String(), Name: r.Name, DueAt: r.DueAt, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
			CompletedAt: r.CompletedAt.Time, Total: int(r.Items), Decided: int(r.Decided)}
	}), nil
}

// Campaign returns one of the tenant's campaigns with its items.
func (s *RequestStore) Campaign(ctx context.Context, tenantID, id string) (approvals.Campaign, error) {
	tid, cid, err := parseIDs(tenantID, id, errNoCampaign)
	if err != nil {
		return approvals.Campaign{}, err
	}
	q := db.New(s.pool)
	r, err := q.GetCampaign(ctx, db.GetCampaignParams{ID: cid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.Campaign{}, errNoCampaign
	}
	if err != nil {
		return approvals.Campaign{}, err
	}
	c := approvals.Campaign{ID: id, Name: r.Name, DueAt: r.DueAt, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, CompletedAt: r.CompletedAt.Time}
	items, err := q.ListReviewItems(ctx, cid)
	if err != nil {
		return c, err
	}
	for _, it := range items {
		c.Items = append(c.Items, itemFrom(it))
		c.Total++
		if it.Decision.Valid {
			c.Decided++
		}
	}
	return c, nil
}

func itemFrom(it db.ReviewItem) approvals.ReviewItem {
	return approvals.ReviewItem{ID: it.ID.String(), Kind: approvals.ItemKind(it.Kind), Ref: it.Ref, Label: it.Label,
		Decision: approvals.ReviewDecision(it.Decision.String), Note: it.Note, DecidedBy: it.DecidedBy, DecidedAt: it.DecidedAt.Time}
}

// ReviewItem returns one open item of the tenant's campaign, or NotFound,
// or Conflict when it is decided already.
func (s *RequestStore) ReviewItem(ctx context.Context, tenantID, campaignID, itemID string) (approvals.ReviewItem, error) {
	tid, cid, err := parseIDs(tenantID, campaignID, errNoCampaign)
	if err != nil {
		return approvals.ReviewItem{}, err
	}
	iid, err := uuid.Parse(itemID)
	if err != nil {
		return approvals.ReviewItem{}, errNoCampaign
	}
	it, err := db.New(s.pool).LockReviewItem(ctx, db.LockReviewItemParams{ID: iid, CampaignID: cid, TenantID: tid})
	if errors.Is(err, pgx.ErrNoRows) {
		return approvals.ReviewItem{}, errNoCampaign
	}
	if err != nil {
		return approvals.ReviewItem{}, err
	}
	if it.Decision.Valid {
		return itemFrom(it), apperr.New(apperr.Conflict, "This item has been decided already.")
	}
	return itemFrom(it), nil
}

// RecordReviewDecision records a decision on an open item under its row
// lock, audited; a revoked role mapping also ends the sessions holding
// that role. The campaign completes with its last decision.
func (s *RequestStore) RecordReviewDecision(ctx context.Context, tenantID, campaignID, itemID string, d approvals.ReviewDecision,
	note, actor string, meta audit.Meta) error {
	if err := approvals.CheckReviewDecision(d, note); err != nil {
		return err
	}
	tid, cid, err := parseIDs(tenantID, campaignID, errNoCampaign)
	if err != nil {
		return err
	}
	iid, err := uuid.Parse(itemID)
	if err != nil {
		return errNoCampaign
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		it, err := q.LockReviewItem(ctx, db.LockReviewItemParams{ID: iid, CampaignID: cid, TenantID: tid})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoCampaign
		}
		if err != nil {
			return err
		}
		if it.Decision.Valid {
			return apperr.New(apperr.Conflict, "This item has been decided already.")
		}
		now := s.now()
		if err := q.DecideReviewItem(ctx, db.DecideReviewItemParams{ID: iid, Decision: textOf(string(d)), Note: note, DecidedBy: actor,
			DecidedAt: timestamptz(now)}); err != nil {
			return err
		}
		if d == approvals.Revoke && approvals.ItemKind(it.Kind) == approvals.ItemRoleMapping {
			_, role, _ := strings.Cut(it.Ref, "\t")
			if _, err := q.DeleteSessionsWithRole(ctx, db.DeleteSessionsWithRoleParams{TenantID: tid, Role: role}); err != nil {
				return err
			}
		}
		if _, err := q.CompleteCampaignIfDone(ctx, db.CompleteCampaignIfDoneParams{ID: cid, Now: timestamptz(now)}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "review." + string(d),
			Target: it.Label, Outcome: audit.Success, Detail: map[string]string{"campaign": campaignID, "item": itemID, "kind": it.Kind, "note": note}}))
	})
}

// RemindCampaigns emails the tenant admins of every open campaign due
// within a day (or overdue), at most once a day each, and returns how many.
func (s *RequestStore) RemindCampaigns(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.CampaignsToRemind(ctx, db.CampaignsToRemindParams{Horizon: now.Add(24 * time.Hour), RemindBefore: timestamptz(now.Add(-24 * time.Hour))})
		if err != nil {
			return err
		}
		for _, c := range rows {
			if c.OpenItems == 0 {
				continue
			}
			to, err := roleEmails(ctx, q, c.TenantID, tenants.RoleTenantAdmin)
			if err != nil {
				return err
			}
			if err := s.noticeAbout(ctx, tx, c.TenantID.String(), c.ID.String(), to, notify.Message{Subject: "Access review due: " + c.Name,
				Text: strconv.FormatInt(c.OpenItems, 10) + " item(s) still to review, due " + c.DueAt.UTC().Format(time.RFC1123) + ".",
				Link: "/reviews/" + c.ID.String()}); err != nil {
				return err
			}
			if err := q.MarkCampaignReminded(ctx, db.MarkCampaignRemindedParams{ID: c.ID, At: timestamptz(now)}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
