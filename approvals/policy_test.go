package approvals

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

func twoStepPolicy() Policy {
	return Policy{
		Requesters: Audience{Roles: []tenants.Role{tenants.RoleRequester}},
		Steps: []Step{
			{Name: "team", Approvers: Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 2},
			{Name: "security", Approvers: Audience{Groups: []string{"security"}}, Required: 1},
		},
		DefaultDuration: time.Hour, MaxDuration: 4 * time.Hour, JustificationMin: 10,
		TicketPattern: `INC-[0-9]+`, Levels: []Level{Read}, PendingTimeout: 24 * time.Hour,
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Policy)
		field string
	}{
		{"valid", func(*Policy) {}, ""},
		{"nobody may request", func(p *Policy) { p.Requesters = Audience{} }, "requesters"},
		{"no steps", func(p *Policy) { p.Steps = nil }, "steps"},
		{"zero required", func(p *Policy) { p.Steps[0].Required = 0 }, "steps"},
		{"step without approvers", func(p *Policy) { p.Steps[1].Approvers = Audience{} }, "steps"},
		{"max over 30 days", func(p *Policy) { p.MaxDuration = 31 * 24 * time.Hour }, "max_duration"},
		{"max under a minute", func(p *Policy) { p.MaxDuration = time.Second }, "max_duration"},
		{"default over max", func(p *Policy) { p.DefaultDuration = 5 * time.Hour }, "default_duration"},
		{"bad regex", func(p *Policy) { p.TicketPattern = "INC-(" }, "ticket_pattern"},
		{"no levels", func(p *Policy) { p.Levels = nil }, "levels"},
		{"unknown level", func(p *Policy) { p.Levels = []Level{"admin"} }, "levels"},
		{"no pending timeout", func(p *Policy) { p.PendingTimeout = 0 }, "pending_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := twoStepPolicy()
			tc.edit(&p)
			err := p.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if e := apperr.As(err); e == nil || e.Fields[tc.field] == "" {
				t.Fatalf("want a %s error, got %v", tc.field, err)
			}
		})
	}
}

func TestCheckSubmission(t *testing.T) {
	requester := Person{Subject: "r", Roles: []tenants.Role{tenants.RoleRequester}}
	good := Submission{Level: Read, Justification: "debugging INC-7 outage", Ticket: "INC-7"}
	tests := []struct {
		name    string
		who     Person
		edit    func(*Submission)
		field   string
		code    apperr.Code
		wantDur time.Duration
	}{
		{"default duration", requester, func(*Submission) {}, "", "", time.Hour},
		{"explicit duration", requester, func(s *Submission) { s.Duration = 2 * time.Hour }, "", "", 2 * time.Hour},
		{"at the maximum", requester, func(s *Submission) { s.Duration = 4 * time.Hour }, "", "", 4 * time.Hour},
		{"over the maximum", requester, func(s *Submission) { s.Duration = 5 * time.Hour }, "duration", apperr.Invalid, 0},
		{"under a minute", requester, func(s *Submission) { s.Duration = time.Second }, "duration", apperr.Invalid, 0},
		{"level not allowed", requester, func(s *Submission) { s.Level = ReadWrite }, "level", apperr.Invalid, 0},
		{"short justification", requester, func(s *Submission) { s.Justification = "  because  " }, "justification", apperr.Invalid, 0},
		{"missing ticket", requester, func(s *Submission) { s.Ticket = "" }, "ticket", apperr.Invalid, 0},
		{"ticket must match whole", requester, func(s *Submission) { s.Ticket = "see INC-7" }, "ticket", apperr.Invalid, 0},
		{"not a requester", Person{Subject: "a", Roles: []tenants.Role{tenants.RoleApprover}}, func(*Submission) {}, "", apperr.Forbidden, 0},
		{"requester by group", Person{Subject: "g", Groups: []string{"contractors"}}, func(*Submission) {}, "", apperr.Forbidden, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.edit(&s)
			d, err := twoStepPolicy().CheckSubmission(tc.who, s)
			if tc.code == "" {
				if err != nil || d != tc.wantDur {
					t.Fatalf("got %s, %v; want %s", d, err, tc.wantDur)
				}
				return
			}
			e := apperr.As(err)
			if e == nil || e.Code != tc.code || (tc.field != "" && e.Fields[tc.field] == "") {
				t.Fatalf("want %s on %q, got %v", tc.code, tc.field, err)
			}
		})
	}
}
