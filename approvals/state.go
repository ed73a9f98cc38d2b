// Package approvals holds Gatehouse's access-request domain: the lifecycle
// of a just-in-time request and its grant, access policies, and the rules of
// approver decisions. It imports no HTTP, SQL or store SDK package; the
// postgres adapter persists what it decides and the Vault adapter mints
// what it grants.
package approvals

import (
	"slices"

	"github.com/gatehouse/gatehouse/apperr"
)

// State is where a request is in its lifecycle.
type State string

// The states. A request starts pending; approved requests are issued into
// active grants, which end expired or revoked.
const (
	Pending   State = "pending"
	Approved  State = "approved"
	Issuing   State = "issuing"
	Active    State = "active"
	Expired   State = "expired"
	Revoked   State = "revoked"
	Denied    State = "denied"
	Cancelled State = "cancelled"
	TimedOut  State = "timed-out"
	Failed    State = "failed" // issuance failed; retryable
)

// States lists every state.
func States() []State {
	return []State{Pending, Approved, Issuing, Active, Expired, Revoked, Denied, Cancelled, TimedOut, Failed}
}

// transitions are the only legal moves.
var transitions = map[State][]State{
	Pending:  {Approved, Denied, Cancelled, TimedOut},
	Approved: {Issuing},
	Issuing:  {Active, Failed},
	Failed:   {Issuing}, // a retry
	Active:   {Expired, Revoked},
}

// CanMove reports whether a request in state s may move to next.
func (s State) CanMove(next State) bool { return slices.Contains(transitions[s], next) }

// Final reports whether no move leaves s.
func (s State) Final() bool { return len(transitions[s]) == 0 }

// Move returns next when the move from s is legal, and otherwise an
// apperr.Conflict saying the request cannot change that way.
func (s State) Move(next State) (State, error) {
	if !s.CanMove(next) {
		return s, apperr.New(apperr.Conflict, "A request that is "+string(s)+" cannot become "+string(next)+".")
	}
	return next, nil
}
