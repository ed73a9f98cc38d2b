package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gatehouse/gatehouse/secretstores"
)

// CloudStores opens tenants' cloud store bindings. The GrantVault given to
// Issue, End and the workers implements it too when Gatehouse is wired
// with cloud stores (app wiring does so); a grant on a cloud binding then
// goes to its store instead of Vault. Without it such a grant fails
// permanently with ErrNoCloudStores.
type CloudStores interface {
	// WithCloudStore runs fn with the tenant's binding opened, and closes
	// it after; another tenant's binding is not found.
	WithCloudStore(ctx context.Context, tenantID, bindingID string, fn func(secretstores.Store) error) error
}

// ErrNoCloudStores: a cloud grant reached workers wired without clouds.
var ErrNoCloudStores = fmt.Errorf("%w: this Gatehouse is not wired with cloud stores", secretstores.ErrInvalid)

// CloudSpec is the store-neutral spec of a cloud grant.
func (t GrantTarget) CloudSpec() secretstores.GrantSpec {
	return secretstores.GrantSpec{GrantID: t.RequestID, Tenant: t.TenantSlug, Subject: t.Subject, Name: t.Path, Write: t.Write, TTL: t.Duration}
}

func clouds(v GrantVault) (CloudStores, error) {
	if c, ok := v.(CloudStores); ok {
		return c, nil
	}
	return nil, ErrNoCloudStores
}

// prepareCloud readies a cloud grant: the store's native grant (AWS: the
// per-grant role) or, for a brokered store, a check that the secret exists.
func prepareCloud(ctx context.Context, v GrantVault, t GrantTarget) error {
	cs, err := clouds(v)
	if err != nil {
		return err
	}
	return cs.WithCloudStore(ctx, t.TenantID, t.BindingID, func(st secretstores.Store) error {
		if g, ok := st.(secretstores.Granter); ok {
			return g.PrepareGrant(ctx, t.CloudSpec())
		}
		_, err := st.Describe(ctx, t.Path)
		return err
	})
}

// endCloud revokes a cloud grant's native credentials and verifies them
// dead. A brokered grant has none: ending its record ends the access.
func endCloud(ctx context.Context, v GrantVault, t GrantTarget) error {
	cs, err := clouds(v)
	if err != nil {
		return err
	}
	return cs.WithCloudStore(ctx, t.TenantID, t.BindingID, func(st secretstores.Store) error {
		g, ok := st.(secretstores.Granter)
		if !ok {
			return nil
		}
		if err := g.RevokeGrant(ctx, t.RequestID); err != nil {
			return err
		}
		return g.VerifyGrantDead(ctx, t.RequestID)
	})
}

// rotate writes a new random value of t's secret and returns the version:
// a KV version number for Vault, the store's version ID for a cloud store
// (generated under secretstores.DefaultGenerator).
func rotate(ctx context.Context, v GrantVault, t GrantTarget) (string, error) {
	if t.BindingID == "" {
		n, err := v.RotateSecret(ctx, t.RequestID, t.TenantSlug, t.Mount, t.Path)
		return strconv.Itoa(n), err
	}
	cs, err := clouds(v)
	if err != nil {
		return "", err
	}
	var version string
	err = cs.WithCloudStore(ctx, t.TenantID, t.BindingID, func(st secretstores.Store) error {
		value, err := secretstores.DefaultGenerator.Generate()
		if err != nil {
			return err
		}
		version, err = st.Write(ctx, t.Path, value)
		return err
	})
	return version, err
}

// isPermanent reports whether retrying a store error cannot help.
func isPermanent(err error) bool {
	return secretstores.IsPermanent(err) || errors.Is(err, ErrNoCloudStores)
}
