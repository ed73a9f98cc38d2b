package tenants

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
)

// OnboardingStore persists the wizard (implemented by the postgres adapter).
type OnboardingStore interface {
	StartOnboarding(ctx context.Context, t Tenant, actor string, meta audit.Meta) error
	Onboarding(ctx context.Context, slug string) (Onboarding, error)
	SaveStep(ctx context.Context, slug string, step Step, o Onboarding, actor string, meta audit.Meta) error
	Activate(ctx context.Context, slug, actor string, meta audit.Meta) error
}

// IdPChecker checks an identity provider live (implemented by identity).
type IdPChecker interface {
	DiscoverEndpoints(ctx context.Context, issuer string) (Endpoints, error)
	VerifyClient(ctx context.Context, tokenURL, slug, clientID, secret string) error
	CallbackURL(slug string) string
}

// SecretVault keeps Gatehouse's secrets and the tenants' mounts
// (implemented by the Vault adapter).
type SecretVault interface {
	PutClientSecret(ctx context.Context, ref, secret string) error
	EnsureKV2Mount(ctx context.Context, mount, description string) error
}

// GatehouseMount is the Vault KV v2 mount of Gatehouse's own secrets.
const GatehouseMount = "gatehouse"

// ClientSecretRef is where the client secret of slug's IdP is kept in Vault.
func ClientSecretRef(slug string) string { return GatehouseMount + "/idp/" + slug }

// Onboarder runs the onboarding wizard's steps: each is validated against
// the real IdP or Vault when it is submitted and then recorded.
type Onboarder struct {
	Store OnboardingStore
	IdP   IdPChecker
	Vault SecretVault
}

// Start is step 1: it creates the organization in status onboarding.
func (o *Onboarder) Start(ctx context.Context, slug, name, domains, actor string, meta audit.Meta) (Tenant, error) {
	t, err := NewTenant(slug, name, strings.FieldsFunc(domains, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }))
	if err != nil {
		return t, err
	}
	return t, o.Store.StartOnboarding(ctx, t, actor, meta)
}

// SetIssuer is step 2: the settings are checked and discovery is fetched
// now; its endpoints are kept.
func (o *Onboarder) SetIssuer(ctx context.Context, slug, issuer string, settings IdPSettings, actor string, meta audit.Meta) error {
	cur, err := o.reachable(ctx, slug, StepIssuer)
	if err != nil {
		return err
	}
	if err := CheckIdPSettings(settings); err != nil {
		return err
	}
	issuer = strings.TrimRight(strings.TrimSpace(issuer), "/")
	eps, err := o.IdP.DiscoverEndpoints(ctx, issuer)
	if err != nil {
		return err
	}
	cur.IssuerURL, cur.Endpoints, cur.Settings = issuer, eps, settings
	return o.Store.SaveStep(ctx, slug, StepIssuer, cur, actor, meta)
}

// SetClient is step 3: the credentials are verified at the token endpoint,
// then the secret goes to Vault and only its reference is recorded.
func (o *Onboarder) SetClient(ctx context.Context, slug, clientID, secret, actor string, meta audit.Meta) error {
	cur, err := o.reachable(ctx, slug, StepClient)
	if err != nil {
		return err
	}
	clientID = strings.TrimSpace(clientID)
	fields := map[string]string{}
	if clientID == "" {
		fields["client_id"] = "Give the client ID the identity provider issued for Gatehouse."
	}
	if secret == "" {
		fields["client_secret"] = "Give the client secret."
	}
	if len(fields) > 0 {
		return apperr.InvalidFields("The client credentials need correcting.", fields)
	}
	if err := o.IdP.VerifyClient(ctx, cur.Endpoints.Token, slug, clientID, secret); err != nil {
		return err
	}
	ref := ClientSecretRef(slug)
	if err := o.Vault.PutClientSecret(ctx, ref, secret); err != nil {
		return apperr.Wrap(apperr.Unavailable, "The client secret could not be stored in Vault.", err)
	}
	cur.ClientID, cur.ClientSecretRef, cur.ClientVerified = clientID, ref, true
	return o.Store.SaveStep(ctx, slug, StepClient, cur, actor, meta)
}

