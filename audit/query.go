package audit

import (
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// Filter narrows a search of the audit trail. Zero fields match anything.
type Filter struct {
	Actor   string    // a part of the actor ("email (subject)"), any case
	Action  string    // an action, or a family: "share" matches "share.*"
	Target  string    // exactly
	Outcome Outcome   // exactly
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	Before  int64     // keyset cursor: events older than this ID (0: the newest)
}

// Check validates a filter, returning an apperr.Invalid per bad field.
func (f Filter) Check() error {
	bad := map[string]string{}
	switch f.Outcome {
	case "", Success, Denied, Failure:
	default:
		bad["outcome"] = "Pick success, denied or failure."
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		bad["until"] = "The end must be after the start."
	}
	if len(f.Actor) > 200 || len(f.Action) > 100 || len(f.Target) > 500 || strings.ContainsAny(f.Action, "%_") {
		bad["action"] = "Give an action like share.ended, or a family like share."
	}
	if len(bad) > 0 {
		return apperr.InvalidFields("Check the filters.", bad)
	}
	return nil
}

// Entry is one stored audit event, as the viewer shows it.
type Entry struct {
	ID         int64
	OccurredAt time.Time
	Event
}

// Verification is the record of one walk of the chains.
type Verification struct {
	At       time.Time
	By       string
	Chains   int
	Events   int64
	Problems []Problem
}
