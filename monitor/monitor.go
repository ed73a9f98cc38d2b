// Package monitor is Gatehouse's access monitor: rules evaluated on audit
// events as they arrive, raising scored alerts for a tenant's security
// team. It holds the rules only; the postgres adapter supplies each
// event's facts (history) and keeps alerts, and a job runs the scan.
package monitor

import (
	"net"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones without the host's tzdata (distroless images)

	"github.com/gatehouse/gatehouse/apperr"
)

// Rule names an anomaly rule.
type Rule string

// The rules.
const (
	OffHoursReveal      Rule = "off-hours-reveal"       // a reveal outside business hours
	NewNetwork          Rule = "new-network"            // first-seen IP network for a person
	FirstSensitive      Rule = "first-sensitive-access" // first access to a high or critical resource
	Burst               Rule = "burst"                  // reveals or requests above a threshold in a window
	RepeatedDenials     Rule = "repeated-denials"       // denied or failed attempts above a threshold
	BreakGlassFrequency Rule = "breakglass-frequency"   // break-glasses in the tenant above a threshold
)

// Rules lists every rule.
func Rules() []Rule {
	return []Rule{OffHoursReveal, NewNetwork, FirstSensitive, Burst, RepeatedDenials, BreakGlassFrequency}
}

// Settings are a tenant's monitor settings.
type Settings struct {
	Disabled            []Rule        `json:"disabled"`
	TimeZone            string        `json:"time_zone"`      // IANA, e.g. Europe/Paris
	BusinessStart       int           `json:"business_start"` // hour, 0–23
	BusinessEnd         int           `json:"business_end"`   // hour, 1–24
	Weekends            bool          `json:"weekends"`       // Saturday and Sunday are business days
	BurstThreshold      int           `json:"burst_threshold"`
	BurstWindow         time.Duration `json:"burst_window_ns"`
	DeniedThreshold     int           `json:"denied_threshold"`
	DeniedWindow        time.Duration `json:"denied_window_ns"`
	BreakGlassThreshold int           `json:"breakglass_threshold"`
	BreakGlassWindow    time.Duration `json:"breakglass_window_ns"`
}

// DefaultSettings are a tenant's settings until its admins change them.
func DefaultSettings() Settings {
	return Settings{TimeZone: "UTC", BusinessStart: 8, BusinessEnd: 19, BurstThreshold: 10, BurstWindow: 10 * time.Minute,
		DeniedThreshold: 5, DeniedWindow: 10 * time.Minute, BreakGlassThreshold: 3, BreakGlassWindow: 24 * time.Hour}
}

// Check validates settings, returning an apperr.Invalid per bad field.
func (s Settings) Check() error {
	f := map[string]string{}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" {
		f["time_zone"] = "Give an IANA time zone, like Europe/Paris."
	}
	if s.BusinessStart < 0 || s.BusinessStart > 23 || s.BusinessEnd < 1 || s.BusinessEnd > 24 || s.BusinessEnd <= s.BusinessStart {
		f["business_hours"] = "Business hours run from a start hour (0–23) to a later end hour (1–24)."
	}
	for name, n := range map[string]int{"burst_threshold": s.BurstThreshold, "denied_threshold": s.DeniedThreshold, "breakglass_threshold": s.BreakGlassThreshold} {
		if n < 2 || n > 10000 {
			f[name] = "Give 2 to 10000."
		}
	}
	for name, d := range map[string]time.Duration{"burst_window": s.BurstWindow, "denied_window": s.DeniedWindow, "breakglass_window": s.BreakGlassWindow} {
		if d < time.Minute || d > 30*24*time.Hour {
			f[name] = "Give 1 minute to 30 days."
		}
	}
	for _, r := range s.Disabled {
		if !known(r) {
			f["disabled"] = "Unknown rule " + string(r) + "."
		}
	}
	if len(f) > 0 {
		return apperr.InvalidFields("The monitor settings need correcting.", f)
	}
	return nil
}

func known(r Rule) bool {
	for _, x := range Rules() {
		if x == r {
			return true
		}
	}
	return false
}

func (s Settings) enabled(r Rule) bool {
	for _, d := range s.Disabled {
		if d == r {
			return false
		}
	}
	return true
}

