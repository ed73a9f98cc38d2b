package web

// SessionsPage is "Your sessions": the signed-in person's active sessions
// in their organization, with the forms ending the others.
type SessionsPage struct {
	Page
	Sessions []SessionRow // newest first
	Others   int          // how many are not the one asking
	Idle     string       // the idle timeout, in words ("30 minutes")
}

// SessionRow is one session as its owner sees it. Ref is the session's
// opaque reference, the only way a form names it: never the token or its
// hash.
type SessionRow struct {
	Ref        string
	SignedIn   string
	LastActive string
	Address    string // the client address it was last used from
	// SignedInFrom is the sign-in's address, set only when it differs
	// from Address (a session used from somewhere new is worth a look).
	SignedInFrom string
	Browser      string // a plain description of the user agent (never trusted)
	UserAgent    string // the user agent as sent, shown on hover
	StepUp       bool   // began with a fresh re-authentication
	Current      bool   // the session showing this page
}
