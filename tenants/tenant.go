// Package tenants holds Gatehouse's tenancy model: tenants (one per
// organization), their identity provider, IdP group → role mappings and
// secret-store bindings, with the rules that validate them. It imports no
// HTTP, SQL or store SDK package; adapters implement its interfaces.
package tenants

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/apperr"
)

// Status is a tenant's lifecycle state. Only active tenants accept sign-ins.
type Status string

// The tenant states.
const (
	StatusOnboarding Status = "onboarding"
	StatusActive     Status = "active"
	StatusSuspended  Status = "suspended"
)

// Role is what a person may do in a tenant. Roles come from the tenant's
// mapping of IdP groups at sign-in.
type Role string

// The roles.
const (
	RolePlatformOperator Role = "platform-operator"
	RoleTenantAdmin      Role = "tenant-admin"
	RoleApprover         Role = "approver"
	RoleRequester        Role = "requester"
	RoleAuditor          Role = "auditor"
	RoleResponder        Role = "responder"
)

// Roles returns every role in display order, a fresh slice each call.
func Roles() []Role {
	return []Role{RolePlatformOperator, RoleTenantAdmin, RoleApprover, RoleRequester, RoleAuditor, RoleResponder}
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Tenant is one organization.
type Tenant struct {
	Slug         string   // immutable, URL-safe identifier, e.g. "acme"
	DisplayName  string   // shown to people, e.g. "Acme Corp"
	EmailDomains []string // lower-case; each belongs to one tenant only
	Status       Status
}

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,30}[a-z0-9]$`)
var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// ValidSlug reports whether s is a well-formed tenant slug.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// NewTenant validates and normalizes the fields of a new tenant, which starts
// in StatusOnboarding. It returns an apperr.Invalid error with one message per
// bad field.
func NewTenant(slug, displayName string, emailDomains []string) (Tenant, error) {
	t := Tenant{Slug: strings.TrimSpace(slug), DisplayName: strings.TrimSpace(displayName), Status: StatusOnboarding}
	fields := map[string]string{}
	if !ValidSlug(t.Slug) {
		fields["slug"] = "Use 3–32 lower-case letters, digits or hyphens, starting with a letter."
	}
	if t.DisplayName == "" || len(t.DisplayName) > 100 {
		fields["display_name"] = "Give a name of 1–100 characters."
	}
	domains, msg := normalizeDomains(emailDomains)
	if msg != "" {
		fields["email_domains"] = msg
	}
	t.EmailDomains = domains
	if len(fields) > 0 {
		return Tenant{}, apperr.InvalidFields("The organization details need correcting.", fields)
	}
	return t, nil
}

func normalizeDomains(in []string) ([]string, string) {
	var out []string
	for _, d := range in {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if !domainRE.MatchString(d) {
			return nil, fmt.Sprintf("%q is not a domain name (like example.com).", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, "Give at least one email domain."
	}
	return out, ""
}
