package web

// CatalogPage lists the resources a person may request.
type CatalogPage struct {
	Page
	Items  []CatalogItem
	Shared []SharedItemRow // resources other organizations share with this one
}

// CatalogItem is one requestable resource.
type CatalogItem struct {
	ID             string
	Name           string
	Description    string
	Classification string
	Secret         string // mount/path
	MaxDuration    string
}

// RequestFormPage is the form asking for access to one resource.
type RequestFormPage struct {
	Page
	Resource         CatalogItem
	Levels           []string
	DefaultDuration  string
	JustificationMin int
	TicketRequired   bool
	Steps            []string // the approval steps, in words
	Approvers        []string // known people who can approve the first step
	Fields           map[string]string
	FieldErrors      map[string]string
	FormError        string
}

// RequestsPage lists a person's own requests.
type RequestsPage struct {
	Page
	Rows  []RequestRow // one page, newest first
	Pager Pager        // to the newest page and the next older one
}

// RequestRow is one request in a list.
type RequestRow struct {
	ID        string
	Resource  string
	Requester string
	State     string
	Level     string
	Duration  string
	Submitted string
	Expires   string
	Failure   string
	Note      string // e.g. the justification, in the inbox
	Remaining string // time left on an active grant, e.g. "42m"
	Store     string // the store's kind on a grant: "vault-kv2", "aws-secretsmanager", ...
}

// RequestDetailPage is one request with its timeline and actions.
type RequestDetailPage struct {
	Page
	Row           RequestRow
	Justification string
	Ticket        string
	Timeline      []TimelineEntry
	Steps         []string // the approval steps, in words
	Approvers     []string // known people who can decide the current step
	CanDecide     bool
	CanCancel     bool
	CanRetry      bool // issuing failed; the viewer may try again
	IsActiveGrant bool
	// Deliveries are the notices about the request sent in the viewer's
	// organization: who was told, and how delivery went.
	Deliveries  ObjectDeliveries
	FieldErrors map[string]string
	FormError   string
}

// TimelineEntry is one event of a request.
type TimelineEntry struct {
	At   string
	Text string
}

// InboxPage lists the requests the approver can decide now.
type InboxPage struct {
	Page
	Rows  []RequestRow // the oldest ones
	Total int          // how many wait in all
}

// GrantsPage lists a person's active grants.
type GrantsPage struct {
	Page
	Rows []RequestRow
}

// OncePage shows a wrapped token or a secret's value exactly once.
type OncePage struct {
	Page
	Resource      string
	WrappingToken string
	WrapTTL       string
	Values        []KeyValue
	Note          string // how to use a credential and how it ends
}

// KeyValue is one field of a revealed secret.
type KeyValue struct {
	Key   string
	Value string
}

// AdminCatalogPage is the tenant admin's catalog: entries, the tenant's
// Vault keys to pick from, and the form adding an entry with its policy.
type AdminCatalogPage struct {
	Page
	Items       []CatalogItem
	Retired     []RetiredRow // out of the catalog, listed apart
	Mount       string
	Prefix      string
	Keys        []string // key names under Prefix (metadata only)
	Stores      []Option // where an entry can live: the Vault mount ("") or a cloud binding
	Roles       []string
	Classes     []ClassRow
	Policy      PolicyForm
	Fields      map[string]string // policy_source among them
	FieldErrors map[string]string
	FormError   string
}

// StepForm is one approval step as the policy form shows it.
type StepForm struct {
	Name     string
	Roles    []string
	Groups   string // comma-separated IdP groups
	Required string
}

// Blank reports whether the step is an unused slot.
func (s StepForm) Blank() bool {
	return s.Name == "" && len(s.Roles) == 0 && s.Groups == "" && (s.Required == "" || s.Required == "0")
}

// Policy sources: a resource's own policy, or its classification's.
const (
	PolicyOwn   = "own"
	PolicyClass = "class"
)

// ClassRow is one classification's policy on the catalog page.
type ClassRow struct {
	Classification string
	Set            bool
	Followers      int
}

// ClassPolicyPage edits the tenant's policy for one classification.
type ClassPolicyPage struct {
	Page
	Classification string
	Set            bool
	Followers      int
	Roles          []string
	Policy         PolicyForm
	FieldErrors    map[string]string
	FormError      string
}

