package azure

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets/fake"
)

// fakeVaultURL has three labels or more: the SDK's fake authentication
// challenge derives its resource from the host's last three.
const fakeVaultURL = "https://gatehouse-test.vault.azure.net"

// fakeVault is an in-memory key vault behind azsecrets/fake.Server. Like
// Key Vault it names versions with 32 hexadecimal characters, compares
// secret names case-insensitively, stamps versions in whole seconds,
// answers GetSecret with no version with the newest version (403 when that
// one is disabled) and 404 SecretNotFound for a missing secret or version,
// and pages its listings. Like a vault with soft delete (which Key Vault
// now enforces) DeleteSecret moves a secret with all its versions out of
// sight: GetSecret, the listings and DeleteSecret answer as for a missing
// secret (404), and SetSecret on its name answers 409 Conflict until it is
// recovered or purged (recover and purge below stand for an administrator
// doing so in Key Vault; the fake serves neither, so a Store calling them
// fails).
type fakeVault struct {
	mu       sync.Mutex
	now      func() time.Time
	secrets  map[string]*fakeSecret // by lower-case name
	deleted  map[string]*fakeSecret // soft-deleted, by lower-case name
	calls    int                    // requests that reached the fake
	pageSize int
}

type fakeSecret struct {
	name     string
	versions []*fakeVersion // oldest first
}

type fakeVersion struct {
	id          string
	value       string
	contentType *string
	tags        map[string]*string
	enabled     bool
	created     time.Time
}

func newFakeVault() *fakeVault {
	return &fakeVault{now: time.Now, secrets: map[string]*fakeSecret{}, deleted: map[string]*fakeSecret{}, pageSize: 2}
}

// server returns a fake.Server answering from v.
func (v *fakeVault) server() *fake.Server {
	return &fake.Server{
		GetSecret:                            v.getSecret,
		SetSecret:                            v.setSecret,
		DeleteSecret:                         v.deleteSecret,
		NewListSecretPropertiesPager:         v.listSecrets,
		NewListSecretPropertiesVersionsPager: v.listVersions,
	}
}

// newTestStore returns a Store over srv, with retry delays short enough
// for tests; wrap, when not nil, wraps the fake transport.
func newTestStore(t *testing.T, srv *fake.Server, wrap func(policy.Transporter) policy.Transporter) *Store {
	t.Helper()
	var tr policy.Transporter = fake.NewServerTransport(srv)
	if wrap != nil {
		tr = wrap(tr)
	}
	s, err := New(fakeVaultURL, &azfake.TokenCredential{}, &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: tr,
		Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond},
	}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func newVersionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// put adds a version directly, as another writer would; it returns its ID.
func (v *fakeVault) put(name, value string, tags map[string]*string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.addVersion(name, value, nil, tags).id
}

// disable disables one version directly.
func (v *fakeVault) disable(name, version string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, ver := range v.secrets[strings.ToLower(name)].versions {
		if ver.id == version {
			ver.enabled = false
		}
	}
}

// isDeleted reports whether name is a deleted but recoverable secret, and
// how many versions it keeps.
func (v *fakeVault) isDeleted(name string) (bool, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sec := v.deleted[strings.ToLower(name)]
	if sec == nil {
		return false, 0
	}
	return true, len(sec.versions)
}

// recover brings a deleted secret back with all its versions, as an
// administrator recovering it in Key Vault would.
func (v *fakeVault) recover(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if sec := v.deleted[strings.ToLower(name)]; sec != nil {
		delete(v.deleted, strings.ToLower(name))
		v.secrets[strings.ToLower(name)] = sec
	}
}

// purge removes a deleted secret for good, as an administrator purging it
// in Key Vault would; its name can then be reused.
func (v *fakeVault) purge(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.deleted, strings.ToLower(name))
}

func (v *fakeVault) requests() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls
}

// addVersion needs v.mu held.
func (v *fakeVault) addVersion(name, value string, contentType *string, tags map[string]*string) *fakeVersion {
	sec := v.secrets[strings.ToLower(name)]
	if sec == nil {
		sec = &fakeSecret{name: name}
		v.secrets[strings.ToLower(name)] = sec
	}
	ver := &fakeVersion{id: newVersionID(), value: value, contentType: contentType, enabled: true, created: v.now().UTC().Truncate(time.Second)}
	if len(tags) > 0 {
		ver.tags = map[string]*string{}
		for k, t := range tags {
			if t != nil {
				c := *t
				ver.tags[k] = &c
			}
		}
	}
	sec.versions = append(sec.versions, ver)
	return ver
}

func (ver *fakeVersion) attributes() *azsecrets.SecretAttributes {
	enabled, created, updated := ver.enabled, ver.created, ver.created
	return &azsecrets.SecretAttributes{Enabled: &enabled, Created: &created, Updated: &updated}
}

func (ver *fakeVersion) secret(name string) azsecrets.Secret {
	id := azsecrets.ID(fakeVaultURL + "/secrets/" + name + "/" + ver.id)
	value := ver.value
	return azsecrets.Secret{ID: &id, Value: &value, ContentType: ver.contentType, Tags: ver.tags, Attributes: ver.attributes()}
}

