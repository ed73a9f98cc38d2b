package azure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/gatehouse/gatehouse/secretstores"
)

// maxValueBytes is Key Vault's limit on a secret value.
const maxValueBytes = 25 * 1024

// List returns the metadata of the secrets whose names start with prefix
// (compared case-insensitively, as Key Vault compares names), sorted by
// name ignoring case. It never reads a value. CurrentVersion is left empty: Key Vault's
// listing does not say which version is current (Describe does).
// UpdatedAt is when the current version was created. It fails with
// secretstores.ErrInvalid when no secret name can start with prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]secretstores.SecretMeta, error) {
	if prefix != "" {
		if err := s.checkName("listing secrets under a prefix", prefix); err != nil {
			return nil, err
		}
	}
	var out []secretstores.SecretMeta
	pager := s.client.NewListSecretPropertiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, s.fail("listing secrets", err)
		}
		for _, p := range page.Value {
			if p == nil {
				continue
			}
			name, _ := idParts(p.ID)
			if name == "" || !strings.HasPrefix(strings.ToLower(name), strings.ToLower(prefix)) {
				continue
			}
			out = append(out, meta(name, "", p.Attributes, p.Tags))
		}
	}
	slices.SortFunc(out, func(a, b secretstores.SecretMeta) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

// Describe returns one secret's metadata without reading its value. Its
// current version is the newest enabled one (by creation, then update
// time; the newest of all when none is enabled). Description is the
// current version's "description" tag, Tags all its tags, UpdatedAt when it
// was created. Key Vault's timestamps are whole seconds, so of two versions
// written in the same second the one with the greater ID is taken. It
// returns secretstores.ErrNotFound when the secret has no versions.
func (s *Store) Describe(ctx context.Context, name string) (secretstores.SecretMeta, error) {
	op := "describing secret " + name
	if err := s.checkName("describing a secret", name); err != nil {
		return secretstores.SecretMeta{}, err
	}
	var cur *azsecrets.SecretProperties
	pager := s.client.NewListSecretPropertiesVersionsPager(name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return secretstores.SecretMeta{}, s.fail(op, err)
		}
		for _, p := range page.Value {
			if _, v := idParts(pID(p)); v != "" && (cur == nil || newer(p, cur)) {
				cur = p
			}
		}
	}
	if cur == nil {
		return secretstores.SecretMeta{}, &storeError{
			msg:  fmt.Sprintf("azure key vault %s: %s: not found", s.url, op),
			kind: secretstores.ErrNotFound,
		}
	}
	n, v := idParts(cur.ID)
	return meta(n, v, cur.Attributes, cur.Tags), nil
}

// Read returns the current value of the secret. It fails with
// secretstores.ErrNotFound when the secret does not exist, and with
// secretstores.ErrPermission when its current version is disabled.
func (s *Store) Read(ctx context.Context, name string) (string, error) {
	if err := s.checkName("reading a secret", name); err != nil {
		return "", err
	}
	return s.get(ctx, "reading secret "+name, name, "")
}

// ReadVersion returns the value of one version of the secret. It fails
// with secretstores.ErrNotFound when the secret or the version does not
// exist (without asking Key Vault when version is not 32 hexadecimal
// characters).
func (s *Store) ReadVersion(ctx context.Context, name, version string) (string, error) {
	op := fmt.Sprintf("reading version %s of secret %s", clip(version), name)
	if err := s.checkName("reading a secret version", name); err != nil {
		return "", err
	}
	if err := s.checkVersion(op, version); err != nil {
		return "", err
	}
	return s.get(ctx, op, name, version)
}

func (s *Store) get(ctx context.Context, op, name, version string) (string, error) {
	resp, err := s.client.GetSecret(ctx, name, version, nil)
	if err != nil {
		return "", s.fail(op, err)
	}
	if resp.Value == nil {
		return "", nil
	}
	return *resp.Value, nil
}

// Write stores value as a new version of the secret (creating the secret
// when it does not exist) and returns the new version's ID. The new
// version carries no tags: Key Vault keeps tags per version. It fails with
// secretstores.ErrInvalid for a bad name, a value over 25 KiB, or a name
// whose secret was deleted and is still recoverable (Key Vault's 409
// Conflict: it must be recovered or purged in Key Vault first), and never
// puts the value in an error.
func (s *Store) Write(ctx context.Context, name, value string) (string, error) {
	op := "writing secret " + name
	if err := s.checkName("writing a secret", name); err != nil {
		return "", err
	}
	if len(value) > maxValueBytes {
		return "", &storeError{
			msg:  fmt.Sprintf("azure key vault %s: %s: the value is %d bytes; Key Vault takes at most %d", s.url, op, len(value), maxValueBytes),
			kind: secretstores.ErrInvalid,
		}
	}
	resp, err := s.client.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: &value}, nil)
	if err != nil {
		return "", s.fail(op, err)
	}
	_, v := idParts(resp.ID)
	if v == "" {
		return "", &storeError{
			msg:  fmt.Sprintf("azure key vault %s: %s: Key Vault's answer names no version", s.url, op),
			kind: secretstores.ErrUnavailable,
		}
	}
	return v, nil
}

