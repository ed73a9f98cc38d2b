package approvals

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

// Level is the access a request asks for.
type Level string

// The access levels.
const (
	Read      Level = "read"
	ReadWrite Level = "read-write"
)

// MaxSteps is the most approval steps a policy may have.
const MaxSteps = 5

// MaxGrant is the longest any policy may allow: 30 days.
const MaxGrant = 30 * 24 * time.Hour

// Person is someone acting on a request: who they are and what their
// session says they hold.
type Person struct {
	Tenant  string         `json:"tenant,omitempty"` // the ID of the tenant they signed in to
	Subject string         `json:"subject"`
	Email   string         `json:"email"`
	Name    string         `json:"name"`
	Roles   []tenants.Role `json:"roles"`
	Groups  []string       `json:"groups"`
}

// Audience is who a policy names: anyone holding one of Roles or belonging
// to one of the IdP Groups.
type Audience struct {
	Roles  []tenants.Role `json:"roles"`
	Groups []string       `json:"groups"`
	// Tenant, when set, confines the audience to people signed in to that
	// tenant (the steps of a cross-organization share's requests).
	Tenant string `json:"tenant,omitempty"`
}

// Includes reports whether p is in the audience.
func (a Audience) Includes(p Person) bool {
	if a.Tenant != "" && p.Tenant != a.Tenant {
		return false
	}
	for _, r := range p.Roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	for _, g := range p.Groups {
		if slices.Contains(a.Groups, g) {
			return true
		}
	}
	return false
}

// Step is one stage of approval: Required approvals from its Approvers.
// Steps are decided in order.
type Step struct {
	Name      string   `json:"name"`
	Approvers Audience `json:"approvers"`
	Required  int      `json:"required"`
}

// Policy is an access policy: who may request and approve, and the bounds
// of a request. A request keeps a snapshot of the policy in force when it
// was submitted, so a later change never loosens it.
type Policy struct {
	Requesters       Audience      `json:"requesters"`
	Steps            []Step        `json:"steps"`
	DefaultDuration  time.Duration `json:"default_duration_ns"`
	MaxDuration      time.Duration `json:"max_duration_ns"`
	JustificationMin int           `json:"justification_min"` // minimum characters; 0 for none
	TicketPattern    string        `json:"ticket_pattern"`    // regular expression a ticket must match; "" for no ticket
	Levels           []Level       `json:"levels"`
	PendingTimeout   time.Duration `json:"pending_timeout_ns"` // a request undecided this long times out
}

// Clone returns a deep copy of p: the snapshot a request keeps.
func (p Policy) Clone() Policy {
	c := p
	c.Requesters = p.Requesters.clone()
	c.Steps = make([]Step, len(p.Steps))
	for i, s := range p.Steps {
		c.Steps[i] = Step{Name: s.Name, Approvers: s.Approvers.clone(), Required: s.Required}
	}
	c.Levels = slices.Clone(p.Levels)
	return c
}

func (a Audience) clone() Audience {
	return Audience{Roles: slices.Clone(a.Roles), Groups: slices.Clone(a.Groups), Tenant: a.Tenant}
}

// Validate checks the policy itself (for the policy editor). It returns an
// apperr.Invalid with a message per bad field.
func (p Policy) Validate() error {
	f := map[string]string{}
	if len(p.Requesters.Roles) == 0 && len(p.Requesters.Groups) == 0 {
		f["requesters"] = "Name at least one role or group who may request."
	}
	if len(p.Steps) == 0 || len(p.Steps) > MaxSteps {
		f["steps"] = fmt.Sprintf("Give 1 to %d approval steps.", MaxSteps)
	}
	for i, s := range p.Steps {
		if s.Required < 1 || s.Required > 20 {
			f["steps"] = fmt.Sprintf("Step %d must require 1 to 20 approvals.", i+1)
		}
		if len(s.Approvers.Roles) == 0 && len(s.Approvers.Groups) == 0 {
			f["steps"] = fmt.Sprintf("Step %d names no approvers.", i+1)
		}
	}
	if p.MaxDuration < time.Minute || p.MaxDuration > MaxGrant {
		f["max_duration"] = "The maximum must be between 1 minute and 30 days."
	}
	if p.DefaultDuration <= 0 || p.DefaultDuration > p.MaxDuration {
		f["default_duration"] = "The default must be positive and no longer than the maximum."
	}
	if p.JustificationMin < 0 || p.JustificationMin > 1000 {
		f["justification_min"] = "Use 0 to 1000 characters."
	}
	if p.TicketPattern != "" {
		if _, err := regexp.Compile(p.TicketPattern); err != nil {
			f["ticket_pattern"] = "This is not a valid regular expression."
		}
	}
	if len(p.Levels) == 0 {
		f["levels"] = "Allow at least one access level."
	}
	for _, l := range p.Levels {
		if l != Read && l != ReadWrite {
			f["levels"] = "Access levels are read and read-write."
		}
	}
	if p.PendingTimeout < time.Minute || p.PendingTimeout > MaxGrant {
		f["pending_timeout"] = "The pending timeout must be between 1 minute and 30 days."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The policy needs correcting.", f)
	}
	return nil
}

// Submission is what a requester asks for.
type Submission struct {
	Level         Level
	Duration      time.Duration // 0 for the policy's default
	Justification string
	Ticket        string
}

// CheckSubmission checks a request by who against the policy. It returns
// the duration to request (the default when none was given), or an
// apperr.Forbidden when who may not request, or an apperr.Invalid with a
// message per bad field.
func (p Policy) CheckSubmission(who Person, s Submission) (time.Duration, error) {
	if !p.Requesters.Includes(who) {
		return 0, apperr.New(apperr.Forbidden, "You are not among the people who may request this resource.")
	}
	f := map[string]string{}
	if !slices.Contains(p.Levels, s.Level) {
		f["level"] = "Pick one of the access levels this resource allows."
	}
	d := s.Duration
	if d == 0 {
		d = p.DefaultDuration
	}
	switch {
	case d < time.Minute:
		f["duration"] = "Ask for at least 1 minute."
	case d > p.MaxDuration:
		f["duration"] = "The longest this resource allows is " + p.MaxDuration.String() + "."
	}
	if n := len([]rune(strings.TrimSpace(s.Justification))); n < p.JustificationMin {
		f["justification"] = fmt.Sprintf("Explain why in at least %d characters.", p.JustificationMin)
	}
	if p.TicketPattern != "" {
		re, err := regexp.Compile("^(?:" + p.TicketPattern + ")$")
		if err != nil || !re.MatchString(strings.TrimSpace(s.Ticket)) {
			f["ticket"] = "Give a ticket reference in the format this resource requires."
		}
	}
	if len(f) > 0 {
		return 0, apperr.InvalidFields("The request needs correcting.", f)
	}
	return d, nil
}
