package approvals

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/apperr"
)

// ResourceDetails are what a tenant admin may change of a catalog entry
// once it is added. Where its secret is (store binding, mount, path) is
// not among them: a different secret is a different resource, added as a
// new entry.
type ResourceDetails struct {
	Name           string
	Description    string
	OwnerTeam      string
	Classification Classification
}

// Change is one detail of a resource changed by an edit, old and new
// values as shown to admins (catalog metadata, never a secret).
type Change struct {
	Field string // "name", "description", "owner_team" or "classification"
	Old   string
	New   string
}

// EditDetails returns r with its details replaced by d (the name trimmed)
// and the fields that changed, in the form's order; no change is an empty
// list. classPolicy is the tenant's policy for d's classification, nil
// when it has none.
//
// A resource following its classification's policy (PolicyFromClass) that
// changes classification takes the new classification's policy. When the
// tenant has none for it the edit is refused (apperr.Invalid on
// "classification"): keeping the old policy as the resource's own would
// silently stop later changes of any classification's policy from
// reaching it. An admin who wants that gives it its own policy first.
//
// Bad details are an apperr.Invalid with a message per field, by the
// rules of adding an entry (CheckResource); r is returned unchanged then.
func EditDetails(r Resource, d ResourceDetails, classPolicy *Policy) (Resource, []Change, error) {
	next := r
	next.Name, next.Description, next.OwnerTeam, next.Classification = strings.TrimSpace(d.Name), d.Description, d.OwnerTeam, d.Classification
	if f := detailErrors(next); len(f) > 0 {
		return r, nil, apperr.InvalidFields("The details need correcting.", f)
	}
	var changes []Change
	for _, c := range []Change{{"name", r.Name, next.Name}, {"description", r.Description, next.Description},
		{"owner_team", r.OwnerTeam, next.OwnerTeam}, {"classification", string(r.Classification), string(next.Classification)}} {
		if c.Old != c.New {
			changes = append(changes, c)
		}
	}
	if r.PolicyFromClass && next.Classification != r.Classification {
		if classPolicy == nil {
			msg := fmt.Sprintf("This resource follows its classification's policy, and your organization has no policy for %s resources yet. "+
				"Set one under Policies by classification, or give this resource its own policy first.", next.Classification)
			return r, nil, apperr.InvalidFields(msg, map[string]string{"classification": msg})
		}
		next.Policy = *classPolicy
	}
	return next, changes, nil
}

// InUse counts what still gives, or may yet give, access to a resource,
// and what Gatehouse still runs on it: the reasons it cannot be retired.
type InUse struct {
	Requests int  // pending approval, approved, or being issued
	Grants   int  // active grants, break-glass ones included
	Shares   int  // shares of it proposed, awaiting acceptance or active
	Rotation bool // a rotation schedule writes new values into it
	Replicas int  // replicas of it in cloud stores, not purged, kept in sync with it
}

// Any reports whether anything is counted.
func (u InUse) Any() bool { return u.Requests+u.Grants+u.Shares+u.Replicas > 0 || u.Rotation }

// RequestStatesInUse are the request states, short of an active grant,
// that keep a resource in use: a request in one of them may still become
// access.
func RequestStatesInUse() []State { return []State{Pending, Approved, Issuing} }

// ShareStatesInUse are the share states that keep a resource in use.
func ShareStatesInUse() []ShareState { return []ShareState{ShareProposed, ShareAccepting, ShareActive} }

// CheckRetire decides whether r may be retired by an admin who typed
// confirm (which must be r's name) and gave reason (5 to 500 characters),
// while u is in use. Confirmation and reason are checked first: an
// apperr.Invalid with a message per field ("confirm", "reason"). A
// resource retired already, or with anything in use, is an
// apperr.Conflict naming what is in the way and how to close it: deny the
// requests, revoke the grants under the revocation center's resource
// scope, end the shares. Retiring never closes access itself.
func CheckRetire(r Resource, confirm, reason string, u InUse) error {
	f := map[string]string{}
	if strings.TrimSpace(confirm) != r.Name {
		f["confirm"] = "Type the resource's name exactly as shown (" + r.Name + ") to confirm."
	}
	if n := len([]rune(strings.TrimSpace(reason))); n < 5 || n > 500 {
		f["reason"] = "Say why it is retired (5 to 500 characters)."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The retirement is not confirmed.", f)
	}
	if r.Retired() {
		return apperr.New(apperr.Conflict, r.Name+" is retired already.")
	}
	if !u.Any() {
		return nil
	}
	var in, todo []string
	if u.Requests > 0 {
		in = append(in, plural(u.Requests, "open request", "open requests"))
		todo = append(todo, "deny (or have their requesters cancel) the requests still pending, and let approved ones finish issuing")
	}
	if u.Grants > 0 {
		in = append(in, plural(u.Grants, "active grant", "active grants"))
		todo = append(todo, "revoke the grants under Revocations with the scope resource:"+r.ID)
	}
	if u.Shares > 0 {
		in = append(in, plural(u.Shares, "live share", "live shares"))
		todo = append(todo, "end the shares of it under Shares")
	}
	if u.Rotation {
		in = append(in, "a rotation schedule")
		todo = append(todo, "stop its scheduled rotation on this page")
	}
	if u.Replicas > 0 {
		in = append(in, plural(u.Replicas, "replica", "replicas"))
		todo = append(todo, "purge its replicas under Replicas")
	}
	return apperr.New(apperr.Conflict, r.Name+" is still in use: "+strings.Join(in, ", ")+
		". Retiring never leaves access or anything running behind, so first "+strings.Join(todo, "; ")+", then retire it.")
}

// CheckRestore decides whether r may be restored with reason (5 to 500
// characters): an apperr.Invalid with a message for "reason" when it is
// missing or too long, checked first; an apperr.Conflict unless r is
// retired.
func CheckRestore(r Resource, reason string) error {
	if n := len([]rune(strings.TrimSpace(reason))); n < 5 || n > 500 {
		return apperr.InvalidFields("The restore is not confirmed.", map[string]string{"reason": "Say why it returns to the catalog (5 to 500 characters)."})
	}
	if !r.Retired() {
		return apperr.New(apperr.Conflict, r.Name+" is in the catalog; there is nothing to restore.")
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
