package approvals

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

// A share lets another organization (the recipient) use secrets of the
// owner's catalog. Nothing crosses the boundary until the owner's approvers
// approve and the recipient's admin accepts; ending it ends every access
// under it. These are its rules and its lifecycle.

// ShareState is where a share is in its lifecycle.
type ShareState string

// The share states.
const (
	ShareProposed  ShareState = "proposed"            // waiting for the owner's approvers
	ShareAccepting ShareState = "awaiting-acceptance" // approved by the owner; the recipient's admin decides
	ShareActive    ShareState = "active"
	ShareRejected  ShareState = "rejected" // denied by an owner approver
	ShareDeclined  ShareState = "declined" // declined by the recipient
	ShareEnded     ShareState = "ended"    // ended by either side or at its term end
)

var shareMoves = map[ShareState][]ShareState{
	ShareProposed:  {ShareAccepting, ShareRejected, ShareEnded},
	ShareAccepting: {ShareActive, ShareDeclined, ShareEnded},
	ShareActive:    {ShareEnded},
}

// ShareStates lists every share state.
func ShareStates() []ShareState {
	return []ShareState{ShareProposed, ShareAccepting, ShareActive, ShareRejected, ShareDeclined, ShareEnded}
}

// CanMove reports whether a share in state s may move to next.
func (s ShareState) CanMove(next ShareState) bool { return slices.Contains(shareMoves[s], next) }

// Open reports whether the share can still change (not rejected, declined or ended).
func (s ShareState) Open() bool { return len(shareMoves[s]) > 0 }

func (s ShareState) move(next ShareState) (ShareState, error) {
	if !s.CanMove(next) {
		return s, apperr.New(apperr.Conflict, "A share that is "+string(s)+" cannot become "+string(next)+".")
	}
	return next, nil
}

// ShareMode is how recipients get access under a share.
type ShareMode string

// The modes.
const (
	PreApproved ShareMode = "pre-approved" // listed recipients get a credential on request
	PerAccess   ShareMode = "per-access"   // each request is approved per the share's counts
)

// SharePolicy is the owner organization's rule for sharing: who approves a
// proposed share, how many, and the longest term.
type SharePolicy struct {
	Approvers Audience      `json:"approvers"`
	Required  int           `json:"required"`
	MaxTerm   time.Duration `json:"max_term_ns"`
}

// DefaultSharePolicy is an organization's share policy: one approver, a
// term of at most 90 days.
func DefaultSharePolicy() SharePolicy {
	return SharePolicy{Approvers: Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1, MaxTerm: 90 * 24 * time.Hour}
}

// MaxShareGrant bounds a grant under a share.
const MaxShareGrant = 24 * time.Hour

// ShareTerms are what a proposal fixes.
type ShareTerms struct {
	Resources          []Resource // of the owner's catalog
	Recipients         Audience   // recipient roles or groups allowed to use it
	Level              Level
	TermEnd            time.Time
	Purpose            string
	Mode               ShareMode
	MaxGrant           time.Duration // the longest grant under the share
	RecipientApprovals int           // per-access: approvals needed from the recipient's approvers
	OwnerApprovals     int           // per-access: approvals needed from the owner's approvers
}