// Restore makes version's value current again. Key Vault cannot move
// "current" to an older version, so Restore reads that version and writes
// its value (with its content type and tags) as a new version; the
// versions in between stay readable. It fails with secretstores.ErrNotFound
// when the secret or the version does not exist.
func (s *Store) Restore(ctx context.Context, name, version string) error {
	op := fmt.Sprintf("restoring version %s of secret %s", clip(version), name)
	if err := s.checkName("restoring a secret", name); err != nil {
		return err
	}
	if err := s.checkVersion(op, version); err != nil {
		return err
	}
	old, err := s.client.GetSecret(ctx, name, version, nil)
	if err != nil {
		return s.fail(op, err)
	}
	value := ""
	if old.Value != nil {
		value = *old.Value
	}
	params := azsecrets.SetSecretParameters{Value: &value, ContentType: old.ContentType, Tags: old.Tags}
	if _, err := s.client.SetSecret(ctx, name, params, nil); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// storeError is what the adapter returns: a message of its own (never the
// SDK's, which can quote a response body), matching one sentinel and, with
// errors.As, the SDK's error.
type storeError struct {
	msg   string
	kind  error // a secretstores sentinel
	cause error // the SDK's error; nil for local checks
}

func (e *storeError) Error() string { return e.msg }

func (e *storeError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// fail maps an error from the SDK during op to the secretstores sentinel
// it means, with a message naming the vault and op. It is the one place
// errors are mapped: Key Vault's 404 means not found; 401 and 403 (and
// Entra ID refusing the credential) permission denied; 408, 429 and 5xx
// (already retried by azcore) and transport errors unavailable; 409 and
// other 4xx invalid (409 is Key Vault refusing the name of a deleted but
// recoverable secret).
func (s *Store) fail(op string, err error) error {
	kind, detail := secretstores.ErrUnavailable, ""
	var re *azcore.ResponseError
	var afe *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &re):
		status := fmt.Sprintf("HTTP %d", re.StatusCode)
		if re.ErrorCode != "" {
			status += " " + re.ErrorCode
		}
		switch c := re.StatusCode; {
		case c == http.StatusNotFound:
			kind, detail = secretstores.ErrNotFound, "not found ("+status+")"
		case c == http.StatusUnauthorized || c == http.StatusForbidden:
			kind, detail = secretstores.ErrPermission, "permission denied: Key Vault refused Gatehouse's identity ("+status+"); check the vault's access policies or RBAC role assignments"
		case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
			kind, detail = secretstores.ErrUnavailable, "unavailable after retries ("+status+")"
		case c == http.StatusConflict:
			// What Key Vault answers when the name belongs to a secret
			// deleted but recoverable (or still being deleted).
			kind, detail = secretstores.ErrInvalid, "the secret is deleted but recoverable: recover or purge it in Key Vault first ("+status+")"
		default:
			kind, detail = secretstores.ErrInvalid, "rejected by Key Vault ("+status+")"
		}
	case errors.As(err, &afe):
		if r := afe.RawResponse; r != nil && r.StatusCode >= 400 && r.StatusCode < 500 && r.StatusCode != http.StatusTooManyRequests {
			kind, detail = secretstores.ErrPermission, fmt.Sprintf("permission denied: Microsoft Entra ID refused Gatehouse's credential (HTTP %d)", r.StatusCode)
		} else {
			detail = "unavailable: could not get a token from Microsoft Entra ID"
		}
	default:
		// Transport errors and timeouts say what failed without quoting
		// any response; other errors (a malformed answer) might, so only
		// their type is told.
		var ue *url.Error
		var ne net.Error
		if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			detail = "unavailable: " + err.Error()
		} else {
			detail = fmt.Sprintf("unavailable: the request failed (%T; details withheld as they may quote the answer)", err)
		}
	}
	return &storeError{msg: fmt.Sprintf("azure key vault %s: %s: %s", s.url, op, detail), kind: kind, cause: err}
}

// idParts returns the secret name and version in id (empty when absent),
// without the panic azsecrets.ID's methods have on malformed IDs.
func idParts(id *azsecrets.ID) (name, version string) {
	if id == nil {
		return "", ""
	}
	u, err := url.Parse(string(*id))
	if err != nil {
		return "", ""
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "secrets" || parts[1] == "" {
		return "", ""
	}
	return id.Name(), id.Version()
}

func pID(p *azsecrets.SecretProperties) *azsecrets.ID {
	if p == nil {
		return nil
	}
	return p.ID
}

// newer reports whether version a should be current rather than b:
// enabled before disabled, then by creation time, update time and ID.
func newer(a, b *azsecrets.SecretProperties) bool {
	ea, ca, ua := attrs(a.Attributes)
	eb, cb, ub := attrs(b.Attributes)
	_, va := idParts(a.ID)
	_, vb := idParts(b.ID)
	if ea != eb {
		return ea
	}
	return cmp.Or(ca.Compare(cb), ua.Compare(ub), strings.Compare(va, vb)) > 0
}

func attrs(a *azsecrets.SecretAttributes) (enabled bool, created, updated time.Time) {
	if a == nil {
		return true, time.Time{}, time.Time{}
	}
	enabled = a.Enabled == nil || *a.Enabled
	if a.Created != nil {
		created = *a.Created
	}
	if a.Updated != nil {
		updated = *a.Updated
	}
	return enabled, created, updated
}

// meta builds a SecretMeta; UpdatedAt is the creation time of the version
// the attributes describe (its update time when Key Vault gives none).
func meta(name, version string, a *azsecrets.SecretAttributes, tags map[string]*string) secretstores.SecretMeta {
	m := secretstores.SecretMeta{Name: name, CurrentVersion: version}
	if len(tags) > 0 {
		m.Tags = make(map[string]string, len(tags))
		for k, v := range tags {
			if v != nil {
				m.Tags[k] = *v
			} else {
				m.Tags[k] = ""
			}
		}
		m.Description = m.Tags["description"]
	}
	_, created, updated := attrs(a)
	if created.IsZero() {
		created = updated
	}
	if !created.IsZero() {
		m.UpdatedAt = created.UTC()
	}
	return m
}
