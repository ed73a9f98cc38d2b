package monitor

import (
	"testing"
	"time"
)

func rules(alerts []Alert) map[Rule]int {
	out := map[Rule]int{}
	for _, a := range alerts {
		out[a.Rule] = a.Score
	}
	return out
}

func TestEachRuleOnAnInjectedClock(t *testing.T) {
	s := DefaultSettings()
	s.TimeZone = "Europe/Paris"
	tuesday10 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)  // 10:00 in Paris
	tuesday22 := time.Date(2026, 11, 24, 21, 0, 0, 0, time.UTC) // 22:00 in Paris
	saturday := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	reveal := Event{Actor: "a", Action: "grant.revealed", Target: "req-1"}
	seen := Facts{NetworkSeen: true}
	for _, tc := range []struct {
		name string
		ev   Event
		f    Facts
		want Rule
		hit  bool
	}{
		{"reveal in business hours", with(reveal, tuesday10), seen, OffHoursReveal, false},
		{"reveal at night", with(reveal, tuesday22), seen, OffHoursReveal, true},
		{"reveal on a Saturday", with(reveal, saturday), seen, OffHoursReveal, true},
		{"login from a known network", Event{Action: "login.succeeded", IP: "192.0.2.7", At: tuesday10}, seen, NewNetwork, false},
		{"login from a new network", Event{Action: "login.succeeded", IP: "192.0.2.7", At: tuesday10}, Facts{}, NewNetwork, true},
		{"first reveal of a low resource", with(reveal, tuesday10), Facts{NetworkSeen: true, FirstReveal: true, Classification: "low"}, FirstSensitive, false},
		{"first reveal of a critical resource", with(reveal, tuesday10), Facts{NetworkSeen: true, FirstReveal: true, Classification: "critical"}, FirstSensitive, true},
		{"second reveal of a critical resource", with(reveal, tuesday10), Facts{NetworkSeen: true, Classification: "critical"}, FirstSensitive, false},
		{"burst below the threshold", with(reveal, tuesday10), Facts{NetworkSeen: true, RecentActions: 9}, Burst, false},
		{"burst at the threshold", with(reveal, tuesday10), Facts{NetworkSeen: true, RecentActions: 10}, Burst, true},
		{"burst past the threshold alerts once", with(reveal, tuesday10), Facts{NetworkSeen: true, RecentActions: 11}, Burst, false},
		{"denials at the threshold", Event{Action: "login.refused", Denied: true, At: tuesday10}, Facts{RecentDenials: 5}, RepeatedDenials, true},
		{"break-glass frequency", Event{Action: "breakglass.started", At: tuesday10}, Facts{RecentBreakGlass: 3}, BreakGlassFrequency, true},
	} {
		got := rules(Evaluate(tc.ev, tc.f, s))
		if _, hit := got[tc.want]; hit != tc.hit {
			t.Errorf("%s: %s raised %v (alerts %v)", tc.name, tc.want, hit, got)
		}
	}
	// A disabled rule never alerts.
	s.Disabled = []Rule{OffHoursReveal}
	if _, hit := rules(Evaluate(with(reveal, tuesday22), seen, s))[OffHoursReveal]; hit {
		t.Fatal("a disabled rule alerted")
	}
}

func with(ev Event, at time.Time) Event { ev.At = at; return ev }

func TestNetworksAndSettings(t *testing.T) {
	if Network("192.0.2.77") != "192.0.2.0/24" || Network("2001:db8:1:2::5") != "2001:db8:1::/48" || Network("") != "" {
		t.Fatal("networks")
	}
	if err := DefaultSettings().Check(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultSettings()
	bad.TimeZone, bad.BusinessEnd, bad.BurstThreshold = "Mars/Olympus", 3, 1
	bad.BusinessStart = 9
	if err := bad.Check(); err == nil {
		t.Fatal("bad settings accepted")
	}
}