// CheckProposal validates a share proposed by who (a tenant admin of the
// owner tenant) to the recipient tenant under the owner's policy. It returns
// an apperr: Forbidden when who may not propose, Invalid with a message per
// bad field; nothing is created then.
func CheckProposal(who Person, owner, recipient string, recipientActive bool, t ShareTerms, pol SharePolicy, now time.Time) error {
	if who.Tenant != owner || !hasRole(who, tenants.RoleTenantAdmin) {
		return apperr.New(apperr.Forbidden, "Only a tenant admin of the owner organization can propose a share.")
	}
	f := map[string]string{}
	switch {
	case recipient == "":
		f["recipient"] = "Pick the organization to share with."
	case recipient == owner:
		f["recipient"] = "An organization cannot share with itself."
	case !recipientActive:
		f["recipient"] = "That organization is not active."
	}
	if len(t.Resources) == 0 || len(t.Resources) > 20 {
		f["resources"] = "Pick 1 to 20 resources of your catalog."
	}
	if len(t.Recipients.Roles) == 0 && len(t.Recipients.Groups) == 0 {
		f["recipients"] = "Name the recipient roles or IdP groups who may use it."
	}
	for _, r := range t.Recipients.Roles {
		if !r.Valid() || r == tenants.RolePlatformOperator {
			f["recipients"] = "Roles are requester, approver, responder, auditor or tenant-admin."
		}
	}
	switch t.Level {
	case Read:
	case ReadWrite:
		for _, r := range t.Resources {
			if !slices.Contains(r.Policy.Levels, ReadWrite) {
				f["level"] = "Write access needs every shared resource's policy to allow read-write; " + r.Name + " does not."
			}
		}
	default:
		f["level"] = "Pick read or read-write."
	}
	switch {
	case !t.TermEnd.After(now.Add(time.Hour)):
		f["term_end"] = "The term must end at least an hour from now."
	case t.TermEnd.Sub(now) > pol.MaxTerm:
		f["term_end"] = "Your organization allows shares of at most " + days(pol.MaxTerm) + "."
	}
	if n := len([]rune(strings.TrimSpace(t.Purpose))); n < 10 || n > 500 {
		f["purpose"] = "Say what the share is for (10 to 500 characters)."
	}
	if t.MaxGrant < time.Minute || t.MaxGrant > MaxShareGrant {
		f["max_grant"] = "Give a longest grant between 1 minute and 24 hours."
	}
	switch t.Mode {
	case PreApproved:
	case PerAccess:
		if t.RecipientApprovals < 0 || t.OwnerApprovals < 0 || t.RecipientApprovals > 10 || t.OwnerApprovals > 10 ||
			t.RecipientApprovals+t.OwnerApprovals == 0 {
			f["approvals"] = "Per-access sharing needs 1 to 10 approvals from the recipient's approvers, the owner's, or both."
		}
	default:
		f["mode"] = "Pick pre-approved or per-access."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The share needs correcting.", f)
	}
	return nil
}

func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// ShareVote is one owner approver's decision on a proposed share.
type ShareVote struct {
	Approver Person
	Approve  bool
	Comment  string
	At       time.Time
}

// Share is a share with the policy snapshot it was proposed under. Its
// methods apply the rules; the caller persists the result under the
// share's row lock.
type Share struct {
	ID        string
	Owner     string // tenant IDs
	Recipient string
	Proposer  Person
	Terms     ShareTerms
	Policy    SharePolicy // the owner's share policy when proposed
	Votes     []ShareVote
	State     ShareState
}

// CheckOwnerVoter says whether p may decide the proposed share now: an
// owner approver under the share policy, not its proposer, not voted yet.
func (s Share) CheckOwnerVoter(p Person) error {
	if s.State != ShareProposed {
		return apperr.New(apperr.Conflict, "This share is "+string(s.State)+": the owner's approvers can no longer decide it.")
	}
	if p.Tenant != s.Owner || !s.Policy.Approvers.Includes(p) {
		return apperr.New(apperr.Forbidden, "Only the owner organization's share approvers decide a proposed share.")
	}
	if p.Subject == s.Proposer.Subject {
		return apperr.New(apperr.Forbidden, "Nobody can approve a share they proposed.")
	}
	for _, v := range s.Votes {
		if v.Approver.Subject == p.Subject {
			return apperr.New(apperr.Conflict, "You have already decided this share.")
		}
	}
	return nil
}

// CheckAcceptor says whether p may accept or decline the share: a tenant
// admin of the recipient.
func (s Share) CheckAcceptor(p Person) error {
	if p.Tenant != s.Recipient || !hasRole(p, tenants.RoleTenantAdmin) {
		return apperr.New(apperr.Forbidden, "Only a tenant admin of the recipient organization can accept or decline a share.")
	}
	return nil
}

// DecideOwner records an owner approver's decision on a proposed share: no
// self-approval, one vote each, a denial needs a comment and rejects it;
// the quorum moves it to awaiting acceptance.
func (s *Share) DecideOwner(p Person, approve bool, comment string, now time.Time) error {
	if err := s.CheckOwnerVoter(p); err != nil {
		return err
	}
	comment = strings.TrimSpace(comment)
	if !approve && comment == "" {
		return apperr.InvalidFields("Say why.", map[string]string{"comment": "A denial needs a comment for the proposer."})
	}
	s.Votes = append(s.Votes, ShareVote{Approver: p, Approve: approve, Comment: comment, At: now})
	if !approve {
		s.State = ShareRejected
		return nil
	}
	n := 0
	for _, v := range s.Votes {
		if v.Approve {
			n++
		}
	}
	if n >= s.Policy.Required {
		s.State = ShareAccepting
	}
	return nil
}

