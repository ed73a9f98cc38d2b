package tenants

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// CloudBinding is a tenant's binding of a cloud secret store. Its settings
// say where the store is and how Gatehouse acts there; its credentials are
// kept in Vault at CredentialRef and never in PostgreSQL.
type CloudBinding struct {
	ID            string
	TenantID      string
	Name          string
	Kind          StoreKind
	Settings      StoreSettings
	CredentialRef string
	CheckedAt     time.Time // the last connection test (zero: never)
	CheckError    string    // its error, "" when it passed
}

// StoreSettings are a binding's non-secret settings; which ones apply
// depends on the kind.
type StoreSettings struct {
	// AWS
	Account    string `json:"account,omitempty"`
	Region     string `json:"region,omitempty"`
	RoleARN    string `json:"role_arn,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Prefix     string `json:"prefix,omitempty"`
	// Azure
	VaultURL    string `json:"vault_url,omitempty"`
	DirectoryID string `json:"directory_id,omitempty"` // the Entra tenant
	ClientID    string `json:"client_id,omitempty"`
	// GCP
	Project string `json:"project,omitempty"`
}

// StoreCredentials are what Gatehouse signs in to a cloud store with. They
// go to Vault; String never shows them.
type StoreCredentials struct {
	AccessKeyID        string `json:"access_key_id,omitempty"`
	SecretAccessKey    string `json:"secret_access_key,omitempty"`
	ClientSecret       string `json:"client_secret,omitempty"`
	ServiceAccountJSON string `json:"service_account_json,omitempty"`
}

// String redacts the credentials.
func (StoreCredentials) String() string { return "[credentials redacted]" }

// GoString redacts the credentials.
func (StoreCredentials) GoString() string { return "[credentials redacted]" }

// Location is the binding's place in its store, unique across tenants:
// the account, region and prefix; the vault's URL; the project.
func (b CloudBinding) Location() string {
	s := b.Settings
	switch b.Kind {
	case StoreAWS:
		return "aws:" + s.Account + ":" + s.Region + ":" + s.Prefix
	case StoreAzure:
		return strings.TrimSuffix(strings.ToLower(s.VaultURL), "/")
	case StoreGCP:
		return "gcp:" + s.Project
	}
	return ""
}

// CloudKinds lists the cloud store kinds a tenant can bind.
func CloudKinds() []StoreKind { return []StoreKind{StoreAWS, StoreAzure, StoreGCP} }

var (
	awsAccountRE = regexp.MustCompile(`^[0-9]{12}$`)
	awsRegionRE  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	awsRoleRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	awsPrefixRE  = regexp.MustCompile(`^([A-Za-z0-9_+=.@-]+/)*$`)
	awsKeyIDRE   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	uuidRE       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	gcpProjectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	azureSuffix  = []string{".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net", ".vault.microsoftazure.de"}
)

// CheckCloudBinding validates a binding and, when withCreds, its
// credentials. It returns an apperr.Invalid with a message per bad field;
// messages never repeat a credential.
func CheckCloudBinding(b CloudBinding, c StoreCredentials, withCreds bool) error {
	f := map[string]string{}
	if n := len(strings.TrimSpace(b.Name)); n == 0 || n > 100 {
		f["name"] = "Give the binding a name of 1–100 characters."
	}
	s := b.Settings
	switch b.Kind {
	case StoreAWS:
		if !awsAccountRE.MatchString(s.Account) {
			f["account"] = "An AWS account ID is 12 digits."
		}
		if !awsRegionRE.MatchString(s.Region) {
			f["region"] = "Give an AWS region name, like eu-west-1."
		}
		if s.RoleARN != "" && (!awsRoleRE.MatchString(s.RoleARN) || !strings.Contains(s.RoleARN, "::"+s.Account+":")) {
			f["role_arn"] = "Give the ARN of an IAM role in this account, like arn:aws:iam::123456789012:role/gatehouse."
		}
		if !awsPrefixRE.MatchString(s.Prefix) {
			f["prefix"] = "A prefix is path segments each ending in /, like acme/ (or empty)."
		}
		if withCreds && !awsKeyIDRE.MatchString(c.AccessKeyID) {
			f["access_key_id"] = "Give the access key ID Gatehouse signs in with."
		}
		if withCreds && len(c.SecretAccessKey) < 16 {
			f["secret_access_key"] = "Give the secret access key of that key."
		}
	case StoreAzure:
		u, err := url.Parse(s.VaultURL)
		if err != nil || u.Scheme != "https" || u.Path != "" && u.Path != "/" || !hasAnySuffix(strings.ToLower(u.Hostname()), azureSuffix) {
			f["vault_url"] = "Give the key vault's URL, like https://acme.vault.azure.net."
		}
		if !uuidRE.MatchString(s.DirectoryID) {
			f["directory_id"] = "Give the Entra directory (tenant) ID, a UUID."
		}
		if !uuidRE.MatchString(s.ClientID) {
			f["client_id"] = "Give the application (client) ID, a UUID."
		}
		if withCreds && len(c.ClientSecret) < 8 {
			f["client_secret"] = "Give the application's client secret."
		}
	case StoreGCP:
		if !gcpProjectRE.MatchString(s.Project) {
			f["project"] = "Give the GCP project ID: 6–30 lowercase letters, digits and hyphens."
		}
		if withCreds && !strings.Contains(c.ServiceAccountJSON, `"type"`) {
			f["service_account_json"] = "Paste the service account's JSON key."
		}
	default:
		f["kind"] = "Pick AWS Secrets Manager, Azure Key Vault or GCP Secret Manager."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The store binding needs correcting.", f)
	}
	return nil
}

func hasAnySuffix(s string, suffixes []string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) && len(s) > len(x) {
			return true
		}
	}
	return false
}

// CredentialRef is the Vault KV path (mount/path) of a binding's credentials.
func CredentialRef(bindingID string) string { return fmt.Sprintf("gatehouse/stores/%s", bindingID) }
