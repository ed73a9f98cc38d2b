package approvals

import (
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// An emergency revocation cuts every access in a scope: it blocks new
// access in the scope first, ends the scope's sessions, revokes every
// credential in it and verifies each dead, and tells the organizations
// affected. The block stays until lifted, a separate action.

// ScopeKind is what a revocation covers.
type ScopeKind string

// The scope kinds.
const (
	ScopeGrant    ScopeKind = "grant"    // one grant (a request ID)
	ScopeUser     ScopeKind = "user"     // one person, by email, across every tenant
	ScopeResource ScopeKind = "resource" // every grant on one resource (a resource ID)
	ScopeShare    ScopeKind = "share"    // one share and every grant under it
	ScopeTenant   ScopeKind = "tenant"   // freeze a tenant (by slug)
	ScopeIdP      ScopeKind = "idp"      // a tenant's identity provider (by tenant slug): its users' sessions and grants
)

// ScopeKinds lists every kind, in the order the console offers them.
func ScopeKinds() []ScopeKind {
	return []ScopeKind{ScopeGrant, ScopeUser, ScopeResource, ScopeShare, ScopeTenant, ScopeIdP}
}

// Scope is a revocation's target, written "kind:value", e.g. "tenant:acme".
type Scope struct {
	Kind  ScopeKind
	Value string
}

// String returns the scope as typed: "kind:value".
func (s Scope) String() string { return string(s.Kind) + ":" + s.Value }

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,38}$`)
)

// ParseScope parses "kind:value", checking the value's form (an ID, an
// email, a tenant slug). It returns an apperr.Invalid naming the field
// "scope" when it is not one.
func ParseScope(raw string) (Scope, error) {
	kind, value, _ := strings.Cut(strings.TrimSpace(raw), ":")
	s := Scope{Kind: ScopeKind(kind), Value: strings.TrimSpace(value)}
	bad := func(msg string) (Scope, error) {
		return Scope{}, apperr.InvalidFields("Check the scope.", map[string]string{"scope": msg})
	}
	switch s.Kind {
	case ScopeGrant, ScopeResource, ScopeShare:
		s.Value = strings.ToLower(s.Value)
		if !uuidRE.MatchString(s.Value) {
			return bad("A " + kind + " scope names its ID, like " + kind + ":3f2a…")
		}
	case ScopeUser:
		a, err := mail.ParseAddress(s.Value)
		if err != nil || a.Address != s.Value {
			return bad("A user scope names the person's email, like user:alice@acme.test.")
		}
		s.Value = strings.ToLower(s.Value)
	case ScopeTenant, ScopeIdP:
		if !slugRE.MatchString(s.Value) {
			return bad("A " + kind + " scope names the organization's slug, like " + kind + ":acme.")
		}
	default:
		return bad("Scopes are grant:, user:, resource:, share:, tenant: or idp:.")
	}
	return s, nil
}

// CheckRevocation validates what confirms a revocation: the scope's name
// typed again exactly, and a reason.
func CheckRevocation(s Scope, typed, reason string) error {
	f := map[string]string{}
	if strings.TrimSpace(typed) != s.String() {
		f["confirm"] = "Type the scope exactly as shown (" + s.String() + ") to confirm."
	}
	if n := len([]rune(strings.TrimSpace(reason))); n < 5 || n > 500 {
		f["reason"] = "Say why (5 to 500 characters): it goes to every organization affected."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The revocation is not confirmed.", f)
	}
	return nil
}

// Impact is what a revocation will hit, shown before confirming.
type Impact struct {
	Sessions int
	Grants   int
	Shares   int
	Tenants  []string // the organizations affected, by name
}

// Progress counts a revocation's grants by outcome.
type Progress struct {
	Total    int
	Verified int // revoked and verified dead
	Failed   int // the last attempt failed; retried
	Pending  int
}

// Percent is how far the revocation is, 0–100 (100 with nothing to revoke).
func (p Progress) Percent() int {
	if p.Total == 0 {
		return 100
	}
	return p.Verified * 100 / p.Total
}

// Revocation is a revocation as its page and report show it.
type Revocation struct {
	ID            string
	Scope         Scope
	TenantID      string // the scope's tenant; "" for a user scope
	Reason        string
	Actor         string
	Rotate        bool
	Completed     bool
	SessionsEnded int
	Progress      Progress
	Items         []RevocationItem
	Rotated       []string // mount/path@version of rotated secrets
	CreatedAt     time.Time
	CompletedAt   time.Time
	LiftedAt      time.Time
	LiftedBy      string
	// Told are the organizations told of it (when it completed): the
	// scope's and those on the other side of the shares it blocked —
	// every notice it sent, never capped (its report lists them all).
	Told []Told
}

// Told is one notice of a revocation: an organization told, on one
// channel, and how delivery went. A viewer outside that organization (not
// a platform operator) sees neither its recipients nor its reason.
type Told struct {
	Org      string    `json:"org"`
	Channel  string    `json:"channel"` // "email" or "chat"
	To       []string  `json:"to,omitempty"`
	State    string    `json:"state"` // pending, retrying, delivered, failed, not-sent
	Reason   string    `json:"reason,omitempty"`
	Attempts int       `json:"attempts"`
	SentAt   time.Time `json:"sent_at"`
}

// BlockInForce reports whether the revocation's block still refuses new
// access in its scope: from its start (the block is written with it) until
// it is lifted.
func (r Revocation) BlockInForce() bool { return r.LiftedAt.IsZero() }

// RevocationItem is one grant of a revocation.
type RevocationItem struct {
	RequestID string
	Resource  string
	Holder    string
	State     string // pending, verified, failed
	Attempts  int
	LastError string
}

// ErrBlocked refuses new access in a revoked scope.
var ErrBlocked = apperr.New(apperr.Forbidden, "Access here is blocked by an emergency revocation. A tenant admin or platform operator can lift it.")

// Viewer is who acts on revocations: a platform operator acts on every
// scope; a tenant admin only on its own tenant's.
type Viewer struct {
	TenantID string
	Operator bool
}

// Report is a revocation's report, as downloaded (JSON) and printed by
// `gatehouse revoke`.
type Report struct {
	ID            string       `json:"id"`
	Scope         string       `json:"scope"`
	Reason        string       `json:"reason"`
	Actor         string       `json:"actor"`
	StartedAt     time.Time    `json:"started_at"`
	CompletedAt   *time.Time   `json:"completed_at,omitempty"`
	Completed     bool         `json:"completed"`
	SessionsEnded int          `json:"sessions_ended"`
	Grants        int          `json:"grants"`
	VerifiedDead  int          `json:"verified_dead"`
	Failed        int          `json:"failed"`
	Rotated       []string     `json:"rotated,omitempty"`
	Items         []ReportItem `json:"items"`
	LiftedAt      *time.Time   `json:"lifted_at,omitempty"`
	Block         ReportBlock  `json:"block"`
	Told          []Told       `json:"told"`
}

// ReportBlock is a report's account of the block on new access in the
// scope: written when the revocation started, in force until lifted.
type ReportBlock struct {
	InForce  bool       `json:"in_force"`
	Since    time.Time  `json:"since"`
	LiftedAt *time.Time `json:"lifted_at,omitempty"`
	LiftedBy string     `json:"lifted_by,omitempty"`
}

// ReportItem is one grant of a report.
type ReportItem struct {
	Request   string `json:"request"`
	Resource  string `json:"resource"`
	Holder    string `json:"holder"`
	State     string `json:"state"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
}

// ReportOf returns r's report.
func ReportOf(r Revocation) Report {
	rep := Report{ID: r.ID, Scope: r.Scope.String(), Reason: r.Reason, Actor: r.Actor, StartedAt: r.CreatedAt, Completed: r.Completed,
		SessionsEnded: r.SessionsEnded, Grants: r.Progress.Total, VerifiedDead: r.Progress.Verified, Failed: r.Progress.Failed,
		Rotated: r.Rotated, Items: []ReportItem{}, Block: ReportBlock{InForce: r.BlockInForce(), Since: r.CreatedAt},
		Told: append([]Told{}, r.Told...)}
	if !r.CompletedAt.IsZero() {
		rep.CompletedAt = &r.CompletedAt
	}
	if !r.LiftedAt.IsZero() {
		rep.LiftedAt = &r.LiftedAt
		rep.Block.LiftedAt, rep.Block.LiftedBy = &r.LiftedAt, r.LiftedBy
	}
	for _, it := range r.Items {
		rep.Items = append(rep.Items, ReportItem{Request: it.RequestID, Resource: it.Resource, Holder: it.Holder, State: it.State,
			Attempts: it.Attempts, LastError: it.LastError})
	}
	return rep
}