// Accept records the recipient admin's acceptance or (with a comment)
// refusal of a share the owner approved.
func (s *Share) Accept(p Person, accept bool, comment string) error {
	if err := s.CheckAcceptor(p); err != nil {
		return err
	}
	if !accept && strings.TrimSpace(comment) == "" {
		return apperr.InvalidFields("Say why.", map[string]string{"comment": "Declining needs a comment for the owner."})
	}
	next := ShareActive
	if !accept {
		next = ShareDeclined
	}
	st, err := s.State.move(next)
	s.State = st
	return err
}

// End ends the share at the wish of a tenant admin of either side (or of
// the system at its term end: p is then the zero Person and system true).
func (s *Share) End(p Person, system bool) error {
	if !system && ((p.Tenant != s.Owner && p.Tenant != s.Recipient) || !hasRole(p, tenants.RoleTenantAdmin)) {
		return apperr.New(apperr.Forbidden, "Only a tenant admin of either organization can end a share.")
	}
	st, err := s.State.move(ShareEnded)
	s.State = st
	return err
}

// Shares reports whether the share covers the resource ID.
func (s Share) Shares(resourceID string) bool {
	return slices.ContainsFunc(s.Terms.Resources, func(r Resource) bool { return r.ID == resourceID })
}

// CheckAccess applies the share's terms to a request by who (a recipient
// member) for the resource: the share is active, who is in its recipients,
// the resource is shared, the level allowed, and the duration (default the
// share's longest grant) ends before the term does. It returns the
// duration, or an apperr (NotFound for a resource not shared, Forbidden,
// Invalid per field).
func (s Share) CheckAccess(who Person, resourceID string, level Level, d time.Duration, now time.Time) (time.Duration, error) {
	if s.State != ShareActive {
		return 0, apperr.New(apperr.Conflict, "This share is "+string(s.State)+": nothing can be requested under it.")
	}
	if who.Tenant != s.Recipient || !s.Terms.Recipients.Includes(who) {
		return 0, apperr.New(apperr.Forbidden, "You are not among the recipients of this share.")
	}
	if !s.Shares(resourceID) {
		return 0, apperr.New(apperr.NotFound, "That resource is not part of this share.")
	}
	f := map[string]string{}
	if level != Read && (level != ReadWrite || s.Terms.Level != ReadWrite) {
		f["level"] = "This share allows " + string(s.Terms.Level) + " access."
	}
	if d == 0 {
		d = s.Terms.MaxGrant
	}
	left := s.Terms.TermEnd.Sub(now).Truncate(time.Minute)
	d = min(d, max(left, 0))
	switch {
	case d < time.Minute:
		f["duration"] = "Ask for at least 1 minute, before the share's term ends."
	case d > s.Terms.MaxGrant:
		f["duration"] = "The longest grant under this share is " + s.Terms.MaxGrant.String() + "."
	}
	if len(f) > 0 {
		return 0, apperr.InvalidFields("The request needs correcting.", f)
	}
	return d, nil
}

// AccessPolicy is the policy a per-access request under the share is
// decided by: a step for the recipient's approvers and one for the owner's,
// each confined to its tenant, as the share's counts say.
func (s Share) AccessPolicy() Policy {
	p := Policy{Requesters: s.Terms.Recipients, DefaultDuration: s.Terms.MaxGrant, MaxDuration: s.Terms.MaxGrant,
		Levels: []Level{s.Terms.Level}, PendingTimeout: 24 * time.Hour}
	p.Requesters.Tenant = s.Recipient
	approvers := func(tenant string) Audience {
		return Audience{Roles: []tenants.Role{tenants.RoleApprover}, Tenant: tenant}
	}
	if s.Terms.RecipientApprovals > 0 {
		p.Steps = append(p.Steps, Step{Name: "recipient", Approvers: approvers(s.Recipient), Required: s.Terms.RecipientApprovals})
	}
	if s.Terms.OwnerApprovals > 0 {
		p.Steps = append(p.Steps, Step{Name: "owner", Approvers: approvers(s.Owner), Required: s.Terms.OwnerApprovals})
	}
	return p
}

// Validate checks a share policy (tenant admins edit it), returning an
// apperr.Invalid per bad field.
func (p SharePolicy) Validate() error {
	f := map[string]string{}
	if len(p.Approvers.Roles) == 0 && len(p.Approvers.Groups) == 0 {
		f["approvers"] = "Name who approves shares."
	}
	if p.Required < 1 || p.Required > 10 {
		f["required"] = "Give 1 to 10 approvals."
	}
	if p.MaxTerm < 24*time.Hour || p.MaxTerm > 365*24*time.Hour {
		f["max_term_days"] = "Give 1 to 365 days."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The share policy needs correcting.", f)
	}
	return nil
}
