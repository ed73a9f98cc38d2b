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
	Drill         bool   // a break-glass drill
	StoreKind     string // where the secret is: "vault-kv2" or a cloud store kind
}

// Detail is one request with everything its page shows.
type Detail struct {
	Summary
	Request       Request
	ResourceID    string
	Mount         string
	Path          string
	StoreKind     string // "vault-kv2" or a cloud store kind
	BindingID     string // the cloud store binding ("" for the tenant's Vault)
	Justification string
	Ticket        string
	IssuedAt      time.Time
	EndedAt       time.Time
	Incident      string  // break-glass only
	Review        *Review // break-glass only
	// TenantID owns the resource; RequesterTenant is the requester's tenant
	// (another one for a request under a share, ShareID).
	TenantID        string
	RequesterTenant string
	ShareID         string
	OwnerName       string // the owner organization's display name
}

// Shared reports whether the request was made under a share by a member
// of another tenant.
func (d Detail) Shared() bool { return d.ShareID != "" }

// Kind says how a grant came about.
type Kind string

// The kinds.
const (
	JIT            Kind = "jit"         // requested and approved
	BreakGlassKind Kind = "break-glass" // emergency access, reviewed afterwards
)

// Review is a break-glass's mandatory review, as its page shows it.
type Review struct {
	TenantID       string // whose approvers review it: the responder's organization
	DueAt          time.Time
	Verdict        Verdict // "" while not reviewed
	Notes          string
	Reviewer       Person
	ReviewedAt     time.Time
	Escalations    int
	RotatedVersion string // the version written when the window ended ("0": the rotation failed; "" none)
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

// Org is another organization as pickers show it.
type Org struct {
	Slug string
	Name string
}

// ShareSummary is a share as lists show it, from the viewer's side.
type ShareSummary struct {
	ID         string
	State      ShareState
	Mode       ShareMode
	Level      Level
	TermEnd    time.Time
	Purpose    string
	ProposedAt time.Time
	Owner      string // organization names
	Recipient  string
	Outgoing   bool // the viewer's organization owns it
	Resources  int
}

// ShareDetail is one share with everything its page shows.
type ShareDetail struct {
	Share
	OwnerName       string
	RecipientName   string
	ProposedAt      time.Time
	OfferedAt       time.Time
	DecidedAt       time.Time
	DecidedBy       string
	DecisionComment string
	EndedAt         time.Time
	EndedBy         string
	EndReason       string
}

// SharedItem is a resource shared with the viewer's organization.
type SharedItem struct {
	ShareID    string
	OwnerName  string
	Resource   Resource
	Recipients Audience
	Level      Level
	MaxGrant   time.Duration
	Mode       ShareMode
	TermEnd    time.Time
}
