package gcp_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/secretstores/gcp"
	"github.com/gatehouse/gatehouse/secretstores/gcp/gcpfake"
	"github.com/gatehouse/gatehouse/secretstores/storetest"
)

const project = "gatehouse-test"

// The store must stay brokered: GCP mints no native credentials.
var _ secretstores.Store = (*gcp.Store)(nil)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) secretstores.Store {
		_, s, _ := start(t)
		return s
	})
}

func TestNotAGranter(t *testing.T) {
	_, s, _ := start(t)
	if _, ok := any(s).(secretstores.Granter); ok {
		t.Error("the GCP store implements Granter; access to it is brokered")
	}
	if s.Kind() != secretstores.GCPSecretManager {
		t.Errorf("Kind: got %q", s.Kind())
	}
}

func TestInvalidProject(t *testing.T) {
	_, opts := gcpfake.Start(t)
	for _, p := range []string{"", "short", "Upper-case", "1starts-with-digit", "ends-with-hyphen-", "under_score", "a-project-id-much-longer-than-thirty", "projects/x"} {
		s, err := gcp.New(context.Background(), p, opts...)
		if !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("New(%q): got %v, want ErrInvalid", p, err)
		}
		if s != nil {
			_ = s.Close()
		}
	}
	s, err := gcp.New(context.Background(), "my-project-123", opts...)
	if err != nil {
		t.Fatalf("New(valid): %v", err)
	}
	_ = s.Close()
}

func TestCheckRefused(t *testing.T) {
	for _, c := range []struct {
		code codes.Code
		want error
	}{
		{codes.PermissionDenied, secretstores.ErrPermission},
		{codes.Unauthenticated, secretstores.ErrPermission},
		{codes.NotFound, secretstores.ErrNotFound},
		{codes.Unavailable, secretstores.ErrUnavailable},
		{codes.DeadlineExceeded, secretstores.ErrUnavailable},
	} {
		t.Run(c.code.String(), func(t *testing.T) {
			fake, s, _ := start(t)
			fake.SetFail(func(string) error {
				return status.Error(c.code, "Permission 'secretmanager.secrets.list' denied on resource 'projects/gatehouse-test'")
			})
			err := s.Check(context.Background())
			if !errors.Is(err, c.want) {
				t.Fatalf("Check: got %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), project) || !strings.Contains(err.Error(), "secretmanager.secrets.list") {
				t.Errorf("Check's error does not name the project and the missing permission: %v", err)
			}
		})
	}
}

// The client library retries AccessSecretVersion (and only it) on
// Unavailable; the adapter adds no loop of its own.
func TestTransientRetriedByLibrary(t *testing.T) {
	fake, s, _ := start(t)
	ctx := context.Background()
	if _, err := s.Write(ctx, "app-retry", "retry-value-5e1d"); err != nil {
		t.Fatal(err)
	}
	failed := 0
	fake.SetFail(func(method string) error {
		if method == "AccessSecretVersion" && failed == 0 {
			failed++
			return status.Error(codes.Unavailable, "try again")
		}
		return nil
	})
	got, err := s.Read(ctx, "app-retry")
	if err != nil || got != "retry-value-5e1d" {
		t.Fatalf("Read after one Unavailable: right value %v, err %v", got == "retry-value-5e1d", err)
	}
	if n := fake.Calls("AccessSecretVersion"); n != 2 {
		t.Errorf("AccessSecretVersion calls: %d, want 2 (one failed, one retried)", n)
	}

	// ListSecrets is not retried by the library: one call, ErrUnavailable.
	fake.SetFail(func(method string) error {
		if method == "ListSecrets" {
			return status.Error(codes.Unavailable, "down")
		}
		return nil
	})
	before := fake.Calls("ListSecrets")
	if err := s.Check(ctx); !errors.Is(err, secretstores.ErrUnavailable) {
		t.Errorf("Check while unavailable: got %v, want ErrUnavailable", err)
	}
	if n := fake.Calls("ListSecrets") - before; n != 1 {
		t.Errorf("ListSecrets calls: %d, want 1", n)
	}
}

func TestErrorsNeverContainTheValue(t *testing.T) {
	fake, s, _ := start(t)
	ctx := context.Background()
	const value = "leak-check-value-c0ffee"
	if _, err := s.Write(ctx, "app-leak", value); err != nil {
		t.Fatal(err)
	}
	// A careless server echoing the payload must not leak it either.
	fake.SetFail(func(method string) error {
		if method == "AddSecretVersion" {
			return status.Errorf(codes.InvalidArgument, "bad payload %q", value)
		}
		return nil
	})
	_, err := s.Write(ctx, "app-leak", value)
	if !errors.Is(err, secretstores.ErrInvalid) {
		t.Fatalf("Write: got %v, want ErrInvalid", err)
	}
	err2 := s.Restore(ctx, "app-leak", "1") // reads the value, then the add fails
	if !errors.Is(err2, secretstores.ErrInvalid) {
		t.Fatalf("Restore: got %v, want ErrInvalid", err2)
	}
	for _, e := range []error{err, err2} {
		if strings.Contains(e.Error(), value) {
			t.Errorf("an error contains the value: %q", strings.ReplaceAll(e.Error(), value, "(the value)"))
		}
	}
	fake.SetFail(nil)
	for _, v := range []string{"latest", "0", "-1", "1/../2", ""} {
		if _, err := s.ReadVersion(ctx, "app-leak", v); !errors.Is(err, secretstores.ErrNotFound) {
			t.Errorf("ReadVersion(%q): got %v, want ErrNotFound", v, err)
		}
	}
}

func TestInvalidNameMakesNoCall(t *testing.T) {
	fake, s, _ := start(t)
	ctx := context.Background()
	long := strings.Repeat("a", 256)
	for _, n := range []string{"", "a/b", "a.b", "bad name", long} {
		if _, err := s.Write(ctx, n, "x"); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Write(%.20q): got %v, want ErrInvalid", n, err)
		}
		if _, err := s.Read(ctx, n); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Read(%.20q): got %v, want ErrInvalid", n, err)
		}
		if _, err := s.Describe(ctx, n); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Describe(%.20q): got %v, want ErrInvalid", n, err)
		}
		if err := s.Delete(ctx, n); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Delete(%.20q): got %v, want ErrInvalid", n, err)
		}
	}
	for _, m := range []string{"AddSecretVersion", "CreateSecret", "AccessSecretVersion", "GetSecret", "DeleteSecret"} {
		if n := fake.Calls(m); n != 0 {
			t.Errorf("%s was called %d times for invalid names", m, n)
		}
	}
	if _, err := s.Write(ctx, strings.Repeat("a", 255), "x"); err != nil {
		t.Errorf("Write(255-char name): %v", err)
	}
}

