package web

// SharesPage lists the organization's outgoing and incoming shares.
type SharesPage struct {
	Page
	CanPropose  bool
	Required    string // the share policy, for tenant admins to edit
	MaxTermDays string
	FieldErrors map[string]string
	FormError   string
	Outgoing    []ShareRow // this page's, newest first
	Incoming    []ShareRow // this page's, newest first
	Pager       Pager      // to the newest page of shares and the next older one
}

// ShareRow is one share in a list.
type ShareRow struct {
	ID        string
	Other     string // the organization on the other side
	State     string
	Mode      string
	Level     string
	TermEnd   string
	Purpose   string
	Resources int
}

// ShareFormPage proposes a share.
type ShareFormPage struct {
	Page
	Orgs        []Option
	Resources   []Option
	Fields      map[string]string
	Picked      map[string]bool // resource IDs picked
	FieldErrors map[string]string
	FormError   string
	MaxTermDays int
}

// Option is one choice of a select or checkbox list.
type Option struct {
	Value string
	Label string
}

// ShareDetailPage is one share, from the viewer's side.
type ShareDetailPage struct {
	Page
	ID            string
	Outgoing      bool
	Owner         string
	Recipient     string
	State         string
	Mode          string
	Level         string
	TermEnd       string
	Purpose       string
	Recipients    string
	MaxGrant      string
	Approvals     string // per-access counts, in words
	Resources     []string
	Timeline      []TimelineEntry
	Requests      []RequestRow     // one page of the access under the share the viewer may see, newest first
	RequestsPager Pager            // to the newest page of that access and the next older one
	Deliveries    ObjectDeliveries // the notices about it sent in the viewer's organization
	CanDecide     bool
	CanAccept     bool
	CanEnd        bool
	FieldErrors   map[string]string
	FormError     string
}

// SharedItemRow is a resource shared with the viewer's organization, in the catalog.
type SharedItemRow struct {
	ShareID  string
	ID       string
	Name     string
	Owner    string
	Level    string
	MaxGrant string
	Mode     string
}

// SharedRequestPage is the form asking for access to a shared resource.
type SharedRequestPage struct {
	Page
	Item        SharedItemRow
	Fields      map[string]string
	FieldErrors map[string]string
	FormError   string
}