// RetiredRow is a retired resource in the admin's catalog.
type RetiredRow struct {
	ID        string
	Name      string
	Secret    string // mount/path
	RetiredAt string
	RetiredBy string
	Reason    string
}

// PolicyPage is one resource's admin page: its details, its access
// policy, a cloud secret's rotation, and retiring (or restoring) it.
type PolicyPage struct {
	Page
	Resource CatalogItem
	Details  DetailsForm
	Retire   RetireForm
	Roles    []string
	// Source is PolicyOwn or PolicyClass (the resource follows its
	// classification's policy, which ClassSet says the tenant has).
	Source      string
	ClassSet    bool
	Policy      PolicyForm
	FieldErrors map[string]string
	FormError   string
	// Rotation is the scheduled rotation of a cloud secret (nil for Vault).
	Rotation *RotationForm
}

// DetailsForm is a resource's editable details as their form shows them
// (where the secret is cannot change: see CatalogItem.Secret).
type DetailsForm struct {
	Name           string
	Description    string
	OwnerTeam      string
	Classification string
	FollowsClass   bool // changing the classification changes its policy
	FieldErrors    map[string]string
	FormError      string
}

// RetireForm retires a resource or, once it is retired, restores it.
type RetireForm struct {
	Retired   bool
	RetiredAt string // once retired: when, by whom and why
	RetiredBy string
	Reason    string
	// Requests, Grants, Shares, Rotation and Replicas are what is in use:
	// retiring is refused until each is 0 (false).
	Requests  int
	Grants    int
	Shares    int
	Rotation  bool
	Replicas  int
	RevokeURL string            // the revocation center's preview of the resource's scope
	Fields    map[string]string // confirm and reason (retire), or reason (restore), as typed
	// FieldErrors and FormError are the retire form's, or the restore's.
	FieldErrors map[string]string
	FormError   string
}

// InUse reports whether anything keeps the resource from being retired.
func (f RetireForm) InUse() bool { return f.Requests+f.Grants+f.Shares+f.Replicas > 0 || f.Rotation }

// RotationForm is a cloud secret's rotation schedule as its form shows it.
type RotationForm struct {
	Every, Length, Alphabet, VerifyURL string
	Status                             string // when it last ran and how, and when it runs next
	Scheduled                          bool   // a schedule is saved: it can be stopped
	Retired                            bool   // the resource is retired: no schedule can be saved
	FieldErrors                        map[string]string
	Flash                              string
	Error                              string // why the last change was refused
}

// PolicyForm is an access policy as its form shows it.
type PolicyForm struct {
	RequesterRoles  []string
	RequesterGroups string // comma-separated IdP groups
	// Steps are the approval steps in order, then blank ones up to the
	// most a policy may have, offered to add a step.
	Steps            []StepForm
	DefaultDuration  string
	MaxDuration      string
	JustificationMin string
	TicketPattern    string
	Levels           []string
	PendingTimeout   string
}

// ChannelsPage sets the tenant's notification channels, tests them, and
// lists the notices sent, a page at a time.
type ChannelsPage struct {
	Page
	WebhookSet  bool
	Email       EmailForm
	Tests       []ChannelTestRow // the outcome of a test send just made
	Notices     NoticeList
	FieldErrors map[string]string
	FormError   string
}

// NoticeList is one page of the organization's notices, newest first,
// all of them or one object's, with links narrowing them to a delivery
// state and paging through them.
type NoticeList struct {
	Rows     []DeliveryRow
	Ref      string         // the object the list is narrowed to (its ID); "" for every object
	EveryURL string         // the newest page of every object's notices, same state
	State    string         // the delivery state shown, as a label ("" for every state)
	Filters  []NoticeFilter // every state, then each one (same object)
	Pager                   // to the newest and the next older page, same object and state
}

// NoticeFilter is a link narrowing the notices to one delivery state.
type NoticeFilter struct {
	Label   string
	State   string // "" for every state
	URL     string
	Current bool
}

// EmailForm is the tenant's email channel as its form shows it (never a
// password: only whether one is kept).
type EmailForm struct {
	Enabled        bool
	Own            bool // through the organization's own relay
	Addr           string
	From           string
	Username       string
	PasswordKept   bool
	GatehouseRelay bool // whether Gatehouse itself has a relay set up
}

// ChannelTestRow is how a test message went on one channel.
type ChannelTestRow struct {
	Channel string // "email" or "chat"
	State   string // delivered, failed, not-sent
	Reason  string
}
