package web

// Pager is where one page of a long list, read a page at a time, links to.
type Pager struct {
	Older     bool   // this page is not the list's first
	NewestURL string // the list's first page
	OlderURL  string // the next page; "" when no row follows this page
}
