package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// RequestStore keeps the resource catalog, access requests and votes.
// Every query is scoped to a tenant ID taken from the caller's session.
type RequestStore struct {
	pool *pgxpool.Pool
	jobs jobs.Inserter
	now  func() time.Time
}

// NewRequestStore returns a store over pool that enqueues follow-up jobs
// with inserter, inside the transaction of the change.
func NewRequestStore(pool *pgxpool.Pool, inserter jobs.Inserter, now func() time.Time) *RequestStore {
	return &RequestStore{pool: pool, jobs: inserter, now: now}
}

var _ approvals.Store = (*RequestStore)(nil)

var errNoResource = apperr.New(apperr.NotFound, "There is no such resource in your organization's catalog.")
var errNoRequest = apperr.New(apperr.NotFound, "There is no such request in your organization.")

func parseIDs(tenantID, id string, notFound error) (uuid.UUID, uuid.UUID, error) {
	t, err := uuid.Parse(tenantID)
	if err != nil {
		return t, t, notFound
	}
	i, err := uuid.Parse(id)
	if err != nil {
		return t, i, notFound
	}
	return t, i, nil
}

// AddResource validates and adds a catalog entry for the tenant, audited,
// and returns its ID.
func (s *RequestStore) AddResource(ctx context.Context, tenantID string, r approvals.Resource, actor string, meta audit.Meta) (string, error) {
	if r.BreakGlass.MaxDuration == 0 {
		r.BreakGlass.MaxDuration = approvals.DefaultBreakGlassWindow
	}
	if err := approvals.CheckResource(r); err != nil {
		return "", err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return "", errNoResource
	}
	var id uuid.UUID
	err = InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		policy, err := json.Marshal(r.Policy)
		if r.PolicyFromClass {
			policy, err = q.LockClassPolicy(ctx, db.LockClassPolicyParams{TenantID: tid, Classification: string(r.Classification)})
			if errors.Is(err, pgx.ErrNoRows) {
				return errNoClassPolicy(r.Classification)
			}
		}
		if err != nil {
			return err
		}
		if r.Cloud() {
			b, err := cloudBinding(ctx, q, tid, r.BindingID)
			if err != nil {
				return err
			}
			r.StoreKind, r.Mount = b.Kind, b.Location
		}
		id, err = q.InsertResource(ctx, db.InsertResourceParams{
			TenantID: tid, Name: r.Name, Description: r.Description, OwnerTeam: r.OwnerTeam,
			Classification: string(r.Classification), StoreKind: storeKind(r), Mount: r.Mount, Path: r.Path, Policy: policy, Actor: actor,
			BindingID:  bindingRef(r.BindingID),
			Breakglass: r.BreakGlass.Enabled, BreakglassMaxSeconds: int64(r.BreakGlass.MaxDuration / time.Second),
			BreakglassRotate: r.BreakGlass.RotateAfter, BreakglassDrill: r.BreakGlass.Drill, PolicyFromClass: r.PolicyFromClass,
		})
		if err != nil {
			return conflictOr(err, "resources_tenant_id_mount_path_key", "path", "That secret is in the catalog already (if it was retired, restore it from its page).")
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{
			TenantID: tenantID, Actor: actor, Action: "resource.added", Target: r.Mount + "/" + r.Path, Outcome: audit.Success,
		}))
	})
	return id.String(), err
}

