package tenants

import (
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/apperr"
)

// RolesFor returns the roles that the IdP groups map to under mappings,
// each once, in the order of Roles. It returns nil when no group is mapped:
// such a person may not sign in.
func RolesFor(groups []string, mappings []RoleMapping) []Role {
	var out []Role
	for _, r := range Roles() {
		for _, m := range mappings {
			if m.Role == r && slices.Contains(groups, m.Group) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// CheckMappings validates the complete set of role mappings of the tenant
// slug: groups are non-empty (≤ 200 characters), roles known, no duplicate,
// at least one tenant-admin mapping (or, for the platform tenant, one
// platform-operator mapping), and platform-operator only in the platform
// tenant. It returns an apperr.Invalid error saying what is wrong.
func CheckMappings(slug string, ms []RoleMapping) error {
	seen := map[RoleMapping]bool{}
	admin := false
	for _, m := range ms {
		switch {
		case strings.TrimSpace(m.Group) == "" || len(m.Group) > 200:
			return apperr.InvalidFields("Check the group.", map[string]string{"group": "Give the IdP group's exact name (1–200 characters)."})
		case !m.Role.Valid():
			return apperr.InvalidFields("Check the role.", map[string]string{"role": "Pick one of the listed roles."})
		case m.Role == RolePlatformOperator && slug != PlatformSlug:
			return apperr.InvalidFields("Check the role.", map[string]string{"role": "Only the platform organization can have platform operators."})
		case seen[m]:
			return apperr.InvalidFields("Already mapped.", map[string]string{"group": "That group already maps to that role."})
		}
		seen[m] = true
		admin = admin || m.Role == RoleTenantAdmin || (slug == PlatformSlug && m.Role == RolePlatformOperator)
	}
	if !admin {
		return apperr.New(apperr.Invalid, "At least one group must map to tenant-admin, or nobody could manage this organization.")
	}
	return nil
}
