package web

// ReviewsPage lists access review campaigns and starts one.
type ReviewsPage struct {
	Page
	Rows        []CampaignRow // one page, newest first
	Pager       Pager         // to the newest page and the next older one
	Fields      map[string]string
	FieldErrors map[string]string
	FormError   string
}

// CampaignRow is one campaign in a list.
type CampaignRow struct {
	ID       string
	Name     string
	Due      string
	Progress string // "3 of 7"
	State    string // open, overdue, completed
}

// CampaignPage is one campaign with its items.
type CampaignPage struct {
	Page
	ID          string
	Name        string
	Due         string
	State       string
	Progress    string
	Percent     int
	Items       []ReviewItemRow
	Deliveries  ObjectDeliveries // the reminders sent about it: who was told, and how delivery went
	FieldErrors map[string]string
	FormError   string
}

// ReviewItemRow is one item of a campaign.
type ReviewItemRow struct {
	ID       string
	Kind     string
	Label    string
	Decision string
	Note     string
	By       string
}
