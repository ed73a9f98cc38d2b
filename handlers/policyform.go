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
	for _, r := range tenants.Roles() {
		if r != tenants.RolePlatformOperator {
			out = append(out, string(r))
		}
	}
	return out
}

// policyForm shows p in the policy form: its steps, then blank ones up to
// approvals.MaxSteps to add a step.
func policyForm(p approvals.Policy) web.PolicyForm {
	f := web.PolicyForm{RequesterRoles: roleNames(p.Requesters.Roles), RequesterGroups: strings.Join(p.Requesters.Groups, ", "),
		DefaultDuration: p.DefaultDuration.String(), MaxDuration: p.MaxDuration.String(),
		JustificationMin: strconv.Itoa(p.JustificationMin), TicketPattern: p.TicketPattern, PendingTimeout: p.PendingTimeout.String()}
	for _, st := range p.Steps {
		f.Steps = append(f.Steps, web.StepForm{Name: st.Name, Roles: roleNames(st.Approvers.Roles),
			Groups: strings.Join(st.Approvers.Groups, ", "), Required: strconv.Itoa(st.Required)})
	}
	for len(f.Steps) < approvals.MaxSteps {
		f.Steps = append(f.Steps, web.StepForm{})
	}
	for _, l := range p.Levels {
		f.Levels = append(f.Levels, string(l))
	}
	return f
}

func roleNames(rs []tenants.Role) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, string(r))
	}
	return out
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

// parsePolicy reads the policy form: who may request (roles and IdP
// groups), up to approvals.MaxSteps approval steps (stepN_name,
// stepN_roles, stepN_groups, stepN_required; a blank step is skipped) and
// the bounds. Values that do not parse become field errors (under
// "policy.<field>", as Policy.Validate names them).
func parsePolicy(c echo.Context) (approvals.Policy, web.PolicyForm, error) {
	form, _ := c.FormParams()
	f := web.PolicyForm{RequesterRoles: form["requester_roles"], RequesterGroups: c.FormValue("requester_groups"),
		DefaultDuration: c.FormValue("default_duration"), MaxDuration: c.FormValue("max_duration"),
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
	roles := func(field string, names []string) []tenants.Role {
		var out []tenants.Role
		for _, n := range names {
			r := tenants.Role(n)
			if !r.Valid() || r == tenants.RolePlatformOperator {
				errs["policy."+field] = "Pick among the listed roles."
			}
			out = append(out, r)
		}
		return out
	}
	p := approvals.Policy{TicketPattern: f.TicketPattern,
		Requesters:      approvals.Audience{Roles: roles("requesters", f.RequesterRoles), Groups: splitList(f.RequesterGroups)},
		DefaultDuration: dur("default_duration", f.DefaultDuration), MaxDuration: dur("max_duration", f.MaxDuration),
		PendingTimeout: dur("pending_timeout", f.PendingTimeout), JustificationMin: num("justification_min", f.JustificationMin)}
	for i := 1; i <= approvals.MaxSteps; i++ {
		key := "step" + strconv.Itoa(i) + "_"
		sf := web.StepForm{Name: strings.TrimSpace(c.FormValue(key + "name")), Roles: form[key+"roles"],
			Groups: c.FormValue(key + "groups"), Required: strings.TrimSpace(c.FormValue(key + "required"))}
		f.Steps = append(f.Steps, sf)
		if sf.Blank() {
			continue
		}
		st := approvals.Step{Name: sf.Name, Required: num("steps", sf.Required),
			Approvers: approvals.Audience{Roles: roles("steps", sf.Roles), Groups: splitList(sf.Groups)}}
		if st.Name == "" {
			st.Name = "step " + strconv.Itoa(len(p.Steps)+1)
		}
		p.Steps = append(p.Steps, st)
	}
	for _, l := range f.Levels {
		p.Levels = append(p.Levels, approvals.Level(l))
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
