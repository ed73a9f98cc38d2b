package approvals

import (
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

// Break-glass is emergency access without approvals: an eligible responder
// who has just re-authenticated gets a short grant at once, everyone
// responsible is told, and an approver who is not the responder reviews it
// afterwards. These are its rules; the grant itself follows the same
// lifecycle (approved → issuing → active → expired | revoked) as a
// just-in-time grant.

// Break-glass defaults and bounds.
const (
	DefaultBreakGlassWindow = 60 * time.Minute // a resource's default maximum window
	MaxBreakGlassWindow     = 24 * time.Hour
	MinBreakGlassWindow     = time.Minute
	MinEmergencyReason      = 20              // characters of justification
	FreshAuthWindow         = 5 * time.Minute // how recent the re-authentication must be
	DefaultReviewSLA        = 24 * time.Hour
)

// BreakGlass is a resource's emergency-access setting, kept by tenant admins.
type BreakGlass struct {
	Enabled     bool          // responders may break glass on it
	MaxDuration time.Duration // the longest window (default 60 minutes)
	RotateAfter bool          // write a new random value when the window ends
	Drill       bool          // a drill resource: every break-glass on it is a rehearsal
}

// CheckBreakGlassSetting validates a resource's setting, returning an
// apperr.Invalid naming the bad field.
func CheckBreakGlassSetting(b BreakGlass) error {
	if b.MaxDuration < MinBreakGlassWindow || b.MaxDuration > MaxBreakGlassWindow {
		return apperr.InvalidFields("Check the window.", map[string]string{"max_minutes": "Give a maximum window between 1 minute and 24 hours."})
	}
	return nil
}

// Limits bound break-glass in a tenant.
type Limits struct {
	PerResponder int           // active break-glass grants one responder may hold (default 1)
	PerTenant    int           // active break-glass grants in the tenant (default 3)
	ReviewSLA    time.Duration // time from breaking glass to the review being due (default 24 h)
}

// DefaultLimits are a tenant's limits until its admins set their own.
func DefaultLimits() Limits {
	return Limits{PerResponder: 1, PerTenant: 3, ReviewSLA: DefaultReviewSLA}
}

// CheckLimits validates limits, returning an apperr.Invalid per bad field.
func CheckLimits(l Limits) error {
	f := map[string]string{}
	if l.PerResponder < 1 || l.PerResponder > 10 {
		f["per_responder"] = "Give 1 to 10."
	}
	if l.PerTenant < 1 || l.PerTenant > 100 {
		f["per_tenant"] = "Give 1 to 100."
	}
	if l.PerTenant < l.PerResponder && f["per_tenant"] == "" {
		f["per_tenant"] = "The tenant's limit cannot be below one responder's."
	}
	if l.ReviewSLA < time.Hour || l.ReviewSLA > 7*24*time.Hour {
		f["review_sla_hours"] = "Give 1 to 168 hours."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The limits need correcting.", f)
	}
	return nil
}

// Emergency is what a responder gives when breaking glass.
type Emergency struct {
	Justification string
	Incident      string        // the incident reference, e.g. INC-1234
	Duration      time.Duration // 0 means the resource's maximum
}

// InForce counts the active break-glass grants a new one is limited by.
// Drills are counted apart: they never count toward the limits of real
// break-glass (a responder rehearsing can still break glass in a real
// incident), and a responder holds at most MaxDrillsPerResponder at once.
type InForce struct {
	ByResponder       int // the responder's real (not drill) break-glass grants
	InTenant          int // the tenant's real break-glass grants
	DrillsByResponder int // the responder's drills
}

// MaxDrillsPerResponder is how many active drills one responder may hold.
const MaxDrillsPerResponder = 1

// Fresh reports whether an authentication at authTime, made as a forced
// re-authentication (stepUp), is recent enough to break glass at now.
func Fresh(stepUp bool, authTime, now time.Time) bool {
	return stepUp && !authTime.IsZero() && now.Sub(authTime) <= FreshAuthWindow && !authTime.After(now.Add(time.Minute))
}

// ErrStaleAuth refuses a break-glass without a fresh re-authentication.
var ErrStaleAuth = apperr.New(apperr.Forbidden, "Breaking glass needs a fresh sign-in at your identity provider (within the last 5 minutes). Re-authenticate and try again.")

// CheckBreakGlass applies the break-glass rules to who breaking glass on
// res: a responder, a flagged resource, a fresh re-authentication, a
// justification of at least MinEmergencyReason characters, an incident
// reference, a window within the resource's maximum, and the limits (for
// a drill resource, only the drill limit). It returns the window granted,
// or an apperr (Forbidden, Invalid with field messages, or Conflict for a
// limit reached); nothing is issued then.
func CheckBreakGlass(who Person, res Resource, e Emergency, fresh bool, active InForce, l Limits) (time.Duration, error) {
	if !hasRole(who, tenants.RoleResponder) {
		return 0, apperr.New(apperr.Forbidden, "Only responders can break glass.")
	}
	if !res.BreakGlass.Enabled {
		return 0, apperr.New(apperr.Forbidden, "This resource is not flagged for break-glass access. Ask for it through a request instead.")
	}
	if !fresh {
		return 0, ErrStaleAuth
	}
	f := map[string]string{}
	if n := len([]rune(strings.TrimSpace(e.Justification))); n < MinEmergencyReason {
		f["justification"] = "Say what is happening and why you need this (at least 20 characters)."
	}
	inc := strings.TrimSpace(e.Incident)
	if inc == "" || len(inc) > 100 || strings.ContainsAny(inc, "\r\n") {
		f["incident"] = "Give the incident reference (up to 100 characters)."
	}
	d := e.Duration
	if d == 0 {
		d = res.BreakGlass.MaxDuration
	}
	if d < MinBreakGlassWindow || d > res.BreakGlass.MaxDuration {
		f["duration"] = "Give a window between 1 minute and " + res.BreakGlass.MaxDuration.String() + "."
	}
	if len(f) > 0 {
		return 0, apperr.InvalidFields("The break-glass form needs correcting.", f)
	}
	if res.BreakGlass.Drill {
		if active.DrillsByResponder >= MaxDrillsPerResponder {
			return 0, apperr.New(apperr.Conflict, "You already have a drill running; relinquish it before starting another. (Drills never count against real break-glass.)")
		}
		return d, nil
	}
	if active.ByResponder >= l.PerResponder {
		return 0, apperr.New(apperr.Conflict, "You already hold the most break-glass grants allowed at once; relinquish one first.")
	}
	if active.InTenant >= l.PerTenant {
		return 0, apperr.New(apperr.Conflict, "Your organization has reached its limit of active break-glass grants; ask a tenant admin.")
	}
	return d, nil
}

func hasRole(p Person, r tenants.Role) bool {
	for _, x := range p.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Verdict is a break-glass review's conclusion.
type Verdict string

// The verdicts.
const (
	Justified    Verdict = "justified"
	NotJustified Verdict = "not-justified"
)

// CheckReview applies the review rules: the reviewer is an approver and
// not the responder, the verdict is known, and notes say why (at least 10
// characters). It returns an apperr (Forbidden or Invalid).
func CheckReview(responder, reviewer Person, v Verdict, notes string) error {
	if err := CheckReviewer(responder, reviewer); err != nil {
		return err
	}
	f := map[string]string{}
	if v != Justified && v != NotJustified {
		f["verdict"] = "Pick justified or not justified."
	}
	if len([]rune(strings.TrimSpace(notes))) < 10 {
		f["notes"] = "Write what you checked (at least 10 characters)."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The review needs correcting.", f)
	}
	return nil
}

// FlagsResponder reports whether verdict v on a break-glass flags its
// responder: "not justified" does, except on a drill (a rehearsal), where
// the verdict is recorded and nobody is flagged.
func FlagsResponder(v Verdict, drill bool) bool {
	return v == NotJustified && !drill
}

// CheckReviewer says whether reviewer may review responder's break-glass:
// an approver who is not the responder (apperr.Forbidden otherwise).
func CheckReviewer(responder, reviewer Person) error {
	if reviewer.Subject == responder.Subject {
		return apperr.New(apperr.Forbidden, "Nobody can review their own break-glass.")
	}
	if !hasRole(reviewer, tenants.RoleApprover) {
		return apperr.New(apperr.Forbidden, "Only approvers can review a break-glass.")
	}
	return nil
}

// NextEscalation returns when an unreviewed break-glass due at dueAt, last
// escalated at last (zero if never), is next due an escalation: when it
// becomes overdue, then every sla after the previous escalation while it
// stays so. The escalation sweep's query (LockReviewsToEscalate) computes
// the same instant in SQL to select and order reviews; a test holds the
// two to agreement.
func NextEscalation(dueAt, last time.Time, sla time.Duration) time.Time {
	if last.IsZero() {
		return dueAt
	}
	if next := last.Add(sla); next.After(dueAt) {
		return next
	}
	return dueAt
}

// EscalationDue reports whether an unreviewed break-glass due at dueAt,
// last escalated at last (zero if never), should be escalated at now:
// once when it becomes overdue, then again every sla while it stays so.
func EscalationDue(dueAt, last, now time.Time, sla time.Duration) bool {
	return !now.Before(NextEscalation(dueAt, last, sla))
}