func TestDescribe(t *testing.T) {
	_, s, raw := start(t)
	ctx := context.Background()
	_, err := raw.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent: "projects/" + project, SecretId: "app-described",
		Secret: &secretmanagerpb.Secret{
			Replication: &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}},
			Labels:      map[string]string{"team": "payments"},
			Annotations: map[string]string{"description": "the payments DB password"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Describe(ctx, "app-described")
	if err != nil {
		t.Fatalf("Describe with no versions: %v", err)
	}
	if m.CurrentVersion != "" || !m.UpdatedAt.IsZero() {
		t.Errorf("Describe with no versions: version %q, updated %v", m.CurrentVersion, m.UpdatedAt)
	}
	// More versions than the fake's page, so the version listing pages.
	var last string
	for i := range gcpfake.DefaultPageSize + 3 {
		if last, err = s.Write(ctx, "app-described", fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.DisableSecretVersion(ctx, &secretmanagerpb.DisableSecretVersionRequest{
		Name: "projects/" + project + "/secrets/app-described/versions/" + last,
	}); err != nil {
		t.Fatal(err)
	}
	m, err = s.Describe(ctx, "app-described")
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	wantVersion := fmt.Sprint(gcpfake.DefaultPageSize + 2) // the newest enabled one
	if m.Name != "app-described" || m.Description != "the payments DB password" || m.Tags["team"] != "payments" || m.CurrentVersion != wantVersion {
		t.Errorf("Describe: got %+v, want version %s", m, wantVersion)
	}
	if time.Since(m.UpdatedAt) > time.Minute {
		t.Errorf("Describe: UpdatedAt %v", m.UpdatedAt)
	}
	if got, err := s.Read(ctx, "app-described"); err != nil || got != fmt.Sprintf("v%d", gcpfake.DefaultPageSize+1) {
		t.Errorf("Read: got %q, %v; want the newest enabled version's value", got, err)
	}
	if _, err := s.ReadVersion(ctx, "app-described", last); !errors.Is(err, secretstores.ErrInvalid) {
		t.Errorf("ReadVersion(disabled): got %v, want ErrInvalid", err)
	}
}

func TestListPages(t *testing.T) {
	_, s, _ := start(t)
	ctx := context.Background()
	var want []string
	for i := range 2*gcpfake.DefaultPageSize + 1 {
		n := fmt.Sprintf("page-%02d", 2*gcpfake.DefaultPageSize-i)
		if _, err := s.Write(ctx, n, "x"); err != nil {
			t.Fatal(err)
		}
		want = append(want, n)
	}
	if _, err := s.Write(ctx, "pager", "x"); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, "page-")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name)
		if m.Tags["managed-by"] != "gatehouse" {
			t.Errorf("%s: tags %v, want managed-by=gatehouse", m.Name, m.Tags)
		}
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("List: got %v, want %v", names, want)
	}
}

