package approvals

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

var (
	t0        = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	requester = Person{Subject: "req", Roles: []tenants.Role{tenants.RoleRequester}}
	admin     = Person{Subject: "adm", Roles: []tenants.Role{tenants.RoleTenantAdmin, tenants.RoleRequester, tenants.RoleApprover}}
	appr1     = Person{Subject: "a1", Roles: []tenants.Role{tenants.RoleApprover}}
	appr2     = Person{Subject: "a2", Roles: []tenants.Role{tenants.RoleApprover}}
	secOfc    = Person{Subject: "sec", Groups: []string{"security"}}
	secAppr   = Person{Subject: "a3", Roles: []tenants.Role{tenants.RoleApprover}, Groups: []string{"security"}}
)

func newTwoStep(t *testing.T, who Person) Request {
	t.Helper()
	r, err := NewRequest(who, twoStepPolicy(), Submission{Level: Read, Justification: "debugging INC-7 outage", Ticket: "INC-7"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestQuorumAndOrderedSteps(t *testing.T) {
	r := newTwoStep(t, requester)
	// Step 2's approver cannot act before step 1 is complete.
	if err := r.Decide(secOfc, true, "", 0, t0); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("security before team: %v", err)
	}
	if err := r.Decide(appr1, true, "", 0, t0); err != nil {
		t.Fatal(err)
	}
	if r.State != Pending || r.CurrentStep() != 0 {
		t.Fatalf("after 1 of 2: %s, step %d", r.State, r.CurrentStep())
	}
	if err := r.Decide(appr1, true, "", 0, t0); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second vote by the same approver: %v", err)
	}
	if err := r.Decide(appr2, true, "", 0, t0); err != nil {
		t.Fatal(err)
	}
	if r.State != Pending || r.CurrentStep() != 1 {
		t.Fatalf("after step 1: %s, step %d", r.State, r.CurrentStep())
	}
	// Team approvers are not security approvers.
	if err := r.Decide(appr1, true, "", 0, t0); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("team approver at the security step: %v", err)
	}
	// One vote per approver per step: an approver in both audiences may act at each step.
	if err := r.Decide(secAppr, true, "", 0, t0); err != nil {
		t.Fatal(err)
	}
	if r.State != Approved {
		t.Fatalf("state %s after every step", r.State)
	}
	if err := r.Decide(secOfc, true, "", 0, t0); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("vote on an approved request: %v", err)
	}
}

func TestNoSelfApprovalEvenForTenantAdmins(t *testing.T) {
	r := newTwoStep(t, admin)
	err := r.Decide(admin, true, "", 0, t0)
	if apperr.CodeOf(err) != apperr.Forbidden || len(r.Votes) != 0 {
		t.Fatalf("self-approval: %v, %d votes", err, len(r.Votes))
	}
	if r.Eligible(admin) {
		t.Fatal("the requester is listed as eligible")
	}
}

func TestDenialNeedsACommentAndEndsTheRequest(t *testing.T) {
	r := newTwoStep(t, requester)
	if err := r.Decide(appr1, false, "  ", 0, t0); apperr.CodeOf(err) != apperr.Invalid || len(r.Votes) != 0 {
		t.Fatalf("denial without comment: %v", err)
	}
	if err := r.Decide(appr1, false, "use the read replica", 0, t0); err != nil {
		t.Fatal(err)
	}
	if r.State != Denied || r.Votes[0].Comment != "use the read replica" {
		t.Fatalf("state %s", r.State)
	}
}

func TestApproversMayShortenButNeverExtend(t *testing.T) {
	r := newTwoStep(t, requester) // 1h by default
	if err := r.Decide(appr1, true, "", 2*time.Hour, t0); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("extension: %v", err)
	}
	if err := r.Decide(appr1, true, "", 30*time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if err := r.Decide(appr2, true, "", 45*time.Minute, t0); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("extension back past a shortening: %v", err)
	}
	if r.Duration != 30*time.Minute {
		t.Fatalf("duration %s", r.Duration)
	}
}

func TestTimeoutCancelAndSnapshot(t *testing.T) {
	p := twoStepPolicy()
	r, err := NewRequest(requester, p, Submission{Level: Read, Justification: "debugging INC-7 outage", Ticket: "INC-7"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Loosening the policy afterwards does not touch the request's snapshot.
	p.Steps[0].Required = 1
	p.Steps[0].Approvers.Roles[0] = tenants.RoleRequester
	if r.Policy.Steps[0].Required != 2 || r.Policy.Steps[0].Approvers.Roles[0] != tenants.RoleApprover {
		t.Fatal("the request's policy snapshot changed with the policy")
	}
	if r.TimeOut(t0.Add(23 * time.Hour)) {
		t.Fatal("timed out early")
	}
	// Past its timeout, before the sweep closes it, a request takes no vote.
	late := newTwoStep(t, requester)
	if err := late.Decide(appr1, true, "", 0, t0.Add(24*time.Hour)); apperr.CodeOf(err) != apperr.Conflict || len(late.Votes) != 0 || late.State != Pending {
		t.Fatalf("a vote after the pending timeout: %v, %d votes, %s", err, len(late.Votes), late.State)
	}
	if err := late.Decide(appr1, true, "", 0, t0.Add(24*time.Hour-time.Second)); err != nil {
		t.Fatalf("a vote just before the pending timeout: %v", err)
	}
	if err := (&Request{Requester: requester, State: Pending}).Cancel(appr1); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("cancel by another: %v", err)
	}
	if !r.TimeOut(t0.Add(24*time.Hour)) || r.State != TimedOut {
		t.Fatalf("not timed out: %s", r.State)
	}
	if err := r.Cancel(requester); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("cancel after timeout: %v", err)
	}
}

func TestEligibleApproversAreShownToTheRequester(t *testing.T) {
	r := newTwoStep(t, requester)
	got := r.EligibleApprovers([]Person{requester, appr1, appr2, secOfc, admin})
	var subjects []string
	for _, p := range got {
		subjects = append(subjects, p.Subject)
	}
	if len(subjects) != 3 || subjects[0] != "a1" || subjects[1] != "a2" || subjects[2] != "adm" {
		t.Fatalf("eligible approvers %v", subjects)
	}
}