// Submit checks who's submission against the resource's current policy and
// records the pending request with a snapshot of that policy, audited. A
// resource of another tenant, or a retired one, is apperr.NotFound, exactly
// like a missing one (the resource is read-locked against a retire).
func (s *RequestStore) Submit(ctx context.Context, tenantID, resourceID string, who approvals.Person, sub approvals.Submission, meta audit.Meta) (string, error) {
	tid, rid, err := parseIDs(tenantID, resourceID, errNoResource)
	if err != nil {
		return "", err
	}
	var id uuid.UUID
	err = accessTx(ctx, s.pool, func(q *db.Queries, tx pgx.Tx) error {
		res, err := lockLiveResource(ctx, q, tid, rid) // against a concurrent retire
		if err != nil {
			return err
		}
		if err := blocked(ctx, q, blockKey{Tenant: tid, Email: who.Email, Resource: rid}); err != nil {
			return err
		}
		var policy approvals.Policy
		if err := json.Unmarshal(res.Policy, &policy); err != nil {
			return fmt.Errorf("resource policy: %w", err)
		}
		now := s.now()
		r, err := approvals.NewRequest(who, policy, sub, now)
		if err != nil {
			return err
		}
		// One open request per person and resource: a double submit changes nothing.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", tenantID+"/"+resourceID+"/"+who.Subject); err != nil {
			return err
		}
		open, err := q.CountOpenRequestsOf(ctx, db.CountOpenRequestsOfParams{TenantID: tid, ResourceID: rid, Subject: who.Subject})
		if err != nil {
			return err
		}
		if open > 0 {
			return apperr.New(apperr.Conflict, "You already have an open request or grant for this resource; see My requests.")
		}
		snapshot, _ := json.Marshal(r.Policy)
		person, _ := json.Marshal(who)
		id, err = q.InsertRequest(ctx, db.InsertRequestParams{
			TenantID: tid, ResourceID: rid, RequesterSubject: who.Subject, RequesterEmail: who.Email, Requester: person,
			Level: string(r.Level), DurationSeconds: int64(r.Duration / time.Second), Justification: sub.Justification,
			Ticket: sub.Ticket, Policy: snapshot, SubmittedAt: now,
		})
		if err != nil {
			return err
		}
		people, err := q.ListMembersOf(ctx, tid)
		if err != nil {
			return err
		}
		var to []string
		for _, p := range r.EligibleApprovers(peopleFrom(people, tenantID)) {
			to = append(to, p.Email)
		}
		if err := s.noticeAbout(ctx, tx, tenantID, id.String(), to, notify.Message{Subject: "Access request: " + res.Name,
			Text: who.Email + " asks for " + string(r.Level) + " access for " + r.Duration.String() + ": " + sub.Justification,
			Link: "/requests/" + id.String()}); err != nil {
			return err
		}
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{
			TenantID: tenantID, Actor: actor(who), Action: "request.submitted", Target: res.Name, Outcome: audit.Success,
			Detail: map[string]string{"request": id.String(), "level": string(r.Level), "duration": r.Duration.String()},
		}))
	})
	return id.String(), err
}

// Decide records approver's decision on the request under the request's
// row lock, so concurrent votes are counted exactly once: the vote, the new
// state and — when the last step reaches its quorum — the grant job are
// committed together, audited. It returns the request's new state, or the
// domain's apperr (nothing changes then).
func (s *RequestStore) Decide(ctx context.Context, tenantID, requestID string, approver approvals.Person, approve bool,
	comment string, shorten time.Duration, meta audit.Meta) (approvals.State, error) {
	tid, rid, err := parseIDs(tenantID, requestID, errNoRequest)
	if err != nil {
		return "", err
	}
	var state approvals.State
	err = accessTx(ctx, s.pool, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.LockRequest(ctx, db.LockRequestParams{ID: rid, TenantID: tid})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoRequest
		}
		if err != nil {
			return err
		}
		if err := blocked(ctx, q, blockKey{Tenant: row.TenantID, RequesterTenant: uuidOr(row.RequesterTenantID), Email: row.RequesterEmail,
			Resource: row.ResourceID, Share: row.ShareID, Request: row.ID}); err != nil {
			return err
		}
		r, err := loadRequest(ctx, q, row)
		if err != nil {
			return err
		}
		now := s.now()
		before := r.CurrentStep()
		if err := r.Decide(approver, approve, comment, shorten, now); err != nil {
			return err
		}
		if r.State == approvals.Pending && r.CurrentStep() != before {
			if err := s.noticeNextStep(ctx, q, tx, row, r); err != nil {
				return err
			}
		}
		v := r.Votes[len(r.Votes)-1]
		person, _ := json.Marshal(approver)
		if err := q.InsertVote(ctx, db.InsertVoteParams{RequestID: rid, Step: int32(v.Step), ApproverSubject: approver.Subject,
			Approver: person, Approve: approve, Comment: v.Comment, DecidedAt: now}); err != nil {
			return err
		}
		if err := q.UpdateRequestDecision(ctx, db.UpdateRequestDecisionParams{ID: rid, State: string(r.State),
			DurationSeconds: int64(r.Duration / time.Second), CurrentStep: int32(r.CurrentStep()), UpdatedAt: now}); err != nil {
			return err
		}
		action := "request.vote"
		switch r.State {
		case approvals.Denied:
			action = "request.denied"
			if err := s.noticeAbout(ctx, tx, tenantID, requestID, []string{r.Requester.Email}, notify.Message{Subject: "Request denied",
				Text: approver.Email + " denied your request: " + v.Comment, Link: "/requests/" + requestID}); err != nil {
				return err
			}
		case approvals.Approved:
			action = "request.approved"
			if err := s.noticeAbout(ctx, tx, tenantID, requestID, []string{r.Requester.Email}, notify.Message{Subject: "Request approved",
				Text: "Your request is approved; the access is being prepared.", Link: "/requests/" + requestID},
				river.InsertManyParams{Args: jobs.IssueGrantArgs{TenantID: tenantID, RequestID: requestID}}); err != nil {
				return err
			}
		}
		state = r.State
		return appendAudit(ctx, q, now, meta.Stamp(audit.Event{
			TenantID: tenantID, Actor: actor(approver), Action: action, Target: requestID, Outcome: audit.Success,
			Detail: map[string]string{"step": strconv.Itoa(v.Step + 1), "approve": strconv.FormatBool(approve)},
		}))
	})
	return state, err
}

