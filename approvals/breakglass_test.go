package approvals

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

var (
	responder = Person{Subject: "resp", Roles: []tenants.Role{tenants.RoleResponder}}
	flagged   = Resource{Name: "db", BreakGlass: BreakGlass{Enabled: true, MaxDuration: time.Hour}}
	drill     = Resource{Name: "drill db", BreakGlass: BreakGlass{Enabled: true, MaxDuration: time.Hour, Drill: true}}
	emergency = Emergency{Justification: "primary database is down, need the root password", Incident: "INC-42"}
)

func TestBreakGlassRules(t *testing.T) {
	unflagged := flagged
	unflagged.BreakGlass.Enabled = false
	tooLong := emergency
	tooLong.Duration = 2 * time.Hour
	short := emergency
	short.Justification = "db down"
	noIncident := emergency
	noIncident.Incident = "  "
	multiline := emergency
	multiline.Incident = "INC-1\nBcc: x"
	for _, tc := range []struct {
		name   string
		who    Person
		res    Resource
		e      Emergency
		fresh  bool
		active InForce
		code   apperr.Code
		field  string
	}{
		{"requester is not a responder", requester, flagged, emergency, true, InForce{}, apperr.Forbidden, ""},
		{"resource not flagged", responder, unflagged, emergency, true, InForce{}, apperr.Forbidden, ""},
		{"stale authentication", responder, flagged, emergency, false, InForce{}, apperr.Forbidden, ""},
		{"justification too short", responder, flagged, short, true, InForce{}, apperr.Invalid, "justification"},
		{"no incident reference", responder, flagged, noIncident, true, InForce{}, apperr.Invalid, "incident"},
		{"incident reference with a line break", responder, flagged, multiline, true, InForce{}, apperr.Invalid, "incident"},
		{"window over the maximum", responder, flagged, tooLong, true, InForce{}, apperr.Invalid, "duration"},
		{"responder at their limit", responder, flagged, emergency, true, InForce{ByResponder: 1, InTenant: 1}, apperr.Conflict, ""},
		{"tenant at its limit", responder, flagged, emergency, true, InForce{InTenant: 3}, apperr.Conflict, ""},
		{"responder with a drill running", responder, drill, emergency, true, InForce{DrillsByResponder: 1}, apperr.Conflict, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := CheckBreakGlass(tc.who, tc.res, tc.e, tc.fresh, tc.active, DefaultLimits())
			if apperr.CodeOf(err) != tc.code || d != 0 {
				t.Fatalf("got %v (%s), want %s", err, d, tc.code)
			}
			if tc.field != "" && apperr.As(err).Fields[tc.field] == "" {
				t.Fatalf("no message for %s: %v", tc.field, apperr.As(err).Fields)
			}
		})
	}
	d, err := CheckBreakGlass(responder, flagged, emergency, true, InForce{}, DefaultLimits())
	if err != nil || d != time.Hour {
		t.Fatalf("eligible break-glass: %s %v (want the resource's maximum)", d, err)
	}
	// Drills never count toward the limits of real break-glass, nor real
	// break-glass toward the drill limit.
	if _, err := CheckBreakGlass(responder, flagged, emergency, true, InForce{DrillsByResponder: 1}, DefaultLimits()); err != nil {
		t.Fatalf("real break-glass during a drill: %v", err)
	}
	if _, err := CheckBreakGlass(responder, drill, emergency, true, InForce{ByResponder: 1, InTenant: 3}, DefaultLimits()); err != nil {
		t.Fatalf("a drill with the real limits reached: %v", err)
	}
	shorter := emergency
	shorter.Duration = 15 * time.Minute
	if d, err := CheckBreakGlass(responder, flagged, shorter, true, InForce{}, DefaultLimits()); err != nil || d != 15*time.Minute {
		t.Fatalf("shorter window: %s %v", d, err)
	}
}