// ParseMappings reads "group = role" lines (blank lines and # comments
// ignored). It returns an apperr.Invalid naming the first bad line.
func ParseMappings(text string) ([]RoleMapping, error) {
	var out []RoleMapping
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		group, role, ok := strings.Cut(line, "=")
		if !ok {
			msg := fmt.Sprintf("Line %d: write “group = role”.", i+1)
			return nil, apperr.InvalidFields(msg, map[string]string{"mappings": msg})
		}
		out = append(out, RoleMapping{Group: strings.TrimSpace(group), Role: Role(strings.TrimSpace(role))})
	}
	return out, nil
}

// SetMappings is step 4: the group → role mappings, at least one tenant-admin.
func (o *Onboarder) SetMappings(ctx context.Context, slug, text, actor string, meta audit.Meta) error {
	cur, err := o.reachable(ctx, slug, StepMappings)
	if err != nil {
		return err
	}
	ms, err := ParseMappings(text)
	if err != nil {
		return err
	}
	if err := CheckMappings(slug, ms); err != nil {
		e := apperr.As(err)
		return apperr.InvalidFields(e.Message, map[string]string{"mappings": e.Message})
	}
	cur.Mappings = ms
	return o.Store.SaveStep(ctx, slug, StepMappings, cur, actor, meta)
}

var mountRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,62}$`)

// reservedMounts are Vault's own paths and Gatehouse's.
var reservedMounts = []string{"sys", "auth", "cubbyhole", "identity", "secret", GatehouseMount}

// SetVault is step 5: the tenant's KV v2 mount is created, or validated if
// it exists; a permission problem is named.
func (o *Onboarder) SetVault(ctx context.Context, slug, mount, actor string, meta audit.Meta) error {
	cur, err := o.reachable(ctx, slug, StepVault)
	if err != nil {
		return err
	}
	mount = strings.Trim(strings.TrimSpace(mount), "/")
	if !mountRE.MatchString(mount) || slices.Contains(reservedMounts, mount) {
		return apperr.InvalidFields("Check the mount.", map[string]string{"vault_mount": "Use 2–63 lower-case letters, digits, - or _, not a path Vault or Gatehouse uses itself."})
	}
	if err := o.Vault.EnsureKV2Mount(ctx, mount, "secrets of tenant "+slug); err != nil {
		msg := err.Error()
		return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: map[string]string{"vault_mount": msg}, Err: err}
	}
	cur.VaultMount, cur.VaultReady = mount, true
	return o.Store.SaveStep(ctx, slug, StepVault, cur, actor, meta)
}

// RecordTest is step 6: what the operator's test sign-in at the new IdP
// showed. A sign-in whose groups map to no role is recorded too, and
// leaves the step incomplete.
func (o *Onboarder) RecordTest(ctx context.Context, slug string, test TestSignIn, actor string, meta audit.Meta) error {
	cur, err := o.reachable(ctx, slug, StepTestSignIn)
	if err != nil {
		return err
	}
	cur.Test = &test
	return o.Store.SaveStep(ctx, slug, StepTestSignIn, cur, actor, meta)
}

// Activate is step 7: the organization accepts sign-ins.
func (o *Onboarder) Activate(ctx context.Context, slug, actor string, meta audit.Meta) error {
	return o.Store.Activate(ctx, slug, actor, meta)
}

func (o *Onboarder) reachable(ctx context.Context, slug string, s Step) (Onboarding, error) {
	cur, err := o.Store.Onboarding(ctx, slug)
	if err != nil {
		return cur, err
	}
	return cur, cur.CheckReachable(s)
}
