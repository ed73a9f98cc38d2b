package approvals

import "time"

// Summary is a request as lists show it.
type Summary struct {
	ID            string
	Resource      string
	Requester     Person
	State         State
	Level         Level
	Duration      time.Duration
	SubmittedAt   time.Time
	ExpiresAt     time.Time // zero until issued
	FailureReason string
	Kind          Kind
	Drill         bool // a break-glass drill
}

// Detail is one request with everything its page shows.
type Detail struct {
	Summary
	Request       Request
	ResourceID    string
	Mount         string
	Path          string
	Justification string
	Ticket        string
	IssuedAt      time.Time
	EndedAt       time.Time
	Incident      string  // break-glass only
	Review        *Review // break-glass only
}

// Kind says how a grant came about.
type Kind string

// The kinds.
const (
	JIT            Kind = "jit"         // requested and approved
	BreakGlassKind Kind = "break-glass" // emergency access, reviewed afterwards
)

// Review is a break-glass's mandatory review, as its page shows it.
type Review struct {
	DueAt          time.Time
	Verdict        Verdict // "" while not reviewed
	Notes          string
	Reviewer       Person
	ReviewedAt     time.Time
	Escalations    int
	RotatedVersion int // 0 unless the secret was rotated when the window ended
	RotatedAt      time.Time
}

// Overdue reports whether the review is still missing after its due time.
func (r Review) Overdue(now time.Time) bool { return r.Verdict == "" && now.After(r.DueAt) }

// BreakGlassRow is a break-glass as the list of a tenant's shows it.
type BreakGlassRow struct {
	Summary
	Incident string
	Review   Review
}

// Flag counts a responder's break-glasses reviewed "not justified".
type Flag struct {
	Subject string
	Email   string
	Count   int
	Last    time.Time
}