func TestFreshMeansARecentForcedReauthentication(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		stepUp bool
		at     time.Time
		want   bool
	}{
		{true, now.Add(-4 * time.Minute), true},
		{true, now.Add(-6 * time.Minute), false},
		{false, now.Add(-time.Minute), false}, // an ordinary sign-in, however recent
		{true, time.Time{}, false},
		{true, now.Add(10 * time.Minute), false}, // from the future: a clock problem, refused
	} {
		if got := Fresh(tc.stepUp, tc.at, now); got != tc.want {
			t.Errorf("Fresh(%v, %s) = %v", tc.stepUp, now.Sub(tc.at), got)
		}
	}
}

func TestReviewRules(t *testing.T) {
	notes := "checked the incident timeline"
	if err := CheckReview(responder, responder, Justified, notes); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("self-review: %v", err)
	}
	both := Person{Subject: "resp", Roles: []tenants.Role{tenants.RoleResponder, tenants.RoleApprover}}
	if err := CheckReview(responder, both, Justified, notes); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("self-review by a responder who is also an approver: %v", err)
	}
	if err := CheckReview(responder, requester, Justified, notes); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("review by a non-approver: %v", err)
	}
	if err := CheckReview(responder, appr1, "maybe", "ok"); apperr.CodeOf(err) != apperr.Invalid ||
		apperr.As(err).Fields["verdict"] == "" || apperr.As(err).Fields["notes"] == "" {
		t.Fatalf("bad verdict and notes: %v", err)
	}
	if err := CheckReview(responder, appr1, NotJustified, notes); err != nil {
		t.Fatal(err)
	}
}

func TestNotJustifiedFlagsTheResponderExceptOnADrill(t *testing.T) {
	for _, tc := range []struct {
		v     Verdict
		drill bool
		flags bool
	}{{NotJustified, false, true}, {NotJustified, true, false}, {Justified, false, false}, {Justified, true, false}} {
		if got := FlagsResponder(tc.v, tc.drill); got != tc.flags {
			t.Errorf("%s, drill %v: flags %v, want %v", tc.v, tc.drill, got, tc.flags)
		}
	}
}

func TestEscalationFiresWhenOverdueThenEverySLA(t *testing.T) {
	sla := 24 * time.Hour
	due := t0.Add(sla)
	if EscalationDue(due, time.Time{}, due.Add(-time.Second), sla) {
		t.Fatal("escalated before due")
	}
	if !EscalationDue(due, time.Time{}, due, sla) {
		t.Fatal("not escalated when due")
	}
	if EscalationDue(due, due, due.Add(time.Hour), sla) {
		t.Fatal("escalated twice within the SLA")
	}
	if !EscalationDue(due, due, due.Add(sla), sla) {
		t.Fatal("not escalated again a full SLA later")
	}
	if got := NextEscalation(due, time.Time{}, sla); !got.Equal(due) {
		t.Fatalf("first escalation at %v, want when due", got)
	}
	if got := NextEscalation(due, due.Add(time.Hour), sla); !got.Equal(due.Add(time.Hour + sla)) {
		t.Fatalf("next escalation at %v, want a full SLA after the last", got)
	}
}

func TestBreakGlassSettingsAndLimits(t *testing.T) {
	if err := CheckBreakGlassSetting(BreakGlass{Enabled: true, MaxDuration: 25 * time.Hour}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("25 h window: %v", err)
	}
	if err := CheckBreakGlassSetting(BreakGlass{Enabled: true, MaxDuration: DefaultBreakGlassWindow}); err != nil {
		t.Fatal(err)
	}
	err := CheckLimits(Limits{PerResponder: 2, PerTenant: 1, ReviewSLA: 30 * time.Minute})
	f := apperr.As(err).Fields
	if !strings.Contains(f["per_tenant"], "below") || f["review_sla_hours"] == "" {
		t.Fatalf("bad limits: %v", f)
	}
	if err := CheckLimits(DefaultLimits()); err != nil {
		t.Fatal(err)
	}
}
