package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// errNoClassPolicy is the refusal to make a resource follow a
// classification the tenant has no policy for.
func errNoClassPolicy(c approvals.Classification) error {
	msg := fmt.Sprintf("Your organization has no policy for %s resources yet. Set one under Policies by classification, or give this resource its own policy.", c)
	return apperr.InvalidFields(msg, map[string]string{"policy.source": msg})
}

// ClassPolicies returns the tenant's policy for each classification, in
// the order of approvals.Classifications(), with how many resources follow
// each.
func (s *RequestStore) ClassPolicies(ctx context.Context, tenantID string) ([]approvals.ClassPolicy, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return nil, errNoResource
	}
	rows, err := db.New(s.pool).ListClassPolicies(ctx, tid)
	if err != nil {
		return nil, err
	}
	out := make([]approvals.ClassPolicy, len(approvals.Classifications()))
	for i, c := range approvals.Classifications() {
		out[i].Classification = c
		for _, r := range rows {
			if r.Classification != string(c) {
				continue
			}
			if err := json.Unmarshal(r.Policy, &out[i].Policy); err != nil {
				return nil, fmt.Errorf("%s policy: %w", c, err)
			}
			out[i].Set, out[i].Followers = true, int(r.Followers)
		}
	}
	return out, nil
}

// SetClassPolicy validates p and sets it as the tenant's policy for c and,
// in the same transaction, on every resource following c: one audit event
// for the classification and one per resource changed. It returns how many
// resources follow c. Requests already submitted keep their snapshots.
func (s *RequestStore) SetClassPolicy(ctx context.Context, tenantID string, c approvals.Classification, p approvals.Policy, actor string, meta audit.Meta) (int, error) {
	if !c.Valid() {
		return 0, apperr.New(apperr.NotFound, "There is no such classification.")
	}
	if err := p.Validate(); err != nil {
		return 0, err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return 0, errNoResource
	}
	policy, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	var followers int
	err = InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		now := s.now()
		if err := q.UpsertClassPolicy(ctx, db.UpsertClassPolicyParams{TenantID: tid, Classification: string(c), Policy: policy, Actor: actor, At: now}); err != nil {
			return err
		}
		ids, err := q.UpdateClassFollowers(ctx, db.UpdateClassFollowersParams{TenantID: tid, Classification: string(c), Policy: policy})
		if err != nil {
			return err
		}
		followers = len(ids)
		evs := []audit.Event{meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "classification.policy_changed", Target: string(c),
			Outcome: audit.Success, Detail: map[string]string{"policy": string(policy), "resources": fmt.Sprint(followers)}})}
		for _, id := range ids {
			evs = append(evs, meta.Stamp(policyChanged(tenantID, actor, id.String(), "classification "+string(c), policy)))
		}
		return appendAudit(ctx, q, now, evs...)
	})
	return followers, err
}

// FollowClassPolicy makes the resource carry its classification's policy
// from now on, audited. apperr.NotFound for no such resource in the
// tenant; apperr.Invalid when the tenant has no policy for its
// classification.
func (s *RequestStore) FollowClassPolicy(ctx context.Context, tenantID, resourceID, actor string, meta audit.Meta) error {
	tid, rid, err := parseIDs(tenantID, resourceID, errNoResource)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		res, err := q.GetResource(ctx, db.GetResourceParams{ID: rid, TenantID: tid})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoResource
		}
		if err != nil {
			return err
		}
		policy, err := q.LockClassPolicy(ctx, db.LockClassPolicyParams{TenantID: tid, Classification: res.Classification})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoClassPolicy(approvals.Classification(res.Classification))
		}
		if err != nil {
			return err
		}
		if _, err := q.FollowClassPolicy(ctx, db.FollowClassPolicyParams{ID: rid, TenantID: tid}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(policyChanged(tenantID, actor, resourceID, "classification "+res.Classification, policy)))
	})
}
