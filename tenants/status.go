package tenants

import (
	"strings"

	"github.com/gatehouse/gatehouse/apperr"
)

// PlatformSlug is the tenant of Gatehouse's own platform operators. It can
// never be suspended or cut off: that would lock every operator out.
const PlatformSlug = "gatehouse"

// KillSwitch is one of the actions that cut a tenant off or let it back in.
type KillSwitch string

// The kill-switch actions.
const (
	Suspend    KillSwitch = "suspend"     // tenant → suspended; its sessions end
	Reactivate KillSwitch = "reactivate"  // suspended tenant → active
	DisableIdP KillSwitch = "disable-idp" // IdP → disabled; its sessions end
	EnableIdP  KillSwitch = "enable-idp"  // IdP → enabled
)

// Ends reports whether the action ends the tenant's sessions.
func (k KillSwitch) Ends() bool { return k == Suspend || k == DisableIdP }

// AuditAction returns the audit action name of k.
func (k KillSwitch) AuditAction() string {
	switch k {
	case Suspend:
		return "tenant.suspended"
	case Reactivate:
		return "tenant.reactivated"
	case DisableIdP:
		return "idp.disabled"
	default:
		return "idp.enabled"
	}
}

// CheckKillSwitch validates applying k to tenant slug, currently in status
// with its IdP enabled or not, for the given reason. It returns
// apperr.Invalid for an unknown action or a missing reason, and
// apperr.Conflict when the action does not fit the current state.
func CheckKillSwitch(k KillSwitch, slug string, status Status, idpEnabled bool, reason string) error {
	if k.Ends() && len(strings.TrimSpace(reason)) < 5 {
		return apperr.InvalidFields("Say why.", map[string]string{"reason": "Give a reason of at least 5 characters; it is recorded in the audit trail."})
	}
	if k.Ends() && slug == PlatformSlug {
		return apperr.New(apperr.Conflict, "The platform operators' own organization cannot be cut off: that would lock every operator out.")
	}
	switch k {
	case Suspend:
		if status == StatusSuspended {
			return apperr.New(apperr.Conflict, "This organization is already suspended.")
		}
	case Reactivate:
		if status != StatusSuspended {
			return apperr.New(apperr.Conflict, "Only a suspended organization can be reactivated.")
		}
	case DisableIdP:
		if !idpEnabled {
			return apperr.New(apperr.Conflict, "This organization's identity provider is already disabled.")
		}
	case EnableIdP:
		if idpEnabled {
			return apperr.New(apperr.Conflict, "This organization's identity provider is already enabled.")
		}
	default:
		return apperr.New(apperr.Invalid, "Unknown action.")
	}
	return nil
}
