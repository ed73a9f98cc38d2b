package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres/db"
	"github.com/gatehouse/gatehouse/tenants"
)

// SharedCatalog lists the resources shared with the tenant by active shares.
func (s *RequestStore) SharedCatalog(ctx context.Context, tenantID string) ([]approvals.SharedItem, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoShare
	}
	rows, err := db.New(s.pool).ListSharedCatalog(ctx, tid)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The shared catalog cannot be read right now.", err)
	}
	out := make([]approvals.SharedItem, 0, len(rows))
	for _, r := range rows {
		it := approvals.SharedItem{ShareID: r.ShareID.String(), OwnerName: r.OwnerName, Level: approvals.Level(r.Level),
			MaxGrant: time.Duration(r.MaxGrantSeconds) * time.Second, Mode: approvals.ShareMode(r.Mode), TermEnd: r.TermEnd,
			Resource: approvals.Resource{ID: r.ResourceID.String(), Name: r.Name, Description: r.Description,
				Classification: approvals.Classification(r.Classification), Mount: r.Mount, Path: r.Path,
				StoreKind: r.StoreKind, BindingID: optUUID(r.BindingID),
				BreakGlass: approvals.BreakGlass{Enabled: r.Breakglass, MaxDuration: time.Duration(r.BreakglassMaxSeconds) * time.Second, Drill: r.BreakglassDrill}}}
		if err := json.Unmarshal(r.Recipients, &it.Recipients); err != nil {
			return nil, fmt.Errorf("share recipients: %w", err)
		}
		out = append(out, it)
	}
	return out, nil
}

// RequestShared records who's request (a member of the recipient tenant)
// for a resource under an active share, under the share's read lock: under
// a pre-approved share the request is recorded issuing and its target
// returned for the caller to issue at once (a backstop job retries);
// under a per-access share it is pending for the share's approvers, who
// are told. The request lives in the owner's tenant, where the resource
// and its grant are; both sides audit it. It returns the request's ID.
func (s *RequestStore) RequestShared(ctx context.Context, tenantID, shareID, resourceID string, who approvals.Person,
	sub approvals.Submission, meta audit.Meta) (string, *jobs.GrantTarget, error) {
	tid, sid, err := parseIDs(tenantID, shareID, errNoShare)
	if err != nil {
		return "", nil, err
	}
	var id uuid.UUID
	var target *jobs.GrantTarget
	err = accessTx(ctx, s.pool, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.LockShareForAccess(ctx, sid)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && (row.RecipientTenantID != tid || !row.OfferedAt.Valid)) {
			return errNoShare
		}
		if err != nil {
			return err
		}
		sh, err := loadShare(ctx, q, row)
		if err != nil {
			return err
		}
		now := s.now()
		d, err := sh.CheckAccess(who, resourceID, sub.Level, sub.Duration, now)
		if err != nil {
			return err
		}
		rid := uuid.MustParse(resourceID)
		if err := blocked(ctx, q, blockKey{Tenant: row.OwnerTenantID, RequesterTenant: tid, Email: who.Email, Resource: rid, Share: pgUUID(sid)}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", shareID+"/"+resourceID+"/"+tenantID+"/"+who.Subject); err != nil {
			return err
		}
		open, err := q.CountOpenSharedRequestsOf(ctx, db.CountOpenSharedRequestsOfParams{ShareID: pgUUID(sid), ResourceID: rid,
			TenantID: pgUUID(tid), Subject: who.Subject})
		if err != nil {
			return err
		}
		if open > 0 {
			return apperr.New(apperr.Conflict, "You already have an open request or grant for this resource under this share.")
		}
		policy := sh.AccessPolicy()
		state := approvals.Issuing
		if sh.Terms.Mode == approvals.PerAccess {
			r, err := approvals.NewRequest(who, policy, approvals.Submission{Level: sub.Level, Duration: d, Justification: sub.Justification}, now)
			if err != nil {
				return err
			}
			state, d = r.State, r.Duration
		}
		snapshot, _ := json.Marshal(policy)
		person, _ := json.Marshal(who)
		id, err = q.InsertSharedRequest(ctx, db.InsertSharedRequestParams{TenantID: row.OwnerTenantID, ResourceID: rid,
			RequesterSubject: who.Subject, RequesterEmail: who.Email, Requester: person, Level: string(sub.Level),
			DurationSeconds: int64(d / time.Second), Justification: sub.Justification, State: string(state), Policy: snapshot,
			SubmittedAt: now, ShareID: pgUUID(sid), RequesterTenantID: pgUUID(tid)})
		if err != nil {
			return err
		}
		var res approvals.Resource
		for _, r := range sh.Terms.Resources {
			if r.ID == resourceID {
				res = r
			}
		}
		if state == approvals.Issuing {
			slug, err := q.GetTenantSlug(ctx, row.OwnerTenantID)
			if err != nil {
				return err
			}
			target = &jobs.GrantTarget{RequestID: id.String(), TenantID: row.OwnerTenantID.String(), TenantSlug: slug, Subject: who.Subject,
				Mount: res.Mount, Path: res.Path, BindingID: res.BindingID, Write: sub.Level == approvals.ReadWrite, Duration: d, Email: who.Email, Resource: res.Name}
			if _, err := s.jobs.InsertTx(ctx, tx, jobs.IssueGrantArgs{TenantID: target.TenantID, RequestID: target.RequestID},
				&river.InsertOpts{ScheduledAt: now.Add(BreakGlassBackstop)}); err != nil {
				return fmt.Errorf("enqueueing the backstop issue job: %w", err)
			}
		} else {
			approvers, err := roleEmails(ctx, q, tid, tenants.RoleApprover)
			if err != nil {
				return err
			}
			if policy.Steps[0].Name == "owner" {
				if approvers, err = roleEmails(ctx, q, row.OwnerTenantID, tenants.RoleApprover); err != nil {
					return err
				}
			}
			if err := s.noticeAbout(ctx, tx, tenantID, id.String(), without(approvers, who.Email), notify.Message{Subject: "Access request under a share: " + res.Name,
				Text: who.Email + " asks for access to a shared resource: " + sub.Justification, Link: "/requests/" + id.String()}); err != nil {
				return err
			}
		}
		return appendAudit(ctx, q, now, shareEvents(row, true, meta.Stamp(audit.Event{Actor: actor(who), Action: "share.access_requested",
			Target: res.Name, Outcome: audit.Success, Detail: map[string]string{"share": shareID, "request": id.String(),
				"duration": d.String(), "state": string(state)}}))...)
	})
	return id.String(), target, err
}
