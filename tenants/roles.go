package tenants

import "slices"

// RolesFor returns the roles that the IdP groups map to under mappings,
// each once, in the order of Roles. It returns nil when no group is mapped:
// such a person may not sign in.
func RolesFor(groups []string, mappings []RoleMapping) []Role {
	var out []Role
	for _, r := range Roles {
		for _, m := range mappings {
			if m.Role == r && slices.Contains(groups, m.Group) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
