package approvals

import (
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// Classification is how sensitive a resource is.
type Classification string

// The classifications.
const (
	Low      Classification = "low"
	Medium   Classification = "medium"
	High     Classification = "high"
	Critical Classification = "critical"
)

var mountRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,62}$`)

// Resource is one requestable secret (or path prefix) in a tenant's store
// binding, with the access policy requests for it are decided under.
type Resource struct {
	ID             string
	Name           string
	Description    string
	OwnerTeam      string
	Classification Classification
	Mount          string // the tenant's KV v2 mount, or a cloud binding's location
	Path           string // a secret, or a prefix ending in "/" (cloud: a secret's name)
	// StoreKind is "vault-kv2" (or "" for it) or a cloud store kind, whose
	// binding is BindingID.
	StoreKind string
	BindingID string
	Policy    Policy
	// PolicyFromClass is set when Policy is the tenant's policy for the
	// resource's classification, kept in step whenever that changes.
	PolicyFromClass bool
	BreakGlass      BreakGlass
	// RetiredAt is when the resource was taken out of the catalog (zero
	// while it is in it), RetiredBy who did it and RetiredReason why.
	RetiredAt     time.Time
	RetiredBy     string
	RetiredReason string
}

// Retired reports whether the resource is out of the catalog: nobody may
// request it, break glass on it or share it until it is restored.
func (r Resource) Retired() bool { return !r.RetiredAt.IsZero() }

// Classifications are the classifications, least sensitive first.
func Classifications() []Classification { return []Classification{Low, Medium, High, Critical} }

// Valid reports whether c is one of the classifications.
func (c Classification) Valid() bool {
	switch c {
	case Low, Medium, High, Critical:
		return true
	}
	return false
}

// ClassPolicy is a tenant's access policy for one classification: every
// resource of that classification that follows it (Followers of them)
// carries it. Set is false while the tenant has none for it.
type ClassPolicy struct {
	Classification Classification
	Policy         Policy
	Set            bool
	Followers      int
}

// Cloud reports whether the resource is in a cloud store binding.
func (r Resource) Cloud() bool { return r.BindingID != "" }

// CheckResource validates a catalog entry (its own policy too, unless it
// follows its classification's). The path must stay inside the
// mount: plain segments, no "..", no leading "/". It returns an
// apperr.Invalid with a message per bad field.
func CheckResource(r Resource) error {
	f := detailErrors(r)
	switch {
	case r.Cloud():
		if r.Path == "" || len(r.Path) > 255 || strings.HasSuffix(r.Path, "/") || strings.ContainsAny(r.Path, "*\"\\ ") {
			f["path"] = "Give the name of one secret in the store."
		}
	case !mountRE.MatchString(r.Mount):
		f["mount"] = "The store binding's mount is not a plain mount name."
	}
	if !r.Cloud() && (r.Path == "" || strings.HasPrefix(r.Path, "/") || strings.Contains(r.Path, "..") || strings.ContainsAny(r.Path, "*+\"\\ ")) {
		f["path"] = "Give a path inside the mount, like app/db or app/ for a prefix."
	}
	if err := CheckBreakGlassSetting(r.BreakGlass); err != nil {
		for k, v := range apperr.As(err).Fields {
			f["breakglass."+k] = v
		}
	}
	if !r.PolicyFromClass { // the store copies the classification's policy, validated when it was set
		if err := r.Policy.Validate(); err != nil {
			for k, v := range apperr.As(err).Fields {
				f["policy."+k] = v
			}
		}
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The resource needs correcting.", f)
	}
	return nil
}

// detailErrors are the messages, per field, of r's details that break the
// catalog's rules (empty when none does): the rules of ResourceDetails,
// shared by adding an entry and editing it.
func detailErrors(r Resource) map[string]string {
	f := map[string]string{}
	if n := len(strings.TrimSpace(r.Name)); n == 0 || n > 100 {
		f["name"] = "Give a name of 1–100 characters."
	}
	if len([]rune(r.Description)) > 500 {
		f["description"] = "Keep the description to 500 characters."
	}
	if len([]rune(r.OwnerTeam)) > 100 {
		f["owner_team"] = "Keep the owner team to 100 characters."
	}
	if !r.Classification.Valid() {
		f["classification"] = "Pick low, medium, high or critical."
	}
	return f
}
