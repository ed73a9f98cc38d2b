package tenants

// Overview is one tenant as the platform operators' list shows it.
type Overview struct {
	Tenant
	IssuerURL  string
	IdPEnabled bool
	Sessions   int64 // sessions active in the window asked for
}
