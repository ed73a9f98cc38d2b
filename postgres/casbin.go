package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// CasbinAdapter stores casbin policy rules in the casbin_rules table. It
// implements persist.FilteredAdapter, filtering by authz.Domains (no pgx v5
// adapter is published that resolves here, and the contract is small).
type CasbinAdapter struct {
	pool *pgxpool.Pool
}

var _ persist.FilteredAdapter = (*CasbinAdapter)(nil)

// NewCasbinAdapter returns an adapter over pool.
func NewCasbinAdapter(pool *pgxpool.Pool) *CasbinAdapter { return &CasbinAdapter{pool: pool} }

func ctx10s() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// LoadPolicy loads every rule into m.
func (a *CasbinAdapter) LoadPolicy(m model.Model) error {
	ctx, cancel := ctx10s()
	defer cancel()
	rows, err := db.New(a.pool).ListCasbinRules(ctx)
	if err != nil {
		return err
	}
	return loadRules(m, rows)
}

func loadRules(m model.Model, rows []db.CasbinRule) error {
	for _, r := range rows {
		if err := persist.LoadPolicyArray(trimRule(r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5), m); err != nil {
			return err
		}
	}
	return nil
}

// LoadFilteredPolicy loads into m the rules of the authz.Domains filter.
func (a *CasbinAdapter) LoadFilteredPolicy(m model.Model, filter any) error {
	domains, ok := filter.(authz.Domains)
	if !ok {
		return fmt.Errorf("casbin filter must be authz.Domains, not %T", filter)
	}
	ctx, cancel := ctx10s()
	defer cancel()
	rows, err := db.New(a.pool).ListCasbinRulesOfDomains(ctx, domains)
	if err != nil {
		return err
	}
	return loadRules(m, rows)
}

// IsFiltered reports true: enforcers load one tenant's rules at a time, so
// casbin must never SavePolicy from a partial model.
func (a *CasbinAdapter) IsFiltered() bool { return true }

// SavePolicy replaces every stored rule with m's, in one transaction.
func (a *CasbinAdapter) SavePolicy(m model.Model) error {
	ctx, cancel := ctx10s()
	defer cancel()
	return InTx(ctx, a.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.DeleteAllCasbinRules(ctx); err != nil {
			return err
		}
		for _, sec := range []string{"p", "g"} {
			for ptype, ast := range m[sec] {
				for _, rule := range ast.Policy {
					if err := q.InsertCasbinRule(ctx, ruleParams(ptype, rule)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// AddPolicy stores one rule.
func (a *CasbinAdapter) AddPolicy(_ string, ptype string, rule []string) error {
	ctx, cancel := ctx10s()
	defer cancel()
	return db.New(a.pool).InsertCasbinRule(ctx, ruleParams(ptype, rule))
}

// RemovePolicy deletes one rule.
func (a *CasbinAdapter) RemovePolicy(_ string, ptype string, rule []string) error {
	ctx, cancel := ctx10s()
	defer cancel()
	p := ruleParams(ptype, rule)
	return db.New(a.pool).DeleteCasbinRule(ctx, db.DeleteCasbinRuleParams(p))
}

// RemoveFilteredPolicy deletes the rules of ptype whose fields from
// fieldIndex on equal fieldValues (an empty value matches anything).
func (a *CasbinAdapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	ctx, cancel := ctx10s()
	defer cancel()
	return InTx(ctx, a.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.ListCasbinRules(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			fields := []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
			if r.Ptype != ptype || !matches(fields, fieldIndex, fieldValues) {
				continue
			}
			if err := q.DeleteCasbinRuleByID(ctx, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

func matches(fields []string, from int, values []string) bool {
	for i, v := range values {
		if v != "" && (from+i >= len(fields) || fields[from+i] != v) {
			return false
		}
	}
	return true
}

func ruleParams(ptype string, rule []string) db.InsertCasbinRuleParams {
	v := make([]string, 6)
	copy(v, rule)
	return db.InsertCasbinRuleParams{Ptype: ptype, V0: v[0], V1: v[1], V2: v[2], V3: v[3], V4: v[4], V5: v[5]}
}

// trimRule returns ptype and the values up to the last non-empty one.
func trimRule(ptype string, v ...string) []string {
	n := len(v)
	for n > 0 && v[n-1] == "" {
		n--
	}
	return append([]string{ptype}, v[:n]...)
}