// noticeNextStep tells the approvers of the request's current step (in the
// step's tenant: a share's owner step is decided in the owner's) that it
// waits for them.
func (s *RequestStore) noticeNextStep(ctx context.Context, q *db.Queries, tx pgx.Tx, row db.Request, r approvals.Request) error {
	step := r.Policy.Steps[r.CurrentStep()]
	tenant := step.Approvers.Tenant
	if tenant == "" {
		tenant = row.TenantID.String()
	}
	tid, err := uuid.Parse(tenant)
	if err != nil {
		return err
	}
	members, err := q.ListMembersOf(ctx, tid)
	if err != nil {
		return err
	}
	var to []string
	for _, p := range r.EligibleApprovers(peopleFrom(members, tenant)) {
		to = append(to, p.Email)
	}
	return s.noticeAbout(ctx, tx, tenant, row.ID.String(), to, notify.Message{Subject: "Access request waits for you (" + step.Name + ")",
		Text: r.Requester.Email + " asks for " + string(r.Level) + " access for " + r.Duration.String() + ".", Link: "/requests/" + row.ID.String()})
}

// loadRequest rebuilds the domain request from its row and its votes.
func loadRequest(ctx context.Context, q *db.Queries, row db.Request) (approvals.Request, error) {
	votes, err := q.ListVotes(ctx, row.ID)
	if err != nil {
		return approvals.Request{}, err
	}
	return requestWith(row, votes)
}

// requestWith rebuilds the domain request from its row and votes.
func requestWith(row db.Request, votes []db.Vote) (approvals.Request, error) {
	r := approvals.Request{Level: approvals.Level(row.Level), Duration: time.Duration(row.DurationSeconds) * time.Second,
		State: approvals.State(row.State), SubmittedAt: row.SubmittedAt}
	if err := json.Unmarshal(row.Requester, &r.Requester); err != nil {
		return r, fmt.Errorf("request requester: %w", err)
	}
	if err := json.Unmarshal(row.Policy, &r.Policy); err != nil {
		return r, fmt.Errorf("request policy: %w", err)
	}
	for _, v := range votes {
		var p approvals.Person
		if err := json.Unmarshal(v.Approver, &p); err != nil {
			return r, fmt.Errorf("vote approver: %w", err)
		}
		r.Votes = append(r.Votes, approvals.Vote{Step: int(v.Step), Approver: p, Approve: v.Approve, Comment: v.Comment, At: v.DecidedAt})
	}
	return r, nil
}

func actor(p approvals.Person) string { return p.Email + " (" + p.Subject + ")" }

func auditOf(tenantID string, who approvals.Person, action, target string) audit.Event {
	return audit.Event{TenantID: tenantID, Actor: actor(who), Action: action, Target: target, Outcome: audit.Success}
}

// SetPolicy replaces a resource's access policy, audited. Requests already
// submitted keep the snapshot they were submitted under.
func (s *RequestStore) SetPolicy(ctx context.Context, tenantID, resourceID string, p approvals.Policy, actor string, meta audit.Meta) error {
	if err := p.Validate(); err != nil {
		return err
	}
	tid, rid, err := parseIDs(tenantID, resourceID, errNoResource)
	if err != nil {
		return err
	}
	policy, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		n, err := q.UpdateResourcePolicy(ctx, db.UpdateResourcePolicyParams{ID: rid, TenantID: tid, Policy: policy})
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoResource
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(policyChanged(tenantID, actor, resourceID, "own", policy)))
	})
}

// policyChanged is the audit event of a resource's policy set to policy
// (JSON) from source: "own", or a classification's.
func policyChanged(tenantID, actor, resourceID, source string, policy []byte) audit.Event {
	return audit.Event{TenantID: tenantID, Actor: actor, Action: "resource.policy_changed", Target: resourceID, Outcome: audit.Success,
		Detail: map[string]string{"source": source, "policy": string(policy)}}
}

// VaultMount returns the tenant's bound Vault KV v2 mount, or apperr.NotFound.
func (s *RequestStore) VaultMount(ctx context.Context, tenantID string) (string, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return "", errNoBinding
	}
	m, err := db.New(s.pool).GetVaultBinding(ctx, tid)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNoBinding
	}
	return m, err
}

var errNoBinding = apperr.New(apperr.NotFound, "Your organization has no Vault mount bound yet.")
