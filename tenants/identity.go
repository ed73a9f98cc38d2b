package tenants

// IdentityProvider is a tenant's OpenID Connect provider. The client secret
// itself lives in Vault; ClientSecretRef names where.
type IdentityProvider struct {
	IssuerURL            string
	ClientID             string
	ClientSecretRef      string // Vault KV path of the client secret, never the secret
	Scopes               []string
	GroupsClaim          string // the ID-token claim holding the person's groups
	RequireEmailVerified bool
	StepUpACR            string // acr values accepted for step-up (space-separated, sent as acr_values), or ""
	Enabled              bool
}

// RoleMapping grants Role to members of the IdP group Group.
type RoleMapping struct {
	Group string
	Role  Role
}

// StoreKind names a kind of secret store a tenant can bind.
type StoreKind string

// The store kinds: the tenant's Vault mount, and the cloud stores.
const (
	StoreVaultKV2 StoreKind = "vault-kv2"
	StoreAWS      StoreKind = "aws-secretsmanager"
	StoreAzure    StoreKind = "azure-keyvault"
	StoreGCP      StoreKind = "gcp-secretmanager"
)

// StoreBinding ties a tenant to a location in a secret store: for Vault KV v2
// the tenant's own mount, which every path Gatehouse touches stays inside.
type StoreBinding struct {
	Kind     StoreKind
	Location string
}

// Registration is everything needed to create a tenant in one step (used by
// seeding; the onboarding wizard builds the same pieces step by step).
type Registration struct {
	Tenant   Tenant
	IdP      IdentityProvider
	Mappings []RoleMapping
	Binding  StoreBinding
}
