// Package web holds Gatehouse's templ components: the base layout, pages and
// partials. Every component takes a typed view model defined here; handlers
// build view models and never pass maps.
package web

// Page is what the base layout needs on every page.
type Page struct {
	Title     string
	RequestID string
	CSRFToken string // empty when the browser is protected by Sec-Fetch-Site
	Org       string // the signed-in organization's display name, if any
	User      string // the signed-in person's display name or email, if any
	Nav       []NavItem
	Flashes   []Flash
	// Emergencies are the organization's active break-glass grants, shown
	// as a banner on every page while any is active.
	Emergencies []EmergencyBanner
}

// EmergencyBanner is one active break-glass in the page banner.
type EmergencyBanner struct {
	Responder string
	Resource  string
	Until     string
	Drill     bool
	Href      string
}

// NavItem is one link of the navigation bar.
type NavItem struct {
	Label    string
	Href     string
	Active   bool
	BadgeURL string // polled by htmx for a live count, or ""
}

// FlashKind styles a flash message.
type FlashKind string

// The flash kinds.
const (
	FlashInfo    FlashKind = "info"
	FlashSuccess FlashKind = "success"
	FlashError   FlashKind = "error"
)

// Flash is a one-time message shown at the top of a page.
type Flash struct {
	Kind    FlashKind
	Message string
}

// LoginPage is the sign-in page: an email field for home-realm discovery and
// the list of organizations to pick from.
type LoginPage struct {
	Page
	Email      string
	EmailError string
	ReturnTo   string // local path to come back to after signing in
	Orgs       []OrgChoice
}

// OrgChoice is one organization on the sign-in page.
type OrgChoice struct {
	Slug string
	Name string
	Href string // where picking it starts the sign-in
}

// NoticesID is the id of the layout's notices area, where htmx requests'
// error notices are swapped.
const NoticesID = "notices"

// ErrorPage shows a person what went wrong in words they can act on, with
// the request ID to quote to support. It never holds internals.
type ErrorPage struct {
	Page
	Status  int
	Heading string
	Message string
}

// DashboardPage is the signed-in home page.
type DashboardPage struct {
	Page
	Email  string
	Issuer string
	Roles  []string
	Groups []string
}

// PlatformTenantsPage lists every organization for platform operators with
// the kill-switch actions.
type PlatformTenantsPage struct {
	Page
	Tenants     []TenantRow
	ReasonError string // shown above the list when an action lacked a reason
}

// TenantRow is one organization in the platform list.
type TenantRow struct {
	Slug       string
	Name       string
	Status     string
	Domains    string
	Issuer     string
	IdPEnabled bool
	Sessions   int64
	Platform   bool // the operators' own organization: no kill switch
}

// MappingsPage is a tenant admin's group → role mappings with a form to add one.
type MappingsPage struct {
	Page
	Mappings   []MappingRow
	Roles      []string // the roles the form offers
	Group      string   // the add form's values, kept on error
	Role       string
	FieldError map[string]string
	FormError  string
}

// MappingRow is one mapping.
type MappingRow struct {
	Group string
	Role  string
}

// MembersPage lists everyone who has signed in to the tenant.
type MembersPage struct {
	Page
	Members []MemberRow
}

// MemberRow is one member.
type MemberRow struct {
	Name      string
	Email     string
	Roles     string
	Groups    string
	LastLogin string
	Sessions  int64
}

// OnboardingPage is one step of the onboarding wizard.
type OnboardingPage struct {
	Page
	Slug        string // "" before step 1 is done
	Name        string
	Steps       []WizardStep
	Current     int               // the step shown (1–7)
	Fields      map[string]string // the form's values, kept on error
	FieldErrors map[string]string
	FormError   string
	// What earlier steps recorded, shown as they complete.
	Issuer      string
	Endpoints   []Endpoint
	CallbackURL string
	ClientID    string
	Mappings    string
	VaultMount  string
	TestEmail   string
	TestGroups  string
	TestRoles   string
	Activated   bool
	// Stores binds cloud stores (optional, once the Vault mount is ready).
	Stores *StoresPage
}

// WizardStep is one entry of the wizard's step list.
type WizardStep struct {
	Number int
	Name   string
	Done   bool
	Href   string // "" when the step cannot be opened yet
}

// Endpoint is a discovered endpoint.
type Endpoint struct {
	Name string
	URL  string
}
