package tenants

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/apperr"
)

func TestNewTenant(t *testing.T) {
	tests := []struct {
		name      string
		slug      string
		display   string
		domains   []string
		badFields []string
	}{
		{"valid", "acme", "Acme Corp", []string{"Acme.TEST", " acme.test "}, nil},
		{"slug with upper case", "Acme", "Acme", []string{"acme.test"}, []string{"slug"}},
		{"slug too short", "ab", "Acme", []string{"acme.test"}, []string{"slug"}},
		{"slug ending in hyphen", "acme-", "Acme", []string{"acme.test"}, []string{"slug"}},
		{"no name", "acme", "  ", []string{"acme.test"}, []string{"display_name"}},
		{"no domain", "acme", "Acme", []string{" "}, []string{"email_domains"}},
		{"bad domain", "acme", "Acme", []string{"acme"}, []string{"email_domains"}},
		{"everything wrong", "-", "", nil, []string{"slug", "display_name", "email_domains"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewTenant(tc.slug, tc.display, tc.domains)
			if tc.badFields == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got.Status != StatusOnboarding || !slices.Equal(got.EmailDomains, []string{"acme.test"}) {
					t.Fatalf("got %+v", got)
				}
				return
			}
			e := apperr.As(err)
			if e == nil || e.Code != apperr.Invalid {
				t.Fatalf("want an invalid error, got %v", err)
			}
			for _, f := range tc.badFields {
				if e.Fields[f] == "" {
					t.Errorf("no message for field %q in %v", f, e.Fields)
				}
			}
			if len(e.Fields) != len(tc.badFields) {
				t.Errorf("fields = %v, want only %v", e.Fields, tc.badFields)
			}
		})
	}
}

func TestRoleValid(t *testing.T) {
	for _, r := range Roles() {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	if Role("root").Valid() {
		t.Error("unknown role accepted")
	}
}
