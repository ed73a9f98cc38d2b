// Package secretstores says what Gatehouse needs of a secret store, whatever
// the store: list and describe secrets (metadata only), read a value for a
// reveal, write a new version and put an older one back, and — for stores
// that can mint native credentials — grant, revoke and verify time-bound
// access. One subpackage per store implements it; the domain never imports
// a store's SDK. Errors wrap one of the sentinels below and never contain a
// secret value.
package secretstores

import (
	"context"
	"errors"
	"time"
)

// Kind names a kind of store; it is the store_kind of a binding.
type Kind string

// The store kinds Gatehouse has adapters for.
const (
	VaultKV2          Kind = "vault-kv2"
	AWSSecretsManager Kind = "aws-secretsmanager"
	AzureKeyVault     Kind = "azure-keyvault"
	GCPSecretManager  Kind = "gcp-secretmanager"
)

// Label is a human name for the kind.
func (k Kind) Label() string {
	switch k {
	case VaultKV2:
		return "HashiCorp Vault (KV v2)"
	case AWSSecretsManager:
		return "AWS Secrets Manager"
	case AzureKeyVault:
		return "Azure Key Vault"
	case GCPSecretManager:
		return "GCP Secret Manager"
	}
	return string(k)
}

// The error kinds every adapter maps its SDK's errors to (wrapped with
// context: match them with errors.Is).
var (
	// ErrNotFound: the secret (or version) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a name, value or setting the store can never accept.
	ErrInvalid = errors.New("invalid")
	// ErrPermission: the store refused Gatehouse's identity.
	ErrPermission = errors.New("permission denied")
	// ErrUnavailable: the store did not answer or throttled after the
	// SDK's own retries; trying again later may work.
	ErrUnavailable = errors.New("unavailable")
	// ErrBrokered: the store mints no native credentials; access to it is
	// brokered by Gatehouse (reveal only).
	ErrBrokered = errors.New("access is brokered: this store mints no credentials")
)

// IsPermanent reports whether retrying err cannot help.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrPermission) || errors.Is(err, ErrBrokered)
}

// SecretMeta describes a secret without its value.
type SecretMeta struct {
	Name           string
	Description    string
	CurrentVersion string
	UpdatedAt      time.Time // when the current version was written (zero when the store does not say)
	Tags           map[string]string
}

// Store is one bound location in a secret store: a Vault KV v2 mount, an
// AWS account and region, an Azure key vault, a GCP project.
type Store interface {
	// Kind says which kind of store this is.
	Kind() Kind
	// Check tests the connection and Gatehouse's permissions, with an
	// error that says which failed (wrong region or URL, credentials
	// refused, store unreachable).
	Check(ctx context.Context) error
	// List returns the metadata of the secrets whose names start with
	// prefix, sorted by name. It never reads a value.
	List(ctx context.Context, prefix string) ([]SecretMeta, error)
	// Describe returns one secret's metadata, or ErrNotFound.
	Describe(ctx context.Context, name string) (SecretMeta, error)
	// Read returns the current value of the secret, or ErrNotFound.
	Read(ctx context.Context, name string) (string, error)
	// ReadVersion returns the value of one version, or ErrNotFound.
	ReadVersion(ctx context.Context, name, version string) (string, error)
	// Write stores value as the new current version (creating the secret
	// when it does not exist) and returns the version's ID; the version
	// that was current stays readable and labelled as the previous one.
	Write(ctx context.Context, name, value string) (string, error)
	// Restore makes version current again (a rollback). Stores that
	// cannot move their "current" label write its value as a new version.
	Restore(ctx context.Context, name, version string) error
}

// Deleter is implemented by stores that can delete a secret (a replica
// purged when its source is revoked or deleted).
type Deleter interface {
	// Delete removes the secret with every version; where the store keeps
	// deleted secrets recoverable for a while (AWS, Azure), it does. A
	// missing secret is not an error.
	Delete(ctx context.Context, name string) error
}

// GrantSpec is one time-bound grant on one secret.
type GrantSpec struct {
	GrantID string        // Gatehouse's request ID; names what the store creates for it
	Tenant  string        // the tenant's slug, for the store's own records
	Subject string        // who holds the grant
	Name    string        // the secret
	Write   bool          // read-write instead of read
	TTL     time.Duration // the approved duration
}

// Credential is a native credential for a grant, shown to its holder once
// and never stored. Ref is what Gatehouse keeps to revoke and verify it.
type Credential struct {
	Ref       string
	Fields    []Field // e.g. access key ID, secret access key, session token
	ExpiresAt time.Time
	Note      string // how to use it, and how early revocation works
}

// Field is one named part of a credential.
type Field struct {
	Name, Value string
}

// Granter is implemented by stores that mint native, time-bound
// credentials. Stores without it are brokered: Gatehouse reads the value
// with its own identity and reveals it, only while the grant is active.
type Granter interface {
	// PrepareGrant creates what the grant's credentials will carry
	// (exactly the granted actions on exactly the granted secret).
	// Running it again is harmless.
	PrepareGrant(ctx context.Context, g GrantSpec) error
	// MintCredential mints a credential living until the grant ends.
	MintCredential(ctx context.Context, g GrantSpec, until time.Time) (Credential, error)
	// RevokeGrant ends every credential of the grant at once and removes
	// what PrepareGrant created. Running it again is safe.
	RevokeGrant(ctx context.Context, grantID string) error
	// VerifyGrantDead returns nil only when no credential of the grant can
	// still be used, and otherwise says what still lives.
	VerifyGrantDead(ctx context.Context, grantID string) error
}
