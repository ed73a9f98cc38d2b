package web

// AuditPage is the audit viewer: filters, one page of events, export links,
// and the last verification of the chains.
type AuditPage struct {
	Page
	Every        bool // every organization's trail (platform operators)
	Filter       map[string]string
	FieldErrors  map[string]string
	FormError    string
	Rows         []AuditRow
	OlderURL     string // the next page, or ""
	ExportJSON   string
	ExportCSV    string
	Verification *VerificationView
}

// AuditRow is one audit event.
type AuditRow struct {
	ID      string
	At      string
	Actor   string
	Action  string
	Target  string
	Outcome string
	IP      string
	Detail  string
}

// VerificationView is the last verification of the chains.
type VerificationView struct {
	At       string
	By       string
	Chains   int
	Events   string
	Intact   bool
	Problems []string
}