// Event is an audit event as the rules see it.
type Event struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Target string
	Denied bool // outcome denied or failure
	IP     string
}

// Facts are what the store knows of an event's history, counted up to and
// including the event.
type Facts struct {
	NetworkSeen      bool   // the actor was seen on the event's network before
	Classification   string // of the revealed resource ("" when not a reveal)
	FirstReveal      bool   // the actor's first reveal of that resource
	RecentActions    int    // the actor's reveals and requests in the burst window
	RecentDenials    int    // the actor's denied or failed events in the denial window
	RecentBreakGlass int    // the tenant's break-glasses in the break-glass window
}

// Alert is an anomaly found on an event.
type Alert struct {
	Rule    Rule
	Score   int // 0–100: how much it deserves a look
	Summary string
}

// Network returns the network of an IP the new-network rule compares:
// its /24 (IPv4) or /48 (IPv6); "" for no or a bad address.
func Network(ip string) string {
	p := net.ParseIP(strings.TrimSpace(ip))
	switch {
	case p == nil:
		return ""
	case p.To4() != nil:
		return p.Mask(net.CIDRMask(24, 32)).String() + "/24"
	default:
		return p.Mask(net.CIDRMask(48, 128)).String() + "/48"
	}
}

func isReveal(action string) bool {
	return action == "grant.revealed" || action == "grant.token_handed_over"
}

// Evaluate applies the enabled rules to ev with its facts and returns the
// alerts it raises. Thresholds alert once, when reached, not on every
// event beyond them.
func Evaluate(ev Event, f Facts, s Settings) []Alert {
	var out []Alert
	add := func(r Rule, score int, summary string) {
		if s.enabled(r) {
			out = append(out, Alert{Rule: r, Score: score, Summary: summary})
		}
	}
	if isReveal(ev.Action) && !s.businessHours(ev.At) {
		add(OffHoursReveal, 40, ev.Actor+" revealed "+ev.Target+" outside business hours ("+ev.At.In(s.location()).Format("Mon 15:04 MST")+")")
	}
	if n := Network(ev.IP); n != "" && !f.NetworkSeen && strings.HasPrefix(ev.Action, "login.") {
		add(NewNetwork, 30, ev.Actor+" signed in from a network never seen for them: "+n)
	}
	if isReveal(ev.Action) && f.FirstReveal && (f.Classification == "high" || f.Classification == "critical") {
		score := 50
		if f.Classification == "critical" {
			score = 70
		}
		add(FirstSensitive, score, ev.Actor+" accessed "+f.Classification+" resource "+ev.Target+" for the first time")
	}
	if (isReveal(ev.Action) || ev.Action == "request.submitted") && f.RecentActions == s.BurstThreshold {
		add(Burst, 60, ev.Actor+" made "+strconv.Itoa(f.RecentActions)+" reveals or requests within "+s.BurstWindow.String())
	}
	if ev.Denied && f.RecentDenials == s.DeniedThreshold {
		add(RepeatedDenials, 70, ev.Actor+" was denied or failed "+strconv.Itoa(f.RecentDenials)+" times within "+s.DeniedWindow.String())
	}
	if ev.Action == "breakglass.started" && f.RecentBreakGlass == s.BreakGlassThreshold {
		add(BreakGlassFrequency, 80, strconv.Itoa(f.RecentBreakGlass)+" break-glasses within "+s.BreakGlassWindow.String())
	}
	return out
}

func (s Settings) location() *time.Location {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// businessHours reports whether t falls in the tenant's business hours.
func (s Settings) businessHours(t time.Time) bool {
	local := t.In(s.location())
	if !s.Weekends && (local.Weekday() == time.Saturday || local.Weekday() == time.Sunday) {
		return false
	}
	return local.Hour() >= s.BusinessStart && local.Hour() < s.BusinessEnd
}

// Raised is a stored alert, as the security dashboard shows it.
type Raised struct {
	ID         int64
	Rule       string
	Score      int
	Summary    string
	EventID    int64 // the audit event that raised it
	Actor      string
	OccurredAt time.Time
	AckedAt    time.Time // zero while open
	AckedBy    string
}
