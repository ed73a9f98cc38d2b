package web

// SecurityPage is the security dashboard: alerts and the monitor's settings.
type SecurityPage struct {
	Page
	CanManage   bool
	Alerts      []AlertRow // one page: open ones first, then newest first
	AlertPager  Pager      // to the first page of alerts and the next
	AlertsFrom  string     // the cursor this page of alerts starts after ("" for the first), kept by the acknowledge forms
	Settings    map[string]string
	Rules       []RuleToggle
	FieldErrors map[string]string
	FormError   string
}

// AlertRow is one alert.
type AlertRow struct {
	ID       string
	Rule     string
	Score    int
	Summary  string
	At       string
	Acked    string // "" while open
	EventURL string // the audit viewer at its events
}

// RuleToggle is one rule in the settings form.
type RuleToggle struct {
	Name    string
	Enabled bool
}
