package web

// BreakGlassPage lists the organization's break-glass events.
type BreakGlassPage struct {
	Page
	CanBreak bool            // the viewer is an eligible responder
	Rows     []BreakGlassRow // one page, newest first
	Pager    Pager           // to the newest page and the next older one
	Flags    []FlagRow       // responders flagged by a "not justified" review
}

// BreakGlassRow is one break-glass in a list.
type BreakGlassRow struct {
	ID        string
	Responder string
	Resource  string
	Incident  string
	State     string
	Started   string
	Ends      string
	Review    string // "due …", "overdue since …", "justified", "not-justified"
	Overdue   bool
	Drill     bool
}

// FlagRow is one flagged responder.
type FlagRow struct {
	Email string
	Count int
	Last  string
}

// BreakGlassFormPage is the emergency form, shown after a fresh sign-in.
type BreakGlassFormPage struct {
	Page
	Resources   []BreakGlassChoice
	Fields      map[string]string
	FieldErrors map[string]string
	FormError   string
	ReauthURL   string // set when the sign-in is no longer fresh
	FreshUntil  string // when the fresh sign-in stops counting
}

// BreakGlassChoice is one flagged resource in the form: the
// organization's own, or one shared with it (ID "<share>:<resource>",
// Owner the sharing organization's name).
type BreakGlassChoice struct {
	ID          string
	Name        string
	Secret      string
	MaxDuration string
	Drill       bool
	Owner       string
}

// BreakGlassDetailPage is one break-glass: what happened, its review and
// who was told.
type BreakGlassDetailPage struct {
	Page
	Row           BreakGlassRow
	Justification string
	Duration      string
	Timeline      []TimelineEntry
	Due           string
	Verdict       string
	Reviewer      string
	ReviewedAt    string
	Notes         string
	VerdictNote   string // what a "not justified" verdict did: flagged the responder, or not (a drill)
	Escalations   int
	Rotation      string           // e.g. "rotated to version 4 at …", or ""
	Deliveries    ObjectDeliveries // who was told of it in the viewer's organization
	CanReview     bool
	ReviewNote    string // why the viewer cannot review, when relevant
	IsHolder      bool   // the viewer holds the active grant
	FieldErrors   map[string]string
	FormError     string
}

// DeliveryRow is one notice: who was told, and how delivery went.
type DeliveryRow struct {
	At       string // when it was sent
	Subject  string
	Channel  string // "email" or "chat"
	To       string // the recipients, or the organization's chat webhook
	State    string // pending, retrying, delivered, failed, not-sent
	Attempts int
	Reason   string // why it failed or was not sent, in plain words
	Failing  bool
}

// ObjectDeliveries are the notices about one object as its page lists
// them: the latest ones, and how many there are in all, with where to read
// those not listed.
type ObjectDeliveries struct {
	Rows   []DeliveryRow // the latest notices, oldest first
	Total  int           // every notice about the object: more than len(Rows) when older ones are not listed
	LogURL string        // the notifications page narrowed to the object; "" when the viewer may not open it
}

// BreakGlassSettingsPage is the tenant admins' break-glass settings.
type BreakGlassSettingsPage struct {
	Page
	Limits      LimitsForm
	Resources   []BreakGlassSetting
	FieldErrors map[string]string
	FormError   string
}

// LimitsForm is the tenant's break-glass limits.
type LimitsForm struct {
	PerResponder string
	PerTenant    string
	ReviewHours  string
}

// BreakGlassSetting is one resource's break-glass setting.
type BreakGlassSetting struct {
	ID         string
	Name       string
	Secret     string
	Enabled    bool
	MaxMinutes string
	Rotate     bool
	Drill      bool
}
