package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/web"
)

// requestRoles are the roles a policy may name (platform operators never
// request or approve inside a tenant).
func requestRoles() []string {
	var out []string
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			out = append(out, string(r))
		}
	}
	return out
}

// policyForm shows p in the policy form.
func policyForm(p approvals.Policy) web.PolicyForm {
	f := web.PolicyForm{DefaultDuration: p.DefaultDuration.String(), MaxDuration: p.MaxDuration.String(),
		JustificationMin: strconv.Itoa(p.JustificationMin), TicketPattern: p.TicketPattern, PendingTimeout: p.PendingTimeout.String(),
		Step2Required: "0"}
	for _, r := range p.Requesters.Roles {
		f.RequesterRoles = append(f.RequesterRoles, string(r))
	}
	if len(p.Steps) > 0 {
		for _, r := range p.Steps[0].Approvers.Roles {
			f.ApproverRoles = append(f.ApproverRoles, string(r))
		}
		f.ApproverGroups, f.Required = strings.Join(p.Steps[0].Approvers.Groups, ", "), strconv.Itoa(p.Steps[0].Required)
	}
	if len(p.Steps) > 1 {
		f.Step2Groups, f.Step2Required = strings.Join(p.Steps[1].Approvers.Groups, ", "), strconv.Itoa(p.Steps[1].Required)
	}
	for _, l := range p.Levels {
		f.Levels = append(f.Levels, string(l))
	}
	return f
}

// defaultPolicy is what the add form starts from.
func defaultPolicy() approvals.Policy {
	return approvals.Policy{
		Requesters:      approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
		Steps:           []approvals.Step{{Name: "team", Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1}},
		DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, JustificationMin: 10, Levels: []approvals.Level{approvals.Read},
		PendingTimeout: 24 * time.Hour,
	}
}

// parsePolicy reads the policy form. Values that do not parse become field
// errors (under "policy.<field>", as Policy.Validate names them).
func parsePolicy(c echo.Context) (approvals.Policy, web.PolicyForm, error) {
	form, _ := c.FormParams()
	f := web.PolicyForm{RequesterRoles: form["requester_roles"], ApproverRoles: form["approver_roles"],
		ApproverGroups: c.FormValue("approver_groups"), Required: c.FormValue("required"), Step2Groups: c.FormValue("step2_groups"),
		Step2Required: c.FormValue("step2_required"), DefaultDuration: c.FormValue("default_duration"), MaxDuration: c.FormValue("max_duration"),
		JustificationMin: c.FormValue("justification_min"), TicketPattern: strings.TrimSpace(c.FormValue("ticket_pattern")),
		Levels: form["levels"], PendingTimeout: c.FormValue("pending_timeout")}
	errs := map[string]string{}
	dur := func(field, v string) time.Duration {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			errs["policy."+field] = "Write a duration like 30m, 8h or 720h."
		}
		return d
	}
	num := func(field, v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil && strings.TrimSpace(v) != "" {
			errs["policy."+field] = "Write a whole number."
		}
		return n
	}
	p := approvals.Policy{TicketPattern: f.TicketPattern,
		DefaultDuration: dur("default_duration", f.DefaultDuration), MaxDuration: dur("max_duration", f.MaxDuration),
		PendingTimeout: dur("pending_timeout", f.PendingTimeout), JustificationMin: num("justification_min", f.JustificationMin)}
	for _, r := range f.RequesterRoles {
		p.Requesters.Roles = append(p.Requesters.Roles, tenants.Role(r))
	}
	step := approvals.Step{Name: "team", Required: num("steps", f.Required), Approvers: approvals.Audience{Groups: splitList(f.ApproverGroups)}}
	for _, r := range f.ApproverRoles {
		step.Approvers.Roles = append(step.Approvers.Roles, tenants.Role(r))
	}
	p.Steps = []approvals.Step{step}
	if n := num("steps", f.Step2Required); n > 0 {
		p.Steps = append(p.Steps, approvals.Step{Name: "second", Required: n, Approvers: approvals.Audience{Groups: splitList(f.Step2Groups)}})
	}
	for _, l := range f.Levels {
		p.Levels = append(p.Levels, approvals.Level(l))
	}
	for _, r := range p.Requesters.Roles {
		if !r.Valid() || r == tenants.RolePlatformOperator {
			errs["policy.requesters"] = "Pick among the listed roles."
		}
	}
	if len(errs) > 0 {
		return p, f, apperr.InvalidFields("The policy needs correcting.", errs)
	}
	return p, f, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
