package approvals

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

const ownerT, recipT, thirdT = "owner-id", "recip-id", "third-id"

var (
	ownerAdmin = Person{Tenant: ownerT, Subject: "oa", Roles: []tenants.Role{tenants.RoleTenantAdmin, tenants.RoleApprover}}
	ownerAppr  = Person{Tenant: ownerT, Subject: "o1", Roles: []tenants.Role{tenants.RoleApprover}}
	ownerAppr2 = Person{Tenant: ownerT, Subject: "o2", Roles: []tenants.Role{tenants.RoleApprover}}
	recipAdmin = Person{Tenant: recipT, Subject: "ra", Roles: []tenants.Role{tenants.RoleTenantAdmin}}
	recipAppr  = Person{Tenant: recipT, Subject: "r1", Roles: []tenants.Role{tenants.RoleApprover}}
	recipUser  = Person{Tenant: recipT, Subject: "ru", Roles: []tenants.Role{tenants.RoleRequester}}
	thirdAdmin = Person{Tenant: thirdT, Subject: "ta", Roles: []tenants.Role{tenants.RoleTenantAdmin, tenants.RoleApprover, tenants.RoleRequester}}
)

func goodTerms() ShareTerms {
	return ShareTerms{
		Resources:  []Resource{{ID: "res-1", Name: "db", Policy: Policy{Levels: []Level{Read}}}},
		Recipients: Audience{Roles: []tenants.Role{tenants.RoleRequester}}, Level: Read,
		TermEnd: t0.Add(30 * 24 * time.Hour), Purpose: "joint incident response on the orders DB",
		Mode: PreApproved, MaxGrant: time.Hour,
	}
}

func TestShareStateTransitionsEveryPair(t *testing.T) {
	legal := map[[2]ShareState]bool{
		{ShareProposed, ShareAccepting}: true, {ShareProposed, ShareRejected}: true, {ShareProposed, ShareEnded}: true,
		{ShareAccepting, ShareActive}: true, {ShareAccepting, ShareDeclined}: true, {ShareAccepting, ShareEnded}: true,
		{ShareActive, ShareEnded}: true,
	}
	for _, from := range ShareStates() {
		for _, to := range ShareStates() {
			if got := from.CanMove(to); got != legal[[2]ShareState{from, to}] {
				t.Errorf("%s → %s: %v", from, to, got)
			}
		}
	}
}

func TestShareProposalRules(t *testing.T) {
	pol := DefaultSharePolicy()
	withWrite := goodTerms()
	withWrite.Level = ReadWrite
	longTerm := goodTerms()
	longTerm.TermEnd = t0.Add(91 * 24 * time.Hour)
	perAccessNone := goodTerms()
	perAccessNone.Mode = PerAccess
	noResources := goodTerms()
	noResources.Resources = nil
	for _, tc := range []struct {
		name      string
		who       Person
		recipient string
		active    bool
		terms     ShareTerms
		code      apperr.Code
		field     string
	}{
		{"an approver, not an admin", ownerAppr, recipT, true, goodTerms(), apperr.Forbidden, ""},
		{"an admin of another tenant", recipAdmin, recipT, true, goodTerms(), apperr.Forbidden, ""},
		{"recipient = owner", ownerAdmin, ownerT, true, goodTerms(), apperr.Invalid, "recipient"},
		{"suspended recipient", ownerAdmin, recipT, false, goodTerms(), apperr.Invalid, "recipient"},
		{"term beyond the maximum", ownerAdmin, recipT, true, longTerm, apperr.Invalid, "term_end"},
		{"write without the policy allowing it", ownerAdmin, recipT, true, withWrite, apperr.Invalid, "level"},
		{"per-access without approvals", ownerAdmin, recipT, true, perAccessNone, apperr.Invalid, "approvals"},
		{"no resource", ownerAdmin, recipT, true, noResources, apperr.Invalid, "resources"},
	} {
		err := CheckProposal(tc.who, ownerT, tc.recipient, tc.active, tc.terms, pol, t0)
		if apperr.CodeOf(err) != tc.code || (tc.field != "" && apperr.As(err).Fields[tc.field] == "") {
			t.Errorf("%s: %v (fields %v)", tc.name, err, apperr.As(err).Fields)
		}
	}
	if err := CheckProposal(ownerAdmin, ownerT, recipT, true, goodTerms(), pol, t0); err != nil {
		t.Fatal(err)
	}
}

func proposed() Share {
	pol := DefaultSharePolicy()
	pol.Required = 2
	return Share{Owner: ownerT, Recipient: recipT, Proposer: ownerAdmin, Terms: goodTerms(), Policy: pol, State: ShareProposed}
}

