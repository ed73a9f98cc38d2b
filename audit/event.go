// Package audit defines the audit event Gatehouse records for every state
// change, written by the stores in the same transaction as the change.
// An event never carries a secret value or a token.
package audit

import "context"

// Recorder writes audit events on their own, for events that change
// nothing else (refusals, denied access, a reveal): all of evs or none, in
// one transaction (both sides of a share see an access, or neither does).
// Stores write the events of state changes inside the change's own
// transaction instead.
type Recorder interface {
	RecordEvent(ctx context.Context, evs ...Event) error
}

// Outcome is how an audited action ended.
type Outcome string

// The outcomes.
const (
	Success Outcome = "success"
	Denied  Outcome = "denied"
	Failure Outcome = "failure"
)

// Event is one audit record.
type Event struct {
	TenantID  string // the tenant whose trail holds the event; "" for platform events
	Actor     string // "email (subject)", or "system"
	Action    string // e.g. "login.succeeded", "tenant.suspended"
	Target    string // what was acted on, e.g. a tenant slug
	Outcome   Outcome
	IP        string
	UserAgent string
	RequestID string
	Detail    map[string]string // reasons and names; never secrets or tokens
}

// Meta is where a request came from, copied into the events it causes.
type Meta struct {
	IP        string
	UserAgent string
	RequestID string
}

// Stamp returns e with m's fields filled in.
func (m Meta) Stamp(e Event) Event {
	e.IP, e.UserAgent, e.RequestID = m.IP, m.UserAgent, m.RequestID
	return e
}
