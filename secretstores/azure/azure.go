// Package azure is Gatehouse's adapter for Azure Key Vault secrets: one
// Store per key vault, reached with Gatehouse's own Microsoft Entra identity.
// Key Vault mints no credentials, so access to it is brokered: Store does
// not implement secretstores.Granter. Delete soft-deletes: Key Vault keeps
// a deleted secret recoverable, and Gatehouse never purges.
//
// Throttling (429), timeouts and server errors are retried by azcore's own
// retry policy (configured through the azsecrets.ClientOptions passed to
// New); only what still fails after those retries comes back, as
// secretstores.ErrUnavailable. Errors never contain a secret value nor the
// body of Key Vault's error responses.
package azure

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/gatehouse/gatehouse/secretstores"
)

// Store is one Azure key vault. It is safe for concurrent use.
type Store struct {
	client *azsecrets.Client
	url    string // https://<vault>.vault.azure.net, no trailing slash
}

var _ secretstores.Store = (*Store)(nil)

// New returns a Store for the key vault at vaultURL, authenticating with
// cred. opts may be nil; its Retry settings govern how throttling and
// server errors are retried. It checks nothing over the network (call
// Check for that) and fails, with an error wrapping
// secretstores.ErrInvalid, when cred is nil or vaultURL is not of the form
// https://<vault-name><suffix>[/] with a Key Vault DNS suffix
// (.vault.azure.net, .vault.azure.cn, .vault.usgovcloudapi.net,
// .vault.microsoftazure.de). When opts carries a custom Transport (a
// test's fake server) any https host is accepted.
func New(vaultURL string, cred azcore.TokenCredential, opts *azsecrets.ClientOptions) (*Store, error) {
	u, err := checkVaultURL(vaultURL, opts != nil && opts.Transport != nil)
	if err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, fmt.Errorf("%w: azure key vault %s: no credential given", secretstores.ErrInvalid, u)
	}
	c, err := azsecrets.NewClient(u, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: azure key vault %s: creating the client: %v", secretstores.ErrInvalid, u, err)
	}
	return &Store{client: c, url: u}, nil
}

// Credential returns a credential for the Microsoft Entra application
// clientID in tenantID, authenticating with clientSecret (Gatehouse keeps
// the three in Vault). It authenticates to the Azure public cloud and
// makes no network call until first used. It fails, with an error wrapping
// secretstores.ErrInvalid that never contains clientSecret, when a value
// is empty or malformed.
func Credential(tenantID, clientID, clientSecret string) (azcore.TokenCredential, error) {
	if tenantID == "" || clientID == "" || clientSecret == "" {
		return nil, fmt.Errorf("%w: azure credential: tenant ID, client ID and client secret are all required", secretstores.ErrInvalid)
	}
	c, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret, nil)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), clientSecret, "[redacted]")
		return nil, fmt.Errorf("%w: azure credential for client %q in tenant %q: %s", secretstores.ErrInvalid, clientID, tenantID, msg)
	}
	return c, nil
}

// Kind returns secretstores.AzureKeyVault.
func (s *Store) Kind() secretstores.Kind { return secretstores.AzureKeyVault }

// Check lists one page of the vault's secret properties. Its error wraps
// secretstores.ErrPermission when Key Vault or Microsoft Entra ID refused
// Gatehouse's identity, and secretstores.ErrUnavailable when the vault did
// not answer (a wrong vault name usually shows as an unknown host).
func (s *Store) Check(ctx context.Context) error {
	pager := s.client.NewListSecretPropertiesPager(nil)
	if !pager.More() {
		return nil
	}
	if _, err := pager.NextPage(ctx); err != nil {
		return s.fail("checking access by listing secrets (Gatehouse needs list, get and set on secrets, and delete where it deletes them)", err)
	}
	return nil
}

// checkVaultURL returns the normalized vault URL, or an ErrInvalid error.
func checkVaultURL(raw string, anyHost bool) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: azure key vault URL %q: %s", secretstores.ErrInvalid, raw, why)
	}
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", fmt.Errorf("%w: azure key vault URL is empty", secretstores.ErrInvalid)
	case err != nil:
		return "", bad("not a URL")
	case u.User != nil:
		// Don't echo raw: it carries a password or token.
		return "", fmt.Errorf("%w: azure key vault URL must not carry a user name or password", secretstores.ErrInvalid)
	case u.Scheme != "https":
		return "", bad("it must use https")
	case u.Host == "":
		return "", bad("it has no host")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", bad("it must be just https://<vault-name>.vault.azure.net, with no path or query")
	}
	host := strings.ToLower(u.Host)
	if !anyHost && !isKeyVaultHost(host) {
		return "", bad("the host must be <vault-name> followed by a Key Vault DNS suffix (.vault.azure.net, .vault.azure.cn, .vault.usgovcloudapi.net or .vault.microsoftazure.de)")
	}
	return "https://" + host, nil
}

// isKeyVaultHost reports whether host is one label followed by a Key Vault
// DNS suffix, with no port.
func isKeyVaultHost(host string) bool {
	for _, suffix := range []string{".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net", ".vault.microsoftazure.de"} {
		if name, ok := strings.CutSuffix(host, suffix); ok {
			return name != "" && !strings.ContainsAny(name, ".:")
		}
	}
	return false
}

// checkName returns an ErrInvalid error unless name can name a Key Vault
// secret: 1 to 127 ASCII letters, digits and hyphens.
func (s *Store) checkName(op, name string) error {
	if validName(name) {
		return nil
	}
	return &storeError{
		msg:  fmt.Sprintf("azure key vault %s: %s: invalid name %q: Key Vault secret names are 1 to 127 letters, digits and hyphens", s.url, op, clip(name)),
		kind: secretstores.ErrInvalid,
	}
}

func validName(name string) bool {
	if len(name) < 1 || len(name) > 127 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkVersion returns an ErrNotFound error unless version has the form of
// a Key Vault secret version (32 hexadecimal characters): no other version
// can exist, so there is no need to ask.
func (s *Store) checkVersion(op, version string) error {
	if len(version) == 32 && strings.Trim(strings.ToLower(version), "0123456789abcdef") == "" {
		return nil
	}
	return &storeError{
		msg:  fmt.Sprintf("azure key vault %s: %s: no version %q: Key Vault versions are 32 hexadecimal characters", s.url, op, clip(version)),
		kind: secretstores.ErrNotFound,
	}
}

// clip shortens caller input quoted in an error.
func clip(s string) string {
	if len(s) > 140 {
		return s[:140] + "..."
	}
	return s
}
