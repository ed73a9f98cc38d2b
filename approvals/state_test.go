package approvals

import (
	"testing"

	"github.com/gatehouse/gatehouse/apperr"
)

// TestEveryPairOfStates checks all 100 (from, to) pairs against the
// lifecycle: pending → approved → issuing → active → expired | revoked;
// pending → denied | cancelled | timed-out; issuing → failed → issuing.
func TestEveryPairOfStates(t *testing.T) {
	legal := map[[2]State]bool{
		{Pending, Approved}: true, {Pending, Denied}: true, {Pending, Cancelled}: true, {Pending, TimedOut}: true,
		{Approved, Issuing}: true,
		{Issuing, Active}:   true, {Issuing, Failed}: true,
		{Failed, Issuing}: true,
		{Active, Expired}: true, {Active, Revoked}: true,
	}
	n := 0
	for _, from := range States() {
		for _, to := range States() {
			n++
			got, err := from.Move(to)
			if legal[[2]State{from, to}] {
				if err != nil || got != to {
					t.Errorf("%s → %s refused: %v", from, to, err)
				}
				continue
			}
			if err == nil || apperr.CodeOf(err) != apperr.Conflict || got != from {
				t.Errorf("%s → %s allowed (got %s, %v)", from, to, got, err)
			}
		}
	}
	if n != 100 {
		t.Fatalf("checked %d pairs", n)
	}
	for _, s := range []State{Expired, Revoked, Denied, Cancelled, TimedOut} {
		if !s.Final() {
			t.Errorf("%s is not final", s)
		}
	}
	for _, s := range []State{Pending, Approved, Issuing, Active, Failed} {
		if s.Final() {
			t.Errorf("%s is final", s)
		}
	}
}
