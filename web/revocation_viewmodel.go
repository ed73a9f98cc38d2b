package web

// RevocationsPage is the revocation center: pick a scope, see past revocations.
type RevocationsPage struct {
	Page
	Operator    bool // sees every scope
	Kinds       []string
	Scope       string
	FieldErrors map[string]string
	FormError   string
	Rows        []RevocationRow // one page, newest first
	Pager       Pager           // to the newest page and the next older one
}

// RevocationRow is one revocation in a list.
type RevocationRow struct {
	ID      string
	Scope   string
	Reason  string
	Actor   string
	Started string
	State   string // running, completed
	Lifted  string
}

// RevocationPreviewPage shows what a revocation will hit and asks to confirm.
type RevocationPreviewPage struct {
	Page
	Scope       string
	Sessions    int
	Grants      int
	Shares      int
	Tenants     []string
	CanRotate   bool
	Fields      map[string]string
	FieldErrors map[string]string
	FormError   string
}

// RevocationPage is one revocation's live progress.
type RevocationPage struct {
	Page
	Progress RevocationProgress
	Reason   string
	Actor    string
	Started  string
	Lifted   string
	CanLift  bool
	Items    []RevocationItemRow
	Told     []ToldRow // the organizations told, once it completed (the first ones, when there are very many)
	// ToldTotal is how many notices it sent: more than len(Told) when the
	// page does not list them all (the JSON report does).
	ToldTotal int
}

// ToldRow is one organization told of a revocation on one channel.
type ToldRow struct {
	Org     string
	Channel string
	To      string // the recipients; "" when they are another organization's to know
	State   string
	Reason  string
	At      string
	Failing bool
}

// RevocationProgress is the part polled while the revocation runs.
type RevocationProgress struct {
	ID        string
	Scope     string
	Completed bool
	Percent   int
	Sessions  int
	Total     int
	Verified  int
	Failed    int
	Pending   int
	Rotated   []string
	LastError string
	// The block on new access in the scope: in force since BlockedSince
	// until lifted (BlockLifted, by BlockLiftedBy; "" while in force).
	BlockedSince  string
	BlockLifted   string
	BlockLiftedBy string
}

// RevocationItemRow is one grant of a revocation.
type RevocationItemRow struct {
	Resource string
	Holder   string
	State    string
	Attempts int
	Error    string
}
