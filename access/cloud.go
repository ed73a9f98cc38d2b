package access

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/secretstores"
)

// Grants on cloud store resources. Every cloud grant can be revealed:
// Gatehouse reads the value with its own identity in the binding, only
// while the grant is active and not blocked, and hands it to the holder
// once (brokered access). Stores that mint native credentials (AWS: STS
// sessions) also give the holder credentials of their own.

// clouds returns the service's cloud stores.
func (s *Service) clouds() (jobs.CloudStores, error) {
	if c, ok := s.Vault.(jobs.CloudStores); ok {
		return c, nil
	}
	return nil, apperr.New(apperr.Unavailable, "This Gatehouse is not connected to cloud secret stores.")
}

// storeError is a cloud store's error as the holder should see it.
func storeError(err error) error {
	switch {
	case errors.Is(err, secretstores.ErrNotFound):
		return apperr.Wrap(apperr.NotFound, "The secret is no longer in its store.", err)
	case errors.Is(err, secretstores.ErrPermission):
		return apperr.Wrap(apperr.Unavailable, "The store refused Gatehouse's access: ask a tenant admin to test the store binding.", err)
	case errors.Is(err, secretstores.ErrBrokered):
		return apperr.Wrap(apperr.Conflict, "This grant is too short for the store's own credentials: use Reveal.", err)
	case errors.Is(err, secretstores.ErrInvalid):
		return apperr.Wrap(apperr.Invalid, "The store cannot do that for this secret.", err)
	}
	return apperr.Wrap(apperr.Unavailable, "The secret store could not be reached right now. Try again in a moment.", err)
}

// revealCloud reads a cloud grant's secret with Gatehouse's identity. A
// JSON object of strings comes back as its fields, anything else as one
// "value" field.
func (s *Service) revealCloud(ctx context.Context, d approvals.Detail) (map[string]any, error) {
	cs, err := s.clouds()
	if err != nil {
		return nil, err
	}
	var v string
	err = cs.WithCloudStore(ctx, d.TenantID, d.BindingID, func(st secretstores.Store) error {
		v, err = st.Read(ctx, d.Path)
		return err
	})
	if err != nil {
		return nil, storeError(err)
	}
	var fields map[string]string
	if json.Unmarshal([]byte(v), &fields) == nil && len(fields) > 0 {
		out := make(map[string]any, len(fields))
		for k, x := range fields {
			out[k] = x
		}
		return out, nil
	}
	return map[string]any{"value": v}, nil
}

// TakeCredential mints the store's own credential for the holder's active
// cloud grant, living until the grant ends (as the store allows), shown
// once and not kept: Gatehouse records only its reference. Brokered stores
// answer apperr.Invalid (use Reveal).
func (s *Service) TakeCredential(ctx context.Context, h Holder, requestID string, meta audit.Meta) (secretstores.Credential, error) {
	d, err := s.activeGrant(ctx, h, requestID)
	if err != nil {
		return secretstores.Credential{}, err
	}
	if d.BindingID == "" {
		return secretstores.Credential{}, apperr.New(apperr.Invalid, "This grant is on a Vault secret: take a Vault token instead.")
	}
	if err := s.Store.CheckNotBlocked(ctx, d); err != nil {
		return secretstores.Credential{}, err
	}
	cs, err := s.clouds()
	if err != nil {
		return secretstores.Credential{}, err
	}
	var cred secretstores.Credential
	err = cs.WithCloudStore(ctx, d.TenantID, d.BindingID, func(st secretstores.Store) error {
		g, ok := st.(secretstores.Granter)
		if !ok {
			return apperr.New(apperr.Invalid, "Access to this store is brokered by Gatehouse: use Reveal.")
		}
		cred, err = g.MintCredential(ctx, secretstores.GrantSpec{GrantID: d.ID, Tenant: h.TenantSlug, Subject: h.Person.Subject,
			Name: d.Path, Write: d.Level == approvals.ReadWrite, TTL: d.Duration}, d.ExpiresAt)
		return err
	})
	if apperr.As(err) != nil {
		return cred, err
	}
	if err != nil {
		return cred, storeError(err)
	}
	if _, _, err := s.Store.HandOverToken(ctx, h.TenantID, requestID, h.Person.Subject, cred.Ref, meta); err != nil {
		return secretstores.Credential{}, err
	}
	return cred, nil
}
