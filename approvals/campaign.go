package approvals

import (
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// Access reviews (SOC 2 CC6.1): a campaign asks a tenant's admins to
// recertify its standing access — IdP group → role mappings, long-running
// shares, break-glass eligibility — keeping or revoking each item.

// ItemKind is what a review item recertifies.
type ItemKind string

// The item kinds.
const (
	ItemRoleMapping ItemKind = "role-mapping"
	ItemShare       ItemKind = "share"
	ItemBreakGlass  ItemKind = "breakglass-eligibility"
)

// ReviewDecision is a reviewer's decision on an item.
type ReviewDecision string

// The decisions.
const (
	Keep   ReviewDecision = "keep"
	Revoke ReviewDecision = "revoke"
)

// LongRunning is how long a share's term must be for it to be reviewed.
const LongRunning = 30 * 24 * time.Hour

// CheckCampaign validates a new campaign's name and due date.
func CheckCampaign(name string, due, now time.Time) error {
	f := map[string]string{}
	if n := len([]rune(strings.TrimSpace(name))); n < 1 || n > 100 {
		f["name"] = "Name the campaign (up to 100 characters), e.g. Q4 2026 access review."
	}
	if !due.After(now) || due.Sub(now) > 90*24*time.Hour {
		f["due"] = "The due date must be within the next 90 days."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The campaign needs correcting.", f)
	}
	return nil
}

// CheckReviewDecision validates a decision: keep or revoke, and a revoke
// says why (it cuts access).
func CheckReviewDecision(d ReviewDecision, note string) error {
	switch {
	case d != Keep && d != Revoke:
		return apperr.InvalidFields("Pick keep or revoke.", map[string]string{"decision": "Pick keep or revoke."})
	case d == Revoke && len([]rune(strings.TrimSpace(note))) < 5:
		return apperr.InvalidFields("Say why.", map[string]string{"note": "A revocation needs a note (at least 5 characters)."})
	}
	return nil
}

// ReviewItem is one item of a campaign.
type ReviewItem struct {
	ID        string
	Kind      ItemKind
	Ref       string // "group\trole", a share ID, a resource ID
	Label     string
	Decision  ReviewDecision // "" while open
	Note      string
	DecidedBy string
	DecidedAt time.Time
}

// Campaign is an access review campaign with its items.
type Campaign struct {
	ID          string
	Name        string
	DueAt       time.Time
	CreatedBy   string
	CreatedAt   time.Time
	CompletedAt time.Time
	Items       []ReviewItem
	Total       int
	Decided     int
}

// Overdue reports whether the campaign is past due and not complete.
func (c Campaign) Overdue(now time.Time) bool { return c.CompletedAt.IsZero() && now.After(c.DueAt) }
