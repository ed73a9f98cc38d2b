package azure

import (
	"context"
	"errors"
	"io"
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

	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/secretstores/storetest"
)

const testValue = "azure-test-value-5d1e"

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) secretstores.Store {
		return newTestStore(t, newFakeVault().server(), nil)
	})
}

func TestStoreIsBrokered(t *testing.T) {
	s := newTestStore(t, newFakeVault().server(), nil)
	if _, ok := any(s).(secretstores.Granter); ok {
		t.Error("Store implements secretstores.Granter; Azure access is brokered")
	}
	if s.Kind() != secretstores.AzureKeyVault {
		t.Errorf("Kind: got %q", s.Kind())
	}
}

func TestNewVaultURL(t *testing.T) {
	t.Parallel()
	cred := &azfake.TokenCredential{}
	for _, u := range []string{
		"https://myvault.vault.azure.net",
		"https://myvault.vault.azure.net/",
		"https://MyVault.Vault.Azure.Net/",
		"https://myvault.vault.azure.cn",
		"https://myvault.vault.usgovcloudapi.net",
		"https://myvault.vault.microsoftazure.de/",
	} {
		s, err := New(u, cred, nil)
		if err != nil {
			t.Errorf("New(%q): %v", u, err)
		} else if strings.HasSuffix(s.url, "/") || s.url != strings.ToLower(strings.TrimSuffix(u, "/")) {
			t.Errorf("New(%q): normalized to %q", u, s.url)
		}
	}
	for _, u := range []string{
		"",
		"myvault.vault.azure.net",
		"http://myvault.vault.azure.net",
		"https://vault.azure.net",
		"https://.vault.azure.net",
		"https://a.b.vault.azure.net",
		"https://myvault.vault.azure.net:8443",
		"https://myvault.vault.azure.net/secrets/x",
		"https://myvault.vault.azure.net/?x=1",
		"https://example.com",
		"https://myvault.vault.azure.net.evil.example",
		"https://myvault.managedhsm.azure.net",
		"::not a url",
	} {
		if _, err := New(u, cred, nil); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("New(%q): got %v, want ErrInvalid", u, err)
		}
	}
	_, err := New("https://admin:hunter2@myvault.vault.azure.net", cred, nil)
	if !errors.Is(err, secretstores.ErrInvalid) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("New(URL with password): got %v, want ErrInvalid without the password", err)
	}
	if _, err := New("https://myvault.vault.azure.net", nil, nil); !errors.Is(err, secretstores.ErrInvalid) {
		t.Errorf("New(nil credential): got %v, want ErrInvalid", err)
	}
	// A custom transport (a fake) may use any https host, never http.
	opts := &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: http.DefaultClient}}
	if _, err := New("https://localhost:8443", cred, opts); err != nil {
		t.Errorf("New(any host, custom transport): %v", err)
	}
	if _, err := New("http://localhost:8443", cred, opts); !errors.Is(err, secretstores.ErrInvalid) {
		t.Errorf("New(http, custom transport): got %v, want ErrInvalid", err)
	}
}

func TestCredential(t *testing.T) {
	t.Parallel()
	const secret = "client-secret-c0ffee"
	if c, err := Credential("00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", secret); err != nil || c == nil {
		t.Fatalf("Credential: %v", err)
	}
	for _, args := range [][3]string{{"", "c", secret}, {"t", "", secret}, {"t", "c", ""}, {"not a tenant!", "c", secret}} {
		_, err := Credential(args[0], args[1], args[2])
		if !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Credential(%q, %q, …): got %v, want ErrInvalid", args[0], args[1], err)
		} else if strings.Contains(err.Error(), secret) {
			t.Error("the credential error contains the client secret")
		}
	}
}

func TestCheckPermissionDenied(t *testing.T) {
	t.Parallel()
	srv := newFakeVault().server()
	srv.NewListSecretPropertiesPager = func(*azsecrets.ListSecretPropertiesOptions) (resp azfake.PagerResponder[azsecrets.ListSecretPropertiesResponse]) {
		resp.AddResponseError(http.StatusForbidden, "Forbidden")
		return resp
	}
	err := newTestStore(t, srv, nil).Check(context.Background())
	if !errors.Is(err, secretstores.ErrPermission) {
		t.Fatalf("Check: got %v, want ErrPermission", err)
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Errorf("Check: the SDK's error is not reachable with errors.As: %v", err)
	}
}

func TestCredentialRefused(t *testing.T) {
	t.Parallel()
	cred := &azfake.TokenCredential{}
	cred.SetError(errors.New("token endpoint unreachable"))
	s, err := New(fakeVaultURL, cred, &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: fake.NewServerTransport(newFakeVault().server())}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err == nil || secretstores.IsPermanent(err) {
		t.Errorf("Check with a failing token source: got %v, want a transient error", err)
	}
}

