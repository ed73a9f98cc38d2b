// Package storetest is the contract every secret store adapter passes: one
// table of behaviours run against each store (Vault and AWS on real
// servers, Azure on the SDK's own fake, GCP on an in-process gRPC fake). A
// test calls Run with a function returning a store over an empty location
// the test owns.
package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/secretstores"
)

// Run runs the contract against the stores newStore returns; each call
// must give a store over a fresh, empty location.
func Run(t *testing.T, newStore func(t *testing.T) secretstores.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c.run(ctx, t, newStore(t))
		})
	}
}

// The values written by the contract; none may appear in an error.
const (
	value1 = "contract-value-one-7f3a"
	value2 = "contract-value-two-91bc"
)

var cases = []struct {
	name string
	run  func(ctx context.Context, t *testing.T, s secretstores.Store)
}{
	{"check succeeds on a good binding", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		if err := s.Check(ctx); err != nil {
			t.Fatalf("Check: %v", err)
		}
	}},
	{"a missing secret is not found", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		if _, err := s.Describe(ctx, "app-missing"); !errors.Is(err, secretstores.ErrNotFound) {
			t.Errorf("Describe: got %v, want ErrNotFound", err)
		}
		if _, err := s.Read(ctx, "app-missing"); !errors.Is(err, secretstores.ErrNotFound) {
			t.Errorf("Read: got %v, want ErrNotFound", err)
		}
		if err := s.Restore(ctx, "app-missing", "1"); !errors.Is(err, secretstores.ErrNotFound) {
			t.Errorf("Restore: got %v, want ErrNotFound", err)
		}
	}},
	{"write creates, read returns it, describe names the version", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		v, err := s.Write(ctx, "app-db", value1)
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		if v == "" {
			t.Fatal("Write returned no version")
		}
		got, err := s.Read(ctx, "app-db")
		if err != nil || got != value1 {
			t.Fatalf("Read: got a value equal to what was written: %v, err %v", got == value1, err)
		}
		m, err := s.Describe(ctx, "app-db")
		if err != nil {
			t.Fatalf("Describe: %v", err)
		}
		if m.Name != "app-db" || m.CurrentVersion != v {
			t.Errorf("Describe: got name %q version %q, want app-db and %q", m.Name, m.CurrentVersion, v)
		}
	}},
	{"a second write is a new current version and the first stays readable", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		v1 := mustWrite(ctx, t, s, "app-api", value1)
		v2 := mustWrite(ctx, t, s, "app-api", value2)
		if v1 == v2 {
			t.Fatalf("both writes returned version %q", v1)
		}
		if got, err := s.Read(ctx, "app-api"); err != nil || got != value2 {
			t.Fatalf("Read after the second write: new value %v, err %v", got == value2, err)
		}
		if got, err := s.ReadVersion(ctx, "app-api", v1); err != nil || got != value1 {
			t.Fatalf("ReadVersion(first): old value %v, err %v", got == value1, err)
		}
		if _, err := s.ReadVersion(ctx, "app-api", "999999"); !errors.Is(err, secretstores.ErrNotFound) {
			t.Errorf("ReadVersion of an unknown version: got %v, want ErrNotFound", err)
		}
	}},
	{"restore makes an older version current again", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		v1 := mustWrite(ctx, t, s, "app-token", value1)
		mustWrite(ctx, t, s, "app-token", value2)
		if err := s.Restore(ctx, "app-token", v1); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		if got, err := s.Read(ctx, "app-token"); err != nil || got != value1 {
			t.Fatalf("Read after Restore: restored value %v, err %v", got == value1, err)
		}
	}},
	{"list gives the names under a prefix, sorted, and nothing else", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		for _, n := range []string{"team-b", "team-a", "other-x"} {
			mustWrite(ctx, t, s, n, value1)
		}
		got, err := s.List(ctx, "team-")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var names []string
		for _, m := range got {
			names = append(names, m.Name)
		}
		if !slices.Equal(names, []string{"team-a", "team-b"}) {
			t.Errorf("List(team-): got %v, want [team-a team-b]", names)
		}
	}},
	{"a name the store cannot take is invalid and writes nothing", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		_, err := s.Write(ctx, "bad name!*", value1)
		if !errors.Is(err, secretstores.ErrInvalid) {
			t.Fatalf("Write(bad name): got %v, want ErrInvalid", err)
		}
		if strings.Contains(err.Error(), value1) {
			t.Error("the error contains the value")
		}
		all, err := s.List(ctx, "")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(all) != 0 {
			t.Errorf("List after the refused write: %d secrets, want 0", len(all))
		}
	}},
	{"delete removes a secret; deleting again is no error", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		d, ok := s.(secretstores.Deleter)
		if !ok {
			t.Fatalf("%s does not implement secretstores.Deleter", s.Kind())
		}
		mustWrite(ctx, t, s, "app-gone", value1)
		mustWrite(ctx, t, s, "app-kept", value1)
		if err := d.Delete(ctx, "app-gone"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Read(ctx, "app-gone"); !errors.Is(err, secretstores.ErrNotFound) {
			t.Errorf("Read after Delete: got %v, want ErrNotFound", err)
		}
		if _, err := s.Describe(ctx, "app-gone"); !errors.Is(err, secretstores.ErrNotFound) {
			t.Errorf("Describe after Delete: got %v, want ErrNotFound", err)
		}
		if got, err := s.List(ctx, "app-"); err != nil || len(got) != 1 || got[0].Name != "app-kept" {
			t.Errorf("List after Delete: %v, %v; want only app-kept", got, err)
		}
		if err := d.Delete(ctx, "app-gone"); err != nil {
			t.Errorf("Delete again: %v", err)
		}
		if err := d.Delete(ctx, "bad name!*"); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("Delete(bad name): got %v, want ErrInvalid", err)
		}
	}},
	{"errors never contain a value", func(ctx context.Context, t *testing.T, s secretstores.Store) {
		mustWrite(ctx, t, s, "app-leak", value1)
		for _, err := range []error{
			func() error { _, err := s.ReadVersion(ctx, "app-leak", "999999"); return err }(),
			s.Restore(ctx, "app-leak", "999999"),
		} {
			if err == nil {
				t.Fatal("an unknown version gave no error")
			}
			if strings.Contains(err.Error(), value1) {
				t.Errorf("error %q contains the value", "(redacted)")
			}
		}
	}},
}

func mustWrite(ctx context.Context, t *testing.T, s secretstores.Store, name, value string) string {
	t.Helper()
	v, err := s.Write(ctx, name, value)
	if err != nil {
		t.Fatalf("Write %s: %v", name, err)
	}
	return v
}
