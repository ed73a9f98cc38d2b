package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/web"
)

var errNoClass = apperr.New(apperr.NotFound, "There is no such classification: pick low, medium, high or critical.")

// classPolicy returns the tenant's policy for the :class classification,
// or apperr.NotFound.
func (s *Server) classPolicy(c echo.Context) (approvals.ClassPolicy, error) {
	cls := approvals.Classification(c.Param("class"))
	if !cls.Valid() {
		return approvals.ClassPolicy{}, errNoClass
	}
	all, err := s.deps.Requests.ClassPolicies(c.Request().Context(), currentSession(c).TenantID)
	if err != nil {
		return approvals.ClassPolicy{}, err
	}
	for _, cp := range all {
		if cp.Classification == cls {
			return cp, nil
		}
	}
	return approvals.ClassPolicy{}, errNoClass
}

func (s *Server) classPolicyPage(c echo.Context, cp approvals.ClassPolicy) web.ClassPolicyPage {
	return web.ClassPolicyPage{Page: s.page(c, "Policy for "+string(cp.Classification)+" resources"), Classification: string(cp.Classification),
		Set: cp.Set, Followers: cp.Followers, Roles: requestRoles()}
}

// classPolicyEditor shows the policy form of a classification: its policy,
// or the default one while it has none.
func (s *Server) classPolicyEditor(c echo.Context) error {
	cp, err := s.classPolicy(c)
	if err != nil {
		return err
	}
	m := s.classPolicyPage(c, cp)
	p := cp.Policy
	if !cp.Set {
		p = defaultPolicy()
	}
	m.Policy = policyForm(p)
	return render(c, http.StatusOK, web.ClassPolicyEditor(m))
}

// classPolicySave sets a classification's policy, and with it the policy
// of every resource following it; invalid input re-renders, nothing saved.
func (s *Server) classPolicySave(c echo.Context) error {
	cp, err := s.classPolicy(c)
	if err != nil {
		return err
	}
	sess := currentSession(c)
	policy, pf, err := parsePolicy(c)
	if err == nil {
		_, err = s.deps.Requests.SetClassPolicy(c.Request().Context(), sess.TenantID, cp.Classification, policy, sess.Actor(), meta(c))
	}
	if e := apperr.As(err); e != nil && e.Code == apperr.Invalid {
		m := s.classPolicyPage(c, cp)
		m.Policy, m.FieldErrors, m.FormError = pf, policyFields(e.Fields), e.Message
		return render(c, http.StatusBadRequest, web.ClassPolicyEditor(m))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/catalog")
}