// Secret Manager deletes for good: every version goes, and the name can be
// used again at once for a new secret.
func TestDeleteIsPermanent(t *testing.T) {
	fake, s, raw := start(t)
	ctx := context.Background()
	for _, v := range []string{"delete-one", "delete-two"} {
		if _, err := s.Write(ctx, "app-db", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "app-db"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	full := "projects/" + project + "/secrets/app-db"
	if _, err := raw.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: full}); status.Code(err) != codes.NotFound {
		t.Errorf("GetSecret after Delete: got %v, want NotFound", err)
	}
	if _, err := raw.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: full + "/versions/1"}); status.Code(err) != codes.NotFound {
		t.Errorf("AccessSecretVersion(1) after Delete: got %v, want NotFound", err)
	}
	if _, err := raw.ListSecretVersions(ctx, &secretmanagerpb.ListSecretVersionsRequest{Parent: full}).Next(); status.Code(err) != codes.NotFound {
		t.Errorf("ListSecretVersions after Delete: got %v, want NotFound", err)
	}
	if _, err := s.ReadVersion(ctx, "app-db", "1"); !errors.Is(err, secretstores.ErrNotFound) {
		t.Errorf("ReadVersion after Delete: got %v, want ErrNotFound", err)
	}
	v, err := s.Write(ctx, "app-db", "delete-three")
	if err != nil {
		t.Fatalf("Write after Delete: %v", err)
	}
	if v != "1" {
		t.Errorf("Write after Delete: version %q, want 1 (a new secret)", v)
	}
	before := fake.Calls("DeleteSecret")
	if err := s.Delete(ctx, "app-never"); err != nil {
		t.Errorf("Delete(missing): %v", err)
	}
	if n := fake.Calls("DeleteSecret") - before; n != 1 {
		t.Errorf("Delete(missing): %d DeleteSecret calls, want 1", n)
	}
}

func TestDeleteRefused(t *testing.T) {
	for _, c := range []struct {
		code codes.Code
		want error
	}{
		{codes.PermissionDenied, secretstores.ErrPermission},
		{codes.Unavailable, secretstores.ErrUnavailable},
		{codes.FailedPrecondition, secretstores.ErrInvalid},
	} {
		t.Run(c.code.String(), func(t *testing.T) {
			fake, s, _ := start(t)
			ctx := context.Background()
			if _, err := s.Write(ctx, "app-db", "refused-value-1a2b"); err != nil {
				t.Fatal(err)
			}
			fake.SetFail(func(method string) error {
				if method == "DeleteSecret" {
					return status.Error(c.code, "Permission 'secretmanager.secrets.delete' denied for resource 'projects/gatehouse-test/secrets/app-db'")
				}
				return nil
			})
			err := s.Delete(ctx, "app-db")
			if !errors.Is(err, c.want) {
				t.Fatalf("Delete: got %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), "deleting secret app-db") || !strings.Contains(err.Error(), "secretmanager.secrets.delete") {
				t.Errorf("Delete's error does not say what failed: %v", err)
			}
			if n := fake.Calls("DeleteSecret"); n != 1 {
				t.Errorf("DeleteSecret calls: %d, want 1 (the library does not retry it)", n)
			}
			fake.SetFail(nil)
			if _, err := s.Read(ctx, "app-db"); err != nil {
				t.Errorf("Read after a refused Delete: %v", err)
			}
		})
	}
}

// start serves a fresh fake and returns it, a store on it and a raw client
// for setting up what the store cannot.
func start(t *testing.T) (*gcpfake.Server, *gcp.Store, *secretmanager.Client) {
	t.Helper()
	fake, opts := gcpfake.Start(t)
	s, err := gcp.New(context.Background(), project, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	raw, err := secretmanager.NewClient(context.Background(), append([]option.ClientOption{}, opts...)...)
	if err != nil {
		t.Fatalf("raw client: %v", err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	return fake, s, raw
}
