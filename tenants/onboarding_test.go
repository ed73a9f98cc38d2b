package tenants

import (
	"testing"

	"github.com/gatehouse/gatehouse/apperr"
)

func TestOnboardingStepsAreDoneInOrder(t *testing.T) {
	o := Onboarding{TenantID: "t1", Tenant: Tenant{Slug: "initech", Status: StatusOnboarding}}
	steps := []func(*Onboarding){
		func(o *Onboarding) { o.IssuerURL, o.Endpoints.Token = "https://idp", "https://idp/token" },
		func(o *Onboarding) { o.ClientVerified = true },
		func(o *Onboarding) { o.Mappings = []RoleMapping{{Group: "it", Role: RoleTenantAdmin}} },
		func(o *Onboarding) { o.VaultReady = true },
		func(o *Onboarding) { o.Test = &TestSignIn{Email: "a@initech.test", Roles: []Role{RoleTenantAdmin}} },
	}
	for i, apply := range steps {
		want := Step(i + 2)
		if got := o.Next(); got != want {
			t.Fatalf("before step %d: Next = %d", want, got)
		}
		if want < StepActivate {
			if err := o.CheckReachable(want + 1); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("step %d reachable before step %d: %v", want+1, want, err)
			}
		}
		if err := o.CheckReachable(want); err != nil {
			t.Fatalf("step %d not reachable: %v", want, err)
		}
		apply(&o)
	}
	if o.Next() != StepActivate || o.CheckReachable(StepActivate) != nil {
		t.Fatalf("activation not reachable: %d", o.Next())
	}
	// A test sign-in that mapped to no role does not complete the step.
	o.Test.Roles = nil
	if o.CheckReachable(StepActivate) == nil {
		t.Fatal("activation reachable after a test sign-in without roles")
	}
	o.Tenant.Status = StatusActive
	if apperr.CodeOf(o.CheckReachable(StepIssuer)) != apperr.Conflict {
		t.Fatal("an active tenant can re-run the wizard")
	}
}
