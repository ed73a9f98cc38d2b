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
}