func (v *fakeVault) getSecret(_ context.Context, name, version string, _ *azsecrets.GetSecretOptions) (resp azfake.Responder[azsecrets.GetSecretResponse], errResp azfake.ErrorResponder) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	if !validName(name) {
		errResp.SetResponseError(http.StatusBadRequest, "BadParameter")
		return
	}
	sec := v.secrets[strings.ToLower(name)]
	if sec == nil {
		errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
		return
	}
	var ver *fakeVersion
	if version == "" {
		ver = sec.versions[len(sec.versions)-1]
	} else {
		for _, x := range sec.versions {
			if strings.EqualFold(x.id, version) {
				ver = x
			}
		}
	}
	switch {
	case ver == nil:
		errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
	case !ver.enabled:
		errResp.SetResponseError(http.StatusForbidden, "Forbidden")
	default:
		resp.SetResponse(http.StatusOK, azsecrets.GetSecretResponse{Secret: ver.secret(sec.name)}, nil)
	}
	return
}

func (v *fakeVault) setSecret(_ context.Context, name string, p azsecrets.SetSecretParameters, _ *azsecrets.SetSecretOptions) (resp azfake.Responder[azsecrets.SetSecretResponse], errResp azfake.ErrorResponder) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	if !validName(name) || p.Value == nil || len(*p.Value) > maxValueBytes {
		errResp.SetResponseError(http.StatusBadRequest, "BadParameter")
		return
	}
	if v.deleted[strings.ToLower(name)] != nil {
		// "Secret … is currently in a deleted but recoverable state, and
		// its name cannot be reused; in this state, the secret can only be
		// recovered or purged."
		errResp.SetResponseError(http.StatusConflict, "Conflict")
		return
	}
	ver := v.addVersion(name, *p.Value, p.ContentType, p.Tags)
	resp.SetResponse(http.StatusOK, azsecrets.SetSecretResponse{Secret: ver.secret(v.secrets[strings.ToLower(name)].name)}, nil)
	return
}

// deleteSecret soft-deletes a secret with all its versions and answers
// with the deleted secret's current version ID, recovery ID and dates (no
// value), as Key Vault does; a missing or already deleted secret is 404.
func (v *fakeVault) deleteSecret(_ context.Context, name string, _ *azsecrets.DeleteSecretOptions) (resp azfake.Responder[azsecrets.DeleteSecretResponse], errResp azfake.ErrorResponder) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	if !validName(name) {
		errResp.SetResponseError(http.StatusBadRequest, "BadParameter")
		return
	}
	sec := v.secrets[strings.ToLower(name)]
	if sec == nil {
		errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
		return
	}
	delete(v.secrets, strings.ToLower(name))
	v.deleted[strings.ToLower(name)] = sec
	last := sec.versions[len(sec.versions)-1]
	id := azsecrets.ID(fakeVaultURL + "/secrets/" + sec.name + "/" + last.id)
	recoveryID := fakeVaultURL + "/deletedsecrets/" + sec.name
	deleted := v.now().UTC().Truncate(time.Second)
	purge := deleted.Add(90 * 24 * time.Hour)
	a := last.attributes()
	a.RecoverableDays, a.RecoveryLevel = to.Ptr[int32](90), to.Ptr("Recoverable+Purgeable")
	resp.SetResponse(http.StatusOK, azsecrets.DeleteSecretResponse{DeletedSecret: azsecrets.DeletedSecret{
		ID: &id, RecoveryID: &recoveryID, DeletedDate: &deleted, ScheduledPurgeDate: &purge,
		Attributes: a, ContentType: last.contentType, Tags: last.tags,
	}}, nil)
	return
}

// listSecrets lists every secret with its newest version's attributes and
// tags, and an ID without a version, as Key Vault does.
func (v *fakeVault) listSecrets(*azsecrets.ListSecretPropertiesOptions) (resp azfake.PagerResponder[azsecrets.ListSecretPropertiesResponse]) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	var all []*azsecrets.SecretProperties
	for _, sec := range v.secrets {
		last := sec.versions[len(sec.versions)-1]
		id := azsecrets.ID(fakeVaultURL + "/secrets/" + sec.name)
		all = append(all, &azsecrets.SecretProperties{ID: &id, Attributes: last.attributes(), Tags: last.tags, ContentType: last.contentType})
	}
	for _, page := range pages(all, v.pageSize) {
		resp.AddPage(http.StatusOK, azsecrets.ListSecretPropertiesResponse{SecretPropertiesListResult: azsecrets.SecretPropertiesListResult{Value: page}}, nil)
	}
	return resp
}

// listVersions lists a secret's versions, in no particular order; a
// missing secret has none.
func (v *fakeVault) listVersions(name string, _ *azsecrets.ListSecretPropertiesVersionsOptions) (resp azfake.PagerResponder[azsecrets.ListSecretPropertiesVersionsResponse]) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	var all []*azsecrets.SecretProperties
	if sec := v.secrets[strings.ToLower(name)]; sec != nil {
		for _, ver := range sec.versions {
			id := azsecrets.ID(fakeVaultURL + "/secrets/" + sec.name + "/" + ver.id)
			all = append(all, &azsecrets.SecretProperties{ID: &id, Attributes: ver.attributes(), Tags: ver.tags, ContentType: ver.contentType})
		}
	}
	// Key Vault promises no order: hand them back newest first.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	for _, page := range pages(all, v.pageSize) {
		resp.AddPage(http.StatusOK, azsecrets.ListSecretPropertiesVersionsResponse{SecretPropertiesListResult: azsecrets.SecretPropertiesListResult{Value: page}}, nil)
	}
	return resp
}

// pages splits all into pages of size n; there is always one page.
func pages[T any](all []T, n int) [][]T {
	out := [][]T{}
	for len(all) > n {
		out = append(out, all[:n])
		all = all[n:]
	}
	return append(out, all)
}