// throttler answers the first n authenticated requests with 429, then
// hands requests to next; it counts the authenticated requests.
type throttler struct {
	next  policy.Transporter
	mu    sync.Mutex
	left  int
	calls int
}

func (th *throttler) Do(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") == "" {
		return th.next.Do(req) // the fake authentication challenge
	}
	th.mu.Lock()
	th.calls++
	throttle := th.left > 0
	if throttle {
		th.left--
	}
	th.mu.Unlock()
	if throttle {
		return &http.Response{
			StatusCode: http.StatusTooManyRequests, Status: "429 Too Many Requests", Request: req,
			Header: http.Header{"Retry-After": {"0"}, "Content-Type": {"application/json"}},
			Body:   io.NopCloser(strings.NewReader(`{"error":{"code":"Throttled","message":"slow down"}}`)),
		}, nil
	}
	return th.next.Do(req)
}

func TestThrottlingIsRetriedBySDK(t *testing.T) {
	t.Parallel()
	th := &throttler{left: 2}
	s := newTestStore(t, newFakeVault().server(), func(next policy.Transporter) policy.Transporter { th.next = next; return th })
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("Check after two 429s: %v", err)
	}
	if th.calls != 3 {
		t.Errorf("requests: got %d, want 3 (two throttled, one answered)", th.calls)
	}
}

func TestThrottlingBeyondRetriesIsUnavailable(t *testing.T) {
	t.Parallel()
	th := &throttler{left: 1000}
	s := newTestStore(t, newFakeVault().server(), func(next policy.Transporter) policy.Transporter { th.next = next; return th })
	_, err := s.Read(context.Background(), "app-db")
	if !errors.Is(err, secretstores.ErrUnavailable) || secretstores.IsPermanent(err) {
		t.Fatalf("Read while throttled: got %v, want ErrUnavailable", err)
	}
	if th.calls != 4 {
		t.Errorf("requests: got %d, want 4 (the first and MaxRetries=3 retries)", th.calls)
	}
	if strings.Contains(err.Error(), "slow down") {
		t.Errorf("the error quotes the response body: %v", err)
	}
}

// echoer answers every SetSecret with a 400 whose body quotes the request,
// as a careless proxy might.
type echoer struct{ next policy.Transporter }

func (e echoer) Do(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPut || req.Header.Get("Authorization") == "" || req.Body == nil {
		return e.next.Do(req)
	}
	body, _ := io.ReadAll(req.Body)
	return &http.Response{
		StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: req,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(strings.NewReader(`{"error":{"code":"BadParameter","message":"cannot take ` + strings.ReplaceAll(string(body), `"`, `'`) + `"}}`)),
	}, nil
}

func TestErrorsNeverQuoteTheValueOrBody(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, newFakeVault().server(), func(next policy.Transporter) policy.Transporter { return echoer{next} })
	_, err := s.Write(context.Background(), "app-db", testValue)
	if !errors.Is(err, secretstores.ErrInvalid) {
		t.Fatalf("Write: got %v, want ErrInvalid", err)
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) || !strings.Contains(re.Error(), testValue) {
		t.Fatal("the test is broken: the SDK's own error should quote the echoed value")
	}
	if strings.Contains(err.Error(), testValue) || strings.Contains(err.Error(), "cannot take") {
		t.Errorf("the error quotes the value or the response body: %q", strings.ReplaceAll(err.Error(), testValue, "(value)"))
	}
	if !strings.Contains(err.Error(), "BadParameter") || !strings.Contains(err.Error(), "app-db") || !strings.Contains(err.Error(), fakeVaultURL) {
		t.Errorf("the error should name the vault, the secret and the error code: %v", err)
	}

	big := strings.Repeat("x", maxValueBytes) + testValue
	if _, err := newTestStore(t, newFakeVault().server(), nil).Write(context.Background(), "app-db", big); !errors.Is(err, secretstores.ErrInvalid) || strings.Contains(err.Error(), testValue) {
		t.Errorf("Write(too big): got an error %v with the value %v", errors.Is(err, secretstores.ErrInvalid), err != nil && strings.Contains(err.Error(), testValue))
	}
}

func TestBadNamesAreRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	v := newFakeVault()
	s := newTestStore(t, v.server(), nil)
	ctx := context.Background()
	long := strings.Repeat("a", 128)
	for _, name := range []string{"", "a/b", "a_b", "a.b", "ä", long} {
		if _, err := s.Describe(ctx, name); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Describe(%q): got %v", name, err)
		}
		if _, err := s.Read(ctx, name); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Read(%q): got %v", name, err)
		}
		if _, err := s.ReadVersion(ctx, name, newVersionID()); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("ReadVersion(%q): got %v", name, err)
		}
		if _, err := s.Write(ctx, name, testValue); !errors.Is(err, secretstores.ErrInvalid) || strings.Contains(err.Error(), testValue) {
			t.Errorf("Write(%q): got %v", name, err)
		}
		if err := s.Restore(ctx, name, newVersionID()); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Restore(%q): got %v", name, err)
		}
		if err := s.Delete(ctx, name); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Delete(%q): got %v", name, err)
		}
	}
	if _, err := s.List(ctx, "team/"); !errors.Is(err, secretstores.ErrInvalid) {
		t.Errorf("List(team/): got %v, want ErrInvalid", err)
	}
	if n := v.requests(); n != 0 {
		t.Errorf("%d requests reached Key Vault", n)
	}
	if _, err := s.Write(ctx, strings.Repeat("a", 127), testValue); err != nil {
		t.Errorf("Write(127-character name): %v", err)
	}
}

func TestUnknownVersionsAreNotFound(t *testing.T) {
	t.Parallel()
	v := newFakeVault()
	s := newTestStore(t, v.server(), nil)
	ctx := context.Background()
	v.put("app-db", testValue, nil)
	missing := newVersionID() // well formed, so Key Vault is asked
	if _, err := s.ReadVersion(ctx, "app-db", missing); !errors.Is(err, secretstores.ErrNotFound) {
		t.Errorf("ReadVersion(unknown): got %v, want ErrNotFound", err)
	}
	if err := s.Restore(ctx, "app-db", missing); !errors.Is(err, secretstores.ErrNotFound) {
		t.Errorf("Restore(unknown): got %v, want ErrNotFound", err)
	}
	if _, err := s.ReadVersion(ctx, "app-nope", missing); !errors.Is(err, secretstores.ErrNotFound) {
		t.Errorf("ReadVersion(missing secret): got %v, want ErrNotFound", err)
	}
}

func TestDescribeReadsNoValue(t *testing.T) {
	t.Parallel()
	v := newFakeVault()
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	srv := v.server()
	srv.GetSecret = nil // any GetSecret call now fails
	s := newTestStore(t, srv, nil)
	ctx := context.Background()

	v.put("app-db", "one", map[string]*string{"description": to.Ptr("the old one")})
	v2 := v.put("app-db", "two", map[string]*string{"description": to.Ptr("database password"), "owner": to.Ptr("team-a")})
	v3 := v.put("app-db", "three", nil)
	v.disable("app-db", v3)

	m, err := s.Describe(ctx, "APP-DB")
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	want := clock.Add(-time.Second) // v2's creation
	if m.Name != "app-db" || m.CurrentVersion != v2 || m.Description != "database password" || m.Tags["owner"] != "team-a" || !m.UpdatedAt.Equal(want) {
		t.Errorf("Describe: got %+v, want app-db at %s, described, owned by team-a, created %s", m, v2, want)
	}
}

func TestListPagesFiltersAndSorts(t *testing.T) {
	t.Parallel()
	v := newFakeVault()
	s := newTestStore(t, v.server(), nil)
	for _, n := range []string{"Team-c", "team-a", "other", "team-b", "tea", "team-d"} {
		v.put(n, testValue, map[string]*string{"description": to.Ptr("about " + n)})
	}
	got, err := s.List(context.Background(), "team-")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name)
		if m.Description != "about "+m.Name || m.UpdatedAt.IsZero() {
			t.Errorf("List: %s has description %q, updated %v", m.Name, m.Description, m.UpdatedAt)
		}
	}
	if strings.Join(names, ",") != "team-a,team-b,Team-c,team-d" {
		t.Errorf("List(team-): got %v", names)
	}
}

func TestRestoreKeepsContentTypeAndTags(t *testing.T) {
	t.Parallel()
	v := newFakeVault()
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	s := newTestStore(t, v.server(), nil)
	ctx := context.Background()
	v1 := v.put("app-db", testValue, map[string]*string{"description": to.Ptr("db")})
	if _, err := s.Write(ctx, "app-db", "other"); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, "app-db", v1); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	m, err := s.Describe(ctx, "app-db")
	if err != nil {
		t.Fatal(err)
	}
	if m.CurrentVersion == v1 || m.Description != "db" {
		t.Errorf("after Restore: got %+v, want a new version described as db", m)
	}
	if got, _ := s.Read(ctx, "app-db"); got != testValue {
		t.Error("Read after Restore: not the restored value")
	}
}

