package approvals

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
)

func catalogEntry() Resource {
	return Resource{ID: "7d0c3a4e-0000-4000-8000-000000000001", Name: "Orders DB", Description: "primary", OwnerTeam: "payments",
		Classification: Medium, Mount: "tenant-acme", Path: "db/orders", Policy: twoStepPolicy()}
}

func TestEditDetails(t *testing.T) {
	critical := twoStepPolicy()
	critical.MaxDuration = 2 * time.Hour
	same := ResourceDetails{Name: "Orders DB", Description: "primary", OwnerTeam: "payments", Classification: Medium}
	tests := []struct {
		name        string
		follows     bool // the resource follows its classification's policy
		edit        func(*ResourceDetails)
		classPolicy *Policy
		field       string   // the field error expected ("" for none)
		changed     []string // the fields reported changed
		wantPolicy  Policy   // the resource's policy after the edit
	}{
		{"nothing changed", false, func(*ResourceDetails) {}, nil, "", nil, twoStepPolicy()},
		{"every detail", false, func(d *ResourceDetails) {
			*d = ResourceDetails{Name: " Orders primary ", Description: "the main one", OwnerTeam: "ledger", Classification: High}
		}, nil, "", []string{"name", "description", "owner_team", "classification"}, twoStepPolicy()},
		{"own policy stays when the class changes", false, func(d *ResourceDetails) { d.Classification = Critical }, &critical, "",
			[]string{"classification"}, twoStepPolicy()},
		{"a follower takes the new class's policy", true, func(d *ResourceDetails) { d.Classification = Critical }, &critical, "",
			[]string{"classification"}, critical},
		{"a follower keeps its policy when its class stays", true, func(d *ResourceDetails) { d.Name = "Orders" }, &critical, "",
			[]string{"name"}, twoStepPolicy()},
		{"a follower cannot move to a class without a policy", true, func(d *ResourceDetails) { d.Classification = Critical }, nil,
			"classification", nil, twoStepPolicy()},
		{"empty name", false, func(d *ResourceDetails) { d.Name = "  " }, nil, "name", nil, twoStepPolicy()},
		{"long name", false, func(d *ResourceDetails) { d.Name = strings.Repeat("n", 101) }, nil, "name", nil, twoStepPolicy()},
		{"unknown classification", false, func(d *ResourceDetails) { d.Classification = "secret" }, nil, "classification", nil, twoStepPolicy()},
		{"long description", false, func(d *ResourceDetails) { d.Description = strings.Repeat("d", 501) }, nil, "description", nil, twoStepPolicy()},
		{"long owner team", false, func(d *ResourceDetails) { d.OwnerTeam = strings.Repeat("o", 101) }, nil, "owner_team", nil, twoStepPolicy()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := catalogEntry()
			r.PolicyFromClass = tc.follows
			d := same
			tc.edit(&d)
			got, changes, err := EditDetails(r, d, tc.classPolicy)
			if tc.field != "" {
				if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || e.Fields[tc.field] == "" {
					t.Fatalf("want a %s error, got %v", tc.field, err)
				}
				if !reflect.DeepEqual(got, r) || changes != nil {
					t.Fatalf("a refused edit returned a changed resource %+v, changes %v", got, changes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, c := range changes {
				fields = append(fields, c.Field)
			}
			if !reflect.DeepEqual(fields, tc.changed) {
				t.Fatalf("changed %v, want %v", fields, tc.changed)
			}
			if !reflect.DeepEqual(got.Policy, tc.wantPolicy) {
				t.Fatalf("policy after the edit %+v, want %+v", got.Policy, tc.wantPolicy)
			}
			if got.Mount != r.Mount || got.Path != r.Path || got.BindingID != r.BindingID || got.PolicyFromClass != r.PolicyFromClass {
				t.Fatalf("an edit of details moved the secret or its policy source: %+v", got)
			}
			if tc.name == "every detail" && (got.Name != "Orders primary" || changes[0].Old != "Orders DB" || changes[0].New != "Orders primary") {
				t.Fatalf("name %q, change %+v", got.Name, changes[0])
			}
		})
	}
}

func TestCheckRetire(t *testing.T) {
	retired := catalogEntry()
	retired.RetiredAt = time.Now()
	tests := []struct {
		name     string
		r        Resource
		confirm  string
		reason   string
		inUse    InUse
		code     apperr.Code
		field    string   // a field error expected
		mentions []string // what a conflict's message must name
	}{
		{"confirmed, nothing in use", catalogEntry(), "Orders DB", "decommissioned in Q3", InUse{}, "", "", nil},
		{"confirmation with spaces around", catalogEntry(), "  Orders DB ", "decommissioned", InUse{}, "", "", nil},
		{"wrong name typed", catalogEntry(), "orders db", "decommissioned", InUse{}, apperr.Invalid, "confirm", nil},
		{"nothing typed", catalogEntry(), "", "decommissioned", InUse{}, apperr.Invalid, "confirm", nil},
		{"no reason", catalogEntry(), "Orders DB", "  ", InUse{}, apperr.Invalid, "reason", nil},
		{"reason too long", catalogEntry(), "Orders DB", strings.Repeat("r", 501), InUse{}, apperr.Invalid, "reason", nil},
		{"bad confirmation is reported before what is in use", catalogEntry(), "x", "decommissioned", InUse{Grants: 1}, apperr.Invalid, "confirm", nil},
		{"open requests", catalogEntry(), "Orders DB", "decommissioned", InUse{Requests: 2}, apperr.Conflict, "",
			[]string{"2 open requests", "deny"}},
		{"an active grant", catalogEntry(), "Orders DB", "decommissioned", InUse{Grants: 1}, apperr.Conflict, "",
			[]string{"1 active grant", "Revocations", "resource:" + catalogEntry().ID}},
		{"a live share", catalogEntry(), "Orders DB", "decommissioned", InUse{Shares: 1}, apperr.Conflict, "",
			[]string{"1 live share", "end the shares"}},
		{"a rotation schedule", catalogEntry(), "Orders DB", "decommissioned", InUse{Rotation: true}, apperr.Conflict, "",
			[]string{"a rotation schedule", "stop its scheduled rotation"}},
		{"a replica", catalogEntry(), "Orders DB", "decommissioned", InUse{Replicas: 1}, apperr.Conflict, "",
			[]string{"1 replica", "purge its replicas"}},
		{"everything in use", catalogEntry(), "Orders DB", "decommissioned", InUse{Requests: 1, Grants: 3, Shares: 2, Rotation: true, Replicas: 2}, apperr.Conflict, "",
			[]string{"1 open request", "3 active grants", "2 live shares", "a rotation schedule", "2 replicas"}},
		{"retired already", retired, "Orders DB", "decommissioned", InUse{}, apperr.Conflict, "", []string{"retired already"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRetire(tc.r, tc.confirm, tc.reason, tc.inUse)
			if apperr.CodeOf(err) != tc.code {
				t.Fatalf("got %v, want code %q", err, tc.code)
			}
			if tc.field != "" && apperr.As(err).Fields[tc.field] == "" {
				t.Fatalf("no %s error in %v", tc.field, apperr.As(err).Fields)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(apperr.As(err).Message, m) {
					t.Errorf("the message %q does not mention %q", apperr.As(err).Message, m)
				}
			}
		})
	}
}

func TestCheckRestore(t *testing.T) {
	retired := catalogEntry()
	retired.RetiredAt = time.Now()
	tests := []struct {
		name   string
		r      Resource
		reason string
		code   apperr.Code
	}{
		{"a retired resource, with a reason", retired, "the migration was rolled back", ""},
		{"no reason", retired, "   ", apperr.Invalid},
		{"a reason too short", retired, "oops", apperr.Invalid},
		{"a reason too long", retired, strings.Repeat("r", 501), apperr.Invalid},
		{"a resource in the catalog", catalogEntry(), "the migration was rolled back", apperr.Conflict},
		{"a bad reason is reported first", catalogEntry(), "", apperr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRestore(tc.r, tc.reason)
			if apperr.CodeOf(err) != tc.code {
				t.Fatalf("got %v, want code %q", err, tc.code)
			}
			if tc.code == apperr.Invalid && apperr.As(err).Fields["reason"] == "" {
				t.Fatalf("no reason error in %v", err)
			}
		})
	}
}

func TestCheckResourceSharesTheDetailRules(t *testing.T) {
	r := catalogEntry()
	r.Description = strings.Repeat("d", 501)
	r.Classification = "secret"
	e := apperr.As(CheckResource(r))
	if e == nil || e.Fields["description"] == "" || e.Fields["classification"] == "" {
		t.Fatalf("adding checks details as editing does: %v", e)
	}
}
