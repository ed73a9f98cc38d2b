package web

// ReplicasPage lists a tenant's replicas of Vault secrets in cloud stores
// with the form adding one.
type ReplicasPage struct {
	Page
	Rows        []ReplicaRow
	Sources     []Option // Vault secrets of the catalog
	Bindings    []Option // cloud store bindings
	Fields      map[string]string
	FieldErrors map[string]string
	FormError   string
	Flash       string
}

// ReplicaRow is one replica and where it stands (never a value).
type ReplicaRow struct {
	ID, Source, Binding, Target, State, Detail, Checked string
}
