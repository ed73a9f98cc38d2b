package approvals

import (
	"testing"

	"github.com/gatehouse/gatehouse/apperr"
)

func TestParseScope(t *testing.T) {
	for raw, want := range map[string]string{
		"tenant:acme":          "tenant:acme",
		"idp:globex":           "idp:globex",
		"user:Alice@Acme.test": "user:alice@acme.test",
		"grant:3F2A0C1E-0000-4000-8000-000000000001":     "grant:3f2a0c1e-0000-4000-8000-000000000001",
		" resource:3f2a0c1e-0000-4000-8000-000000000001": "resource:3f2a0c1e-0000-4000-8000-000000000001",
	} {
		s, err := ParseScope(raw)
		if err != nil || s.String() != want {
			t.Errorf("%q: %v %v", raw, s, err)
		}
	}
	for _, raw := range []string{"", "tenant", "tenant:", "planet:earth", "grant:42", "user:not-an-email", "tenant:Acme Corp", "share:../x", "user:a@b.c>x"} {
		if _, err := ParseScope(raw); apperr.CodeOf(err) != apperr.Invalid || apperr.As(err).Fields["scope"] == "" {
			t.Errorf("%q accepted: %v", raw, err)
		}
	}
}

func TestConfirmingARevocation(t *testing.T) {
	s := Scope{Kind: ScopeTenant, Value: "acme"}
	f := apperr.As(CheckRevocation(s, "tenant:acm", "")).Fields
	if f["confirm"] == "" || f["reason"] == "" {
		t.Fatalf("fields: %v", f)
	}
	if err := CheckRevocation(s, "tenant:acme", "credential leaked in CI logs"); err != nil {
		t.Fatal(err)
	}
	if (Progress{}).Percent() != 100 || (Progress{Total: 4, Verified: 1}).Percent() != 25 {
		t.Fatal("percent")
	}
}