func TestOwnerApprovalsThenRecipientAcceptance(t *testing.T) {
	s := proposed()
	for _, tc := range []struct {
		name string
		who  Person
		code apperr.Code
	}{
		{"the proposer", ownerAdmin, apperr.Forbidden},
		{"a recipient approver", recipAppr, apperr.Forbidden},
		{"a third tenant", thirdAdmin, apperr.Forbidden},
	} {
		if err := s.DecideOwner(tc.who, true, "", t0); apperr.CodeOf(err) != tc.code {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := s.DecideOwner(ownerAppr, true, "", t0); err != nil || s.State != ShareProposed {
		t.Fatalf("first of two: %v %s", err, s.State)
	}
	if err := s.DecideOwner(ownerAppr, true, "", t0); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second vote: %v", err)
	}
	// The owner cannot accept for the recipient, nor can a recipient non-admin.
	if err := s.Accept(ownerAdmin, true, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("owner accepting: %v", err)
	}
	if err := s.DecideOwner(ownerAppr2, true, "", t0); err != nil || s.State != ShareAccepting {
		t.Fatalf("quorum: %v %s", err, s.State)
	}
	if err := s.Accept(recipUser, true, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("recipient non-admin accepting: %v", err)
	}
	if err := s.Accept(recipAdmin, false, ""); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("decline without comment: %v", err)
	}
	if err := s.Accept(recipAdmin, true, ""); err != nil || s.State != ShareActive {
		t.Fatalf("accept: %v %s", err, s.State)
	}
	if err := s.End(thirdAdmin, false); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a third tenant ending it: %v", err)
	}
	if err := s.End(recipAdmin, false); err != nil || s.State != ShareEnded {
		t.Fatalf("recipient ending it: %v", err)
	}
	if err := s.End(Person{}, true); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("ending twice: %v", err)
	}
	denied := proposed()
	if err := denied.DecideOwner(ownerAppr, false, "", t0); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("deny without comment: %v", err)
	}
	if err := denied.DecideOwner(ownerAppr, false, "not with them", t0); err != nil || denied.State != ShareRejected {
		t.Fatalf("deny: %v %s", err, denied.State)
	}
}

func TestAccessUnderAShare(t *testing.T) {
	s := proposed()
	s.State = ShareActive
	if _, err := s.CheckAccess(thirdAdmin, "res-1", Read, 0, t0); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a third tenant: %v", err)
	}
	if _, err := s.CheckAccess(recipAppr, "res-1", Read, 0, t0); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a recipient outside the audience: %v", err)
	}
	if _, err := s.CheckAccess(recipUser, "res-2", Read, 0, t0); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("an unshared resource: %v", err)
	}
	if _, err := s.CheckAccess(recipUser, "res-1", ReadWrite, 0, t0); apperr.As(err).Fields["level"] == "" {
		t.Fatalf("write under a read share: %v", err)
	}
	if d, err := s.CheckAccess(recipUser, "res-1", Read, 0, t0); err != nil || d != time.Hour {
		t.Fatalf("default grant: %s %v", d, err)
	}
	// Near the term end the grant is cut to end with the share.
	if d, err := s.CheckAccess(recipUser, "res-1", Read, 0, s.Terms.TermEnd.Add(-20*time.Minute)); err != nil || d != 20*time.Minute {
		t.Fatalf("grant near the term end: %s %v", d, err)
	}
	s.State = ShareEnded
	if _, err := s.CheckAccess(recipUser, "res-1", Read, 0, t0); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("under an ended share: %v", err)
	}
}

func TestPerAccessStepsAreConfinedToTheirTenant(t *testing.T) {
	s := proposed()
	s.State = ShareActive
	s.Terms.Mode, s.Terms.RecipientApprovals, s.Terms.OwnerApprovals = PerAccess, 1, 1
	r, err := NewRequest(recipUser, s.AccessPolicy(), Submission{Level: Read}, t0)
	if err != nil {
		t.Fatal(err)
	}
	// An owner approver cannot decide the recipient step, nor a third tenant's approver.
	for _, p := range []Person{ownerAppr, thirdAdmin} {
		if err := r.Decide(p, true, "", 0, t0); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("%s deciding the recipient step: %v", p.Subject, err)
		}
	}
	if err := r.Decide(recipAppr, true, "", 0, t0); err != nil || r.State != Pending {
		t.Fatalf("recipient step: %v %s", err, r.State)
	}
	if err := r.Decide(Person{Tenant: recipT, Subject: "r2", Roles: []tenants.Role{tenants.RoleApprover}}, true, "", 0, t0); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a recipient approver deciding the owner step: %v", err)
	}
	if err := r.Decide(ownerAppr, true, "", 0, t0); err != nil || r.State != Approved {
		t.Fatalf("owner step: %v %s", err, r.State)
	}
	if _, err := NewRequest(thirdAdmin, s.AccessPolicy(), Submission{Level: Read}, t0); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a third tenant requesting: %v", err)
	}
}

func TestSharePolicyValidation(t *testing.T) {
	if err := DefaultSharePolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := SharePolicy{Required: 0, MaxTerm: time.Hour}
	f := apperr.As(bad.Validate()).Fields
	if f["approvers"] == "" || f["required"] == "" || f["max_term_days"] == "" {
		t.Fatalf("fields: %v", f)
	}
}
