package authz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
)

// linesAdapter is an in-memory policy source with domain filtering, for
// testing the policy engine without a database (postgres' tests run the
// real adapter against PostgreSQL).
type linesAdapter struct {
	rules [][]string
	loads int
}

func newLinesAdapter(policy string) *linesAdapter {
	a := &linesAdapter{}
	for _, l := range strings.Split(policy, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			f := strings.Split(l, ",")
			for i := range f {
				f[i] = strings.TrimSpace(f[i])
			}
			a.rules = append(a.rules, f)
		}
	}
	return a
}

func (a *linesAdapter) LoadPolicy(m model.Model) error { return a.LoadFilteredPolicy(m, nil) }

func (a *linesAdapter) LoadFilteredPolicy(m model.Model, filter any) error {
	a.loads++
	domains, _ := filter.(Domains)
	for _, r := range a.rules {
		dom := r[2] // p, sub, dom, ...
		if strings.HasPrefix(r[0], "g") {
			dom = r[3] // g, sub, role, dom
		}
		if filter != nil && !slices.Contains(domains, dom) {
			continue
		}
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return err
		}
	}
	return nil
}

func (a *linesAdapter) IsFiltered() bool { return true }

func (a *linesAdapter) SavePolicy(model.Model) error { return fmt.Errorf("read-only") }

func (a *linesAdapter) AddPolicy(string, string, []string) error { return fmt.Errorf("read-only") }

func (a *linesAdapter) RemovePolicy(string, string, []string) error { return fmt.Errorf("read-only") }

func (a *linesAdapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return fmt.Errorf("read-only")
}
