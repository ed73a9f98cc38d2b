package web

// StoresPage lists a tenant's cloud store bindings and the form binding a
// new one.
type StoresPage struct {
	Page
	Bindings    []BindingRow
	Kinds       []Option // the cloud store kinds
	Fields      map[string]string
	FieldErrors map[string]string
	FormError   string
}

// BindingRow is one binding in a list.
type BindingRow struct {
	ID       string
	Name     string
	Kind     string // its label, e.g. "AWS Secrets Manager"
	Location string
	Status   string // "ok", "failing" or "untested"
	Checked  string // when last tested
	Error    string // the last test's error
}

// StorePage is one binding: its status, connection test and secrets.
type StorePage struct {
	Page
	Binding BindingRow
	Prefix  string
	Secrets []SecretRow // metadata only
	Error   string      // the store could not be listed
	Flash   string
}

// SecretRow is one secret's metadata (never its value).
type SecretRow struct {
	Name    string
	Version string
	Updated string
	AddURL  string // the catalog form, prefilled with this secret
}
