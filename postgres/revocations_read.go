package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres/db"
)

func revocationFrom(r db.Revocation) approvals.Revocation {
	out := approvals.Revocation{ID: r.ID.String(), Scope: approvals.Scope{Kind: approvals.ScopeKind(r.ScopeKind), Value: r.ScopeValue},
		Reason: r.Reason, Actor: r.Actor, Rotate: r.Rotate, Completed: r.State == "completed", SessionsEnded: int(r.SessionsEnded),
		CreatedAt: r.CreatedAt, CompletedAt: r.CompletedAt.Time, LiftedAt: r.LiftedAt.Time, LiftedBy: r.LiftedBy}
	if r.TenantID.Valid {
		out.TenantID = uuidString(r.TenantID.Bytes)
	}
	_ = json.Unmarshal(r.Rotated, &out.Rotated)
	return out
}

// visible reports whether the viewer may see (and lift) the revocation:
// operators every one, a tenant admin those of their tenant. A person
// revoked in every tenant is an operator's to lift.
func visible(v approvals.Viewer, r db.Revocation) bool {
	return v.Operator || (r.TenantID.Valid && uuidString(r.TenantID.Bytes) == v.TenantID)
}

// Revocation returns one revocation with its progress, items and every
// notice it sent (another organization's recipients and reasons left out
// for a viewer outside it who is not an operator), or NotFound when the
// viewer may not see it.
func (s *RequestStore) Revocation(ctx context.Context, id string, v approvals.Viewer) (approvals.Revocation, error) {
	rid, err := uuid.Parse(id)
	if err != nil {
		return approvals.Revocation{}, errNoScope
	}
	q := db.New(s.pool)
	r, err := q.GetRevocation(ctx, rid)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(v, r)) {
		return approvals.Revocation{}, errNoScope
	}
	if err != nil {
		return approvals.Revocation{}, err
	}
	out := revocationFrom(r)
	items, err := q.RevocationItems(ctx, rid)
	if err != nil {
		return out, err
	}
	for _, it := range items {
		out.Items = append(out.Items, approvals.RevocationItem{RequestID: it.RequestID.String(), Resource: it.ResourceName,
			Holder: it.RequesterEmail, State: it.State, Attempts: int(it.Attempts), LastError: it.LastError})
		out.Progress.Total++
		switch it.State {
		case "verified":
			out.Progress.Verified++
		case "failed":
			out.Progress.Failed++
		default:
			out.Progress.Pending++
		}
	}
	told, err := q.RevocationNotices(ctx, rid.String())
	if err != nil {
		return out, err
	}
	for _, n := range told {
		t := approvals.Told{Org: n.Slug, Channel: n.Channel, State: n.State, Attempts: int(n.Attempts), SentAt: n.EnqueuedAt}
		if v.Operator || n.TenantID.String() == v.TenantID { // another organization's people and settings are its own
			t.To, t.Reason = n.Recipients, n.Reason
		}
		out.Told = append(out.Told, t)
	}
	return out, nil
}

// Revocations returns one page of the revocations the viewer may see as q
// asks (a platform operator's: every tenant's; anyone else's: their
// tenant's), newest first, and where the next page starts (zero when none
// follows). Only those are read, wherever q's cursor points. An invalid q
// is apperr.Invalid, a database failure apperr.Unavailable.
func (s *RequestStore) Revocations(ctx context.Context, v approvals.Viewer, q paging.Query) (paging.Page[approvals.Revocation], error) {
	if err := q.Check(); err != nil {
		return paging.Page[approvals.Revocation]{}, err
	}
	at, id := keyset(q.Before)
	var rows []db.Revocation
	var err error
	if v.Operator {
		rows, err = db.New(s.pool).ListEveryRevocationPage(ctx, db.ListEveryRevocationPageParams{BeforeAt: at, BeforeID: id, Max: q.Fetch()})
	} else {
		tid, _ := uuid.Parse(v.TenantID) // a malformed one (never a session's) lists none
		rows, err = db.New(s.pool).ListRevocationsPage(ctx, db.ListRevocationsPageParams{TenantID: pgUUID(tid), BeforeAt: at, BeforeID: id, Max: q.Fetch()})
	}
	if err != nil {
		return paging.Page[approvals.Revocation]{}, apperr.Wrap(apperr.Unavailable, "The revocations cannot be read right now.", err)
	}
	page := paging.Cut(q, rows, func(r db.Revocation) paging.Cursor { return paging.At(r.CreatedAt, r.ID) })
	return paging.Map(page, revocationFrom), nil
}
