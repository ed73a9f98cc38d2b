package approvals

import (
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// Vote is one approver's decision at one step.
type Vote struct {
	Step     int // index into the policy's steps
	Approver Person
	Approve  bool
	Comment  string
	At       time.Time
}

// Request is a just-in-time access request with the policy snapshot it was
// submitted under. Its methods apply the rules; the caller persists the
// result under a row lock in the same transaction, so concurrent votes are
// counted exactly once.
type Request struct {
	Requester   Person
	Policy      Policy
	Level       Level
	Duration    time.Duration // shortened by approvers, never extended
	State       State
	Votes       []Vote
	SubmittedAt time.Time
}

// NewRequest checks sub by who against policy and returns the pending
// request, or CheckSubmission's error.
func NewRequest(who Person, policy Policy, sub Submission, now time.Time) (Request, error) {
	d, err := policy.CheckSubmission(who, sub)
	if err != nil {
		return Request{}, err
	}
	return Request{Requester: who, Policy: policy.Clone(), Level: sub.Level, Duration: d, State: Pending, SubmittedAt: now}, nil
}

// CurrentStep returns the index of the first step without its quorum, or
// len(steps) when every step has it.
func (r Request) CurrentStep() int {
	for i, s := range r.Policy.Steps {
		if r.approvals(i) < s.Required {
			return i
		}
	}
	return len(r.Policy.Steps)
}

func (r Request) approvals(step int) int {
	n := 0
	for _, v := range r.Votes {
		if v.Step == step && v.Approve {
			n++
		}
	}
	return n
}

// Eligible reports whether p may decide the request now: not its requester,
// in the current step's approvers, and not yet voted at that step.
func (r Request) Eligible(p Person) bool {
	return r.checkVoter(p) == nil
}

func (r Request) checkVoter(p Person) error {
	if p.Subject == r.Requester.Subject {
		return apperr.New(apperr.Forbidden, "Nobody can approve their own request.")
	}
	step := r.CurrentStep()
	if step >= len(r.Policy.Steps) || !r.Policy.Steps[step].Approvers.Includes(p) {
		return apperr.New(apperr.Forbidden, "You are not an approver for this step of the request.")
	}
	for _, v := range r.Votes {
		if v.Step == step && v.Approver.Subject == p.Subject {
			return apperr.New(apperr.Conflict, "You have already decided this step of the request.")
		}
	}
	return nil
}

// Decide records p's decision. An approval may shorten the duration
// (shorten > 0) but never extend it; a denial needs a comment and ends the
// request. When the last step reaches its quorum the request is approved.
// It returns an apperr: Conflict for a request no longer pending or a second
// vote, Forbidden for self-approval or an ineligible approver, Invalid for
// a denial without comment or a longer duration; nothing changes then.
func (r *Request) Decide(p Person, approve bool, comment string, shorten time.Duration, now time.Time) error {
	if r.State != Pending {
		return apperr.New(apperr.Conflict, "This request is "+string(r.State)+": it can no longer be decided.")
	}
	if r.overdue(now) {
		return apperr.New(apperr.Conflict, "This request waited longer than its policy allows: it is closing as timed out and can no longer be decided.")
	}
	if err := r.checkVoter(p); err != nil {
		return err
	}
	comment = strings.TrimSpace(comment)
	if !approve && comment == "" {
		return apperr.InvalidFields("Say why.", map[string]string{"comment": "A denial needs a comment for the requester."})
	}
	if approve && shorten != 0 && (shorten < time.Minute || shorten > r.Duration) {
		return apperr.InvalidFields("Check the duration.", map[string]string{"duration": "Approvers may shorten the duration (to at least 1 minute), never extend it."})
	}
	step := r.CurrentStep()
	r.Votes = append(r.Votes, Vote{Step: step, Approver: p, Approve: approve, Comment: comment, At: now})
	if !approve {
		r.State = Denied
		return nil
	}
	if shorten != 0 {
		r.Duration = shorten
	}
	if r.CurrentStep() == len(r.Policy.Steps) {
		r.State = Approved
	}
	return nil
}

// Cancel ends a pending request at its requester's wish.
func (r *Request) Cancel(by Person) error {
	if by.Subject != r.Requester.Subject || (by.Tenant != "" && r.Requester.Tenant != "" && by.Tenant != r.Requester.Tenant) {
		return apperr.New(apperr.Forbidden, "Only the requester can cancel a request.")
	}
	next, err := r.State.Move(Cancelled)
	r.State = next
	return err
}

// TimeOut closes a pending request nobody decided within the policy's
// pending timeout; it reports whether it did.
func (r *Request) TimeOut(now time.Time) bool {
	if r.State != Pending || !r.overdue(now) {
		return false
	}
	r.State = TimedOut
	return true
}

// overdue reports whether the request has waited its policy's pending
// timeout by now (it is no longer decided, only timed out).
func (r Request) overdue(now time.Time) bool {
	return now.Sub(r.SubmittedAt) >= r.Policy.PendingTimeout
}

// EligibleApprovers returns the people of candidates who may decide the
// request now, to show the requester who can approve.
func (r Request) EligibleApprovers(candidates []Person) []Person {
	var out []Person
	for _, c := range candidates {
		if r.Eligible(c) {
			out = append(out, c)
		}
	}
	return out
}

// Describe says in words who decides the step and how many are needed,
// e.g. "team: 2 approvals from role approver".
func (s Step) Describe() string {
	var who []string
	for _, r := range s.Approvers.Roles {
		who = append(who, "role "+string(r))
	}
	for _, g := range s.Approvers.Groups {
		who = append(who, "group "+g)
	}
	name := s.Name
	if name == "" {
		name = "approval"
	}
	n := "1 approval"
	if s.Required > 1 {
		n = strconv.Itoa(s.Required) + " approvals"
	}
	return name + ": " + n + " from " + strings.Join(who, " or ")
}