func TestDisabledCurrentVersion(t *testing.T) {
	t.Parallel()
	v := newFakeVault()
	s := newTestStore(t, v.server(), nil)
	v.disable("app-db", v.put("app-db", testValue, nil))
	if _, err := s.Read(context.Background(), "app-db"); !errors.Is(err, secretstores.ErrPermission) {
		t.Errorf("Read(disabled): got %v, want ErrPermission", err)
	}
}

func TestDeleteIsSoftAndTheNameStaysTaken(t *testing.T) {
	t.Parallel()
	v := newFakeVault()
	s := newTestStore(t, v.server(), nil)
	ctx := context.Background()
	old := v.put("app-db", "older-value", nil)
	if _, err := s.Write(ctx, "app-db", testValue); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "App-DB"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if deleted, versions := v.isDeleted("app-db"); !deleted || versions != 2 {
		t.Fatalf("after Delete: recoverable %v with %d versions, want recoverable with 2 (soft delete, never purged)", deleted, versions)
	}
	if _, err := s.ReadVersion(ctx, "app-db", old); !errors.Is(err, secretstores.ErrNotFound) {
		t.Errorf("ReadVersion after Delete: got %v, want ErrNotFound", err)
	}

	// Key Vault refuses the name (409) until the secret is recovered or purged.
	for _, name := range []string{"app-db", "APP-DB"} {
		_, err := s.Write(ctx, name, testValue)
		if !errors.Is(err, secretstores.ErrInvalid) {
			t.Fatalf("Write(%s) after Delete: got %v, want ErrInvalid", name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "the secret is deleted but recoverable: recover or purge it in Key Vault first") || !strings.Contains(msg, "409") || strings.Contains(msg, testValue) {
			t.Errorf("Write(%s) after Delete: the error should say the secret is deleted but recoverable, with the status, and no value: %q", name, strings.ReplaceAll(msg, testValue, "(value)"))
		}
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusConflict {
			t.Errorf("Write(%s) after Delete: the SDK's 409 is not reachable with errors.As: %v", name, err)
		}
	}
	if deleted, _ := v.isDeleted("app-db"); !deleted {
		t.Fatal("the refused Write changed the deleted secret")
	}

	// Recovered, it comes back with its versions.
	v.recover("app-db")
	if got, err := s.Read(ctx, "app-db"); err != nil || got != testValue {
		t.Fatalf("Read after recovery: the last value %v, err %v", got == testValue, err)
	}
	if got, err := s.ReadVersion(ctx, "app-db", old); err != nil || got != "older-value" {
		t.Fatalf("ReadVersion after recovery: the old value %v, err %v", got == "older-value", err)
	}

	// Purged, the name is free again and nothing of the old secret is left.
	if err := s.Delete(ctx, "app-db"); err != nil {
		t.Fatalf("Delete after recovery: %v", err)
	}
	v.purge("app-db")
	if _, err := s.Write(ctx, "app-db", "fresh"); err != nil {
		t.Fatalf("Write after purge: %v", err)
	}
	if _, err := s.ReadVersion(ctx, "app-db", old); !errors.Is(err, secretstores.ErrNotFound) {
		t.Errorf("ReadVersion(purged version): got %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "app-never"); err != nil {
		t.Errorf("Delete(missing): %v", err)
	}
}

func TestDeleteErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status int
		code   string
		want   error // nil: no error
	}{
		{http.StatusNotFound, "SecretNotFound", nil},
		{http.StatusForbidden, "Forbidden", secretstores.ErrPermission},
		{http.StatusUnauthorized, "Unauthorized", secretstores.ErrPermission},
		{http.StatusServiceUnavailable, "ServiceUnavailable", secretstores.ErrUnavailable},
		{http.StatusBadRequest, "BadParameter", secretstores.ErrInvalid},
	} {
		srv := newFakeVault().server()
		calls := 0
		srv.DeleteSecret = func(context.Context, string, *azsecrets.DeleteSecretOptions) (resp azfake.Responder[azsecrets.DeleteSecretResponse], errResp azfake.ErrorResponder) {
			calls++
			errResp.SetResponseError(c.status, c.code)
			return
		}
		err := newTestStore(t, srv, nil).Delete(context.Background(), "app-db")
		switch {
		case c.want == nil && err != nil:
			t.Errorf("Delete answered %d: got %v, want no error", c.status, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("Delete answered %d: got %v, want %v", c.status, err, c.want)
		case c.want != nil && (!strings.Contains(err.Error(), "deleting secret app-db") || !strings.Contains(err.Error(), c.code)):
			t.Errorf("Delete answered %d: the error should name the operation and the code: %v", c.status, err)
		}
		if c.status < 500 && calls != 1 {
			t.Errorf("Delete answered %d: %d requests, want 1", c.status, calls)
		}
	}
}
