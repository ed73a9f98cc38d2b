package tenants

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

// RotationSchedule rotates one cloud secret of the catalog every Every,
// with a generated value (Length characters of Alphabet) verified by
// VerifyURL when set.
type RotationSchedule struct {
	ResourceID  string
	Every       time.Duration
	Length      int
	Alphabet    string // "urlsafe", "alnum" or "printable"
	VerifyURL   string
	NextAt      time.Time
	LastAt      time.Time
	LastVersion string
	LastError   string
}

// CheckRotationSchedule validates a schedule, returning apperr.Invalid
// with a message per bad field.
func CheckRotationSchedule(r RotationSchedule) error {
	f := map[string]string{}
	if r.Every < time.Hour || r.Every > 366*24*time.Hour {
		f["every"] = "Rotate every hour at the most often, once a year at the least (e.g. 720h)."
	}
	if r.Length < 16 || r.Length > 256 {
		f["length"] = "A generated value is 16–256 characters."
	}
	if r.VerifyURL != "" && !VerifiableURL(r.VerifyURL) {
		f["verify_url"] = "Give an https URL (http only on loopback), or leave it empty."
	}
	switch r.Alphabet {
	case "urlsafe", "alnum", "printable":
	default:
		f["alphabet"] = "Pick an alphabet."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The rotation schedule needs correcting.", f)
	}
	return nil
}

// SyncState is where a replica stands against its source.
type SyncState string

// The replica states.
const (
	SyncPending SyncState = "pending"
	SyncInSync  SyncState = "in-sync"
	SyncDrifted SyncState = "drifted" // changed outside Gatehouse: not overwritten until someone syncs it by hand
	SyncFailed  SyncState = "failed"
	SyncPurged  SyncState = "purged"
)

// SyncTarget replicates a Vault secret of the catalog (the source) to a
// secret in one of the tenant's cloud bindings.
type SyncTarget struct {
	ID            string
	TenantID      string
	SourceID      string // the catalog resource (a Vault secret)
	SourceName    string // its display name
	SourceMount   string
	SourcePath    string
	BindingID     string
	BindingName   string
	TargetName    string
	State         SyncState
	SourceVersion string // the source version last copied
	TargetVersion string // the replica version Gatehouse wrote
	Detail        string // what drifted (metadata only) or the error
	CheckedAt     time.Time
}

var replicaNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,255}$`)

// CheckSyncTarget validates a new replica: a Vault secret (not a folder)
// as the source and a plain target name. It returns apperr.Invalid.
func CheckSyncTarget(t SyncTarget) error {
	f := map[string]string{}
	if t.SourceMount == "" || t.SourcePath == "" || t.SourcePath[len(t.SourcePath)-1] == '/' {
		f["source"] = "Pick one Vault secret of the catalog (not a folder)."
	}
	if t.BindingID == "" {
		f["binding"] = "Pick one of your cloud store bindings."
	}
	if !replicaNameRE.MatchString(t.TargetName) {
		f["target_name"] = "Give the replica's name in the cloud store (letters, digits and /_+=.@-)."
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The replica needs correcting.", f)
	}
	return nil
}

// Replica is what a sync saw of a replica, without its value.
type Replica struct {
	Exists      bool
	Version     string // its current version
	ValueEquals bool   // its value equals the source's (compared, never kept)
}

// SyncPlan is what a sync does: write the source's value to the replica
// or not, and the state and detail it records.
type SyncPlan struct {
	Write  bool
	State  SyncState
	Detail string
}

// PlanSync decides a sync of t, whose source is now at sourceVersion and
// whose replica was seen as r. A replica changed outside Gatehouse is
// reported as drifted and left alone unless force (someone syncs it by
// hand); otherwise a missing or outdated replica is written.
func PlanSync(t SyncTarget, sourceVersion string, r Replica, force bool) SyncPlan {
	switch {
	case !r.Exists:
		detail := ""
		if t.TargetVersion != "" {
			detail = "The replica was missing from the store; written again."
		}
		return SyncPlan{Write: true, State: SyncInSync, Detail: detail}
	case force:
		return SyncPlan{Write: !r.ValueEquals, State: SyncInSync}
	case t.TargetVersion != "" && r.Version != t.TargetVersion:
		d := fmt.Sprintf("The replica's current version %s was not written by Gatehouse (it wrote %s)", r.Version, t.TargetVersion)
		if !r.ValueEquals {
			d += ", and its value differs from the source"
		}
		return SyncPlan{State: SyncDrifted, Detail: d + ". Sync it by hand to overwrite it."}
	case r.ValueEquals:
		return SyncPlan{State: SyncInSync}
	}
	return SyncPlan{Write: true, State: SyncInSync}
}

// VerifiableURL reports whether raw may receive verification calls: an
// https URL without credentials, or http on loopback (development).
func VerifiableURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return u.Scheme == "http" && (u.Hostname() == "localhost" || ip != nil && ip.IsLoopback())
}
