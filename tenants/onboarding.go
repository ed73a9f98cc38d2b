package tenants

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// Step is a step of the onboarding wizard.
type Step int

// The wizard's steps, in order.
const (
	StepOrganization Step = iota + 1 // slug, name, email domains
	StepIssuer                       // issuer URL, discovery fetched now
	StepClient                       // client ID + secret, verified at the token endpoint
	StepMappings                     // group → role mappings, one tenant-admin at least
	StepVault                        // the tenant's KV v2 mount, created or validated
	StepTestSignIn                   // a real sign-in round trip at the new IdP
	StepActivate                     // the tenant accepts sign-ins
)

// StepNames returns the steps' titles, indexed by Step-1, a fresh slice
// each call.
func StepNames() []string {
	return []string{"Organization", "Identity provider", "Client credentials", "Role mappings", "Vault", "Test sign-in", "Activate"}
}

// Endpoints are what an issuer's discovery document announced.
type Endpoints struct {
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	JWKS          string `json:"jwks_uri"`
	UserInfo      string `json:"userinfo_endpoint"`
	EndSession    string `json:"end_session_endpoint"`
}

// IdPSettings are how Gatehouse talks to an IdP besides its address.
type IdPSettings struct {
	Scopes               []string
	GroupsClaim          string
	RequireEmailVerified bool
	StepUpACR            string
}

// DefaultIdPSettings suit most providers (Okta, Keycloak, Dex).
func DefaultIdPSettings() IdPSettings {
	return IdPSettings{Scopes: []string{"openid", "email", "profile", "groups"}, GroupsClaim: "groups", RequireEmailVerified: true}
}

var claimRE = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,100}$`)

// CheckIdPSettings returns an apperr.Invalid with a message per bad field:
// scopes must include openid and be plain tokens, the groups claim a claim
// name, the acr value at most 200 characters.
func CheckIdPSettings(s IdPSettings) error {
	fields := map[string]string{}
	if !slices.Contains(s.Scopes, "openid") {
		fields["scopes"] = "The scopes must include openid."
	}
	for _, sc := range s.Scopes {
		if !claimRE.MatchString(sc) {
			fields["scopes"] = fmt.Sprintf("%q is not a scope name.", sc)
		}
	}
	if !claimRE.MatchString(s.GroupsClaim) {
		fields["groups_claim"] = "Give the name of the ID-token claim holding the groups, like groups."
	}
	if len(s.StepUpACR) > 200 {
		fields["step_up_acr"] = "Keep the acr value under 200 characters."
	}
	if len(fields) > 0 {
		return apperr.InvalidFields("The identity provider settings need correcting.", fields)
	}
	return nil
}

// TestSignIn is what the wizard's test sign-in saw.
type TestSignIn struct {
	Email  string
	Groups []string
	Roles  []Role
	At     time.Time
}

// Onboarding is a tenant's progress through the wizard.
type Onboarding struct {
	TenantID        string
	Tenant          Tenant
	IssuerURL       string
	Endpoints       Endpoints
	Settings        IdPSettings
	ClientID        string
	ClientSecretRef string
	ClientVerified  bool
	Mappings        []RoleMapping
	VaultMount      string
	VaultReady      bool
	Test            *TestSignIn // nil until a test sign-in succeeded
}

// Done reports whether step s is complete.
func (o Onboarding) Done(s Step) bool {
	switch s {
	case StepOrganization:
		return o.TenantID != ""
	case StepIssuer:
		return o.IssuerURL != "" && o.Endpoints.Token != ""
	case StepClient:
		return o.ClientVerified
	case StepMappings:
		return CheckMappings(o.Tenant.Slug, o.Mappings) == nil
	case StepVault:
		return o.VaultReady
	case StepTestSignIn:
		return o.Test != nil && len(o.Test.Roles) > 0
	case StepActivate:
		return o.Tenant.Status == StatusActive
	}
	return false
}

// Next returns the first step not yet complete.
func (o Onboarding) Next() Step {
	for s := StepOrganization; s <= StepActivate; s++ {
		if !o.Done(s) {
			return s
		}
	}
	return StepActivate
}

// CheckReachable returns apperr.Conflict when step s cannot be done yet
// because an earlier step is incomplete, or when the tenant is no longer
// onboarding.
func (o Onboarding) CheckReachable(s Step) error {
	if o.Tenant.Status != StatusOnboarding {
		return apperr.New(apperr.Conflict, "This organization has finished onboarding.")
	}
	for p := StepOrganization; p < s; p++ {
		if !o.Done(p) {
			return apperr.New(apperr.Conflict, "Finish the step “"+StepNames()[p-1]+"” first.")
		}
	}
	return nil
}

// VaultMountFor is the KV v2 mount a tenant's secrets live in by default.
func VaultMountFor(slug string) string { return "tenant-" + slug }
