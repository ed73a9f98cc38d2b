package devstack

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/tenants"
)

// DemoPassword is every demo user's password. Demo only: printed by make dev.
const DemoPassword = "demo-password"

// DemoOrg is one demo organization: its tenant, its IdP's users and the
// mapping of their groups to Gatehouse roles.
type DemoOrg struct {
	Slug     string
	Name     string
	Domain   string
	Users    []DemoUser
	Mappings []tenants.RoleMapping
	Secrets  map[string]map[string]any // KV path → demo data written to the tenant's mount
	// Resources are the catalog entries (their mount is the tenant's).
	Resources []approvals.Resource
	// Unseeded organizations have an IdP but no tenant: they are there to
	// be onboarded through the wizard.
	Unseeded bool
}

// DemoUser is a person in a demo organization's IdP.
type DemoUser struct {
	Email  string
	Name   string
	Groups []string
}

// DemoOrgs returns acme (acme.test), globex (globex.test), the platform
// operators' organization gatehouse (gatehouse.test), and initech
// (initech.test), whose IdP runs but which is left to the onboarding wizard.
func DemoOrgs() []DemoOrg {
	member := func(domain string) []DemoUser {
		return []DemoUser{
			{"requester@" + domain, "Riley Requester", []string{"requesters"}},
			{"approver1@" + domain, "Avery Approver", []string{"approvers"}},
			{"approver2@" + domain, "Alex Approver", []string{"approvers"}},
			{"admin@" + domain, "Morgan Admin", []string{"admins"}},
			{"responder@" + domain, "Rowan Responder", []string{"responders"}},
			{"auditor@" + domain, "Quinn Auditor", []string{"auditors"}},
			{"nogroup@" + domain, "Noa Nogroup", nil},
		}
	}
	catalog := func(entries ...approvals.Resource) []approvals.Resource { return entries }
	policy := func(required int, ticket string) approvals.Policy {
		return approvals.Policy{
			Requesters:      approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester, tenants.RoleResponder}},
			Steps:           []approvals.Step{{Name: "team", Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: required}},
			DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, JustificationMin: 10, TicketPattern: ticket,
			Levels: []approvals.Level{approvals.Read}, PendingTimeout: 24 * time.Hour,
		}
	}
	mappings := []tenants.RoleMapping{
		{Group: "requesters", Role: tenants.RoleRequester},
		{Group: "approvers", Role: tenants.RoleApprover},
		{Group: "admins", Role: tenants.RoleTenantAdmin},
		{Group: "responders", Role: tenants.RoleResponder},
		{Group: "auditors", Role: tenants.RoleAuditor},
	}
	return []DemoOrg{
		{Slug: "acme", Name: "Acme Corp", Domain: "acme.test", Users: member("acme.test"), Mappings: mappings,
			Secrets: map[string]map[string]any{
				"payments/stripe-api-key": {"api_key": "sk_demo_acme_payments"},
				"db/orders-primary":       {"username": "orders", "password": "demo-orders-password"},
				"ci/deploy-token":         {"token": "demo-acme-deploy"},
				"drill/break-glass":       {"password": "demo-drill-password"},
			},
			Resources: catalog(
				approvals.Resource{Name: "Orders database", Description: "Primary orders DB credentials", OwnerTeam: "payments",
					Classification: approvals.High, Path: "db/orders-primary", Policy: policy(2, ""),
					BreakGlass: approvals.BreakGlass{Enabled: true, MaxDuration: time.Hour}},
				approvals.Resource{Name: "Stripe API key", Description: "Payments provider key", OwnerTeam: "payments",
					Classification: approvals.Critical, Path: "payments/stripe-api-key", Policy: policy(1, `INC-[0-9]+`)},
				approvals.Resource{Name: "CI deploy token", OwnerTeam: "platform", Classification: approvals.Medium,
					Path: "ci/deploy-token", Policy: policy(1, "")},
				approvals.Resource{Name: "Break-glass drill", Description: "Rehearse break-glass: rotated when the window ends",
					OwnerTeam: "security", Classification: approvals.Low, Path: "drill/break-glass", Policy: policy(1, ""),
					BreakGlass: approvals.BreakGlass{Enabled: true, MaxDuration: 15 * time.Minute, RotateAfter: true, Drill: true}},
			)},
		{Slug: "globex", Name: "Globex Corporation", Domain: "globex.test", Users: member("globex.test"), Mappings: mappings,
			Secrets: map[string]map[string]any{
				"analytics/warehouse": {"username": "analyst", "password": "demo-warehouse-password"},
				"email/smtp-relay":    {"password": "demo-smtp"},
			},
			Resources: catalog(approvals.Resource{Name: "Analytics warehouse", OwnerTeam: "data", Classification: approvals.High,
				Path: "analytics/warehouse", Policy: policy(1, "")})},
		{Slug: "gatehouse", Name: "Gatehouse Platform", Domain: "gatehouse.test",
			Users:    []DemoUser{{"operator@gatehouse.test", "Olive Operator", []string{"platform-operators"}}},
			Mappings: []tenants.RoleMapping{{Group: "platform-operators", Role: tenants.RolePlatformOperator}}},
		{Slug: "initech", Name: "Initech", Domain: "initech.test", Unseeded: true,
			Users: []DemoUser{
				{"admin@initech.test", "Bill Lumbergh", []string{"it-admins"}},
				{"dev@initech.test", "Peter Gibbons", []string{"developers"}},
			}},
	}
}

// ClientSecret is the demo OIDC client secret Gatehouse uses at org's IdP.
func (o DemoOrg) ClientSecret() string { return "gatehouse-dev-secret-" + o.Slug }

// idpConfig is the devidp command's configuration file.
type idpConfig struct {
	Orgs []idpOrg `json:"orgs"`
}

type idpOrg struct {
	Name    string      `json:"name"`
	Users   []idpUser   `json:"users"`
	Clients []idpClient `json:"clients"`
}

type idpUser struct {
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Groups   []string `json:"groups"`
	Name     string   `json:"name"`
}

type idpClient struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	RedirectURIs []string `json:"redirect_uris"`
}

// WriteIdPConfig writes the devidp configuration for orgs to path, with one
// client "gatehouse" per org whose redirect URI is publicURL/auth/{slug}/callback.
func WriteIdPConfig(path, publicURL string, orgs []DemoOrg) error {
	var cfg idpConfig
	for _, o := range orgs {
		io := idpOrg{Name: o.Slug, Clients: []idpClient{{
			ID: "gatehouse", Secret: o.ClientSecret(),
			RedirectURIs: []string{strings.TrimRight(publicURL, "/") + "/auth/" + o.Slug + "/callback"},
		}}}
		for _, u := range o.Users {
			io.Users = append(io.Users, idpUser{Email: u.Email, Password: DemoPassword, Groups: u.Groups, Name: u.Name})
		}
		cfg.Orgs = append(cfg.Orgs, io)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("writing IdP config: %w", err)
	}
	return nil
}
