// Package stores binds tenants' cloud secret stores and opens them: it
// validates a binding, keeps its credentials in Vault (PostgreSQL holds
// only the settings and a reference), tests the connection, and opens the
// right adapter (AWS Secrets Manager, Azure Key Vault, GCP Secret Manager)
// for the grant workers, reveals and rotations. Endpoints of emulators
// come from server configuration, never from a tenant's input.
package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/tenants"
)

// Bindings is the binding store (postgres.BindingStore).
type Bindings interface {
	Add(ctx context.Context, b tenants.CloudBinding, actor string, meta audit.Meta) error
	List(ctx context.Context, tenantID string) ([]tenants.CloudBinding, error)
	Get(ctx context.Context, tenantID, id string) (tenants.CloudBinding, error)
	RecordCheck(ctx context.Context, tenantID, id, checkErr, actor string, meta audit.Meta) error
}

// Secrets keeps binding credentials in Gatehouse's own Vault mount.
type Secrets interface {
	PutKV2(ctx context.Context, mount, path string, data map[string]any) error
	GetKV2(ctx context.Context, mount, path string) (map[string]any, error)
}

// Opener builds the adapter of one binding from its settings and
// credentials (see adapters.go).
type Opener func(ctx context.Context, b tenants.CloudBinding, c tenants.StoreCredentials) (secretstores.Store, error)

// Service binds and opens cloud stores.
type Service struct {
	Bindings Bindings
	Secrets  Secrets
	Open     Opener
	Audit    audit.Recorder // rotations are audited here (Rotate refuses without it)
	Replicas Replicas       // replicas and rotation schedules
	Queue    SyncQueue      // durable sync jobs
}

// Bind validates b and its credentials, stores the credentials in Vault and
// the binding in PostgreSQL (audited), then tests the connection and
// records the outcome. It returns the binding's ID and the test's error
// ("" when it passed); invalid input is apperr.Invalid with field errors
// and changes nothing.
func (s *Service) Bind(ctx context.Context, b tenants.CloudBinding, c tenants.StoreCredentials, actor string, meta audit.Meta) (string, string, error) {
	b.Name = strings.TrimSpace(b.Name)
	if err := tenants.CheckCloudBinding(b, c, true); err != nil {
		return "", "", err
	}
	b.ID = uuid.NewString()
	b.CredentialRef = tenants.CredentialRef(b.ID)
	mount, path, _ := strings.Cut(b.CredentialRef, "/")
	var raw map[string]any
	j, _ := json.Marshal(c) // a struct of strings: cannot fail
	_ = json.Unmarshal(j, &raw)
	if err := s.Secrets.PutKV2(ctx, mount, path, raw); err != nil {
		return "", "", apperr.Wrap(apperr.Unavailable, "Vault could not keep the binding's credentials right now; nothing was saved.", err)
	}
	if err := s.Bindings.Add(ctx, b, actor, meta); err != nil {
		return "", "", err
	}
	checkErr, err := s.Test(ctx, b.TenantID, b.ID, actor, meta)
	return b.ID, checkErr, err
}

// Test opens the binding and checks the connection, records the outcome
// (audited) and returns the check's error message ("" when it passed).
// A binding of another tenant is apperr.NotFound.
func (s *Service) Test(ctx context.Context, tenantID, id, actor string, meta audit.Meta) (string, error) {
	checkErr := ""
	err := s.WithCloudStore(ctx, tenantID, id, func(st secretstores.Store) error { return st.Check(ctx) })
	if apperr.CodeOf(err) == apperr.NotFound && !errors.Is(err, secretstores.ErrNotFound) {
		return "", err
	}
	if err != nil {
		checkErr = err.Error()
	}
	return checkErr, s.Bindings.RecordCheck(ctx, tenantID, id, checkErr, actor, meta)
}

// WithCloudStore opens the tenant's binding id, runs fn with it and closes
// it. A binding of another tenant is apperr.NotFound; credentials Vault
// cannot give are apperr.Unavailable. (jobs.CloudStores)
func (s *Service) WithCloudStore(ctx context.Context, tenantID, id string, fn func(secretstores.Store) error) error {
	b, err := s.Bindings.Get(ctx, tenantID, id)
	if err != nil {
		return err
	}
	mount, path, _ := strings.Cut(b.CredentialRef, "/")
	raw, err := s.Secrets.GetKV2(ctx, mount, path)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "Vault could not give the binding's credentials right now.", err)
	}
	var c tenants.StoreCredentials
	j, _ := json.Marshal(raw)
	if err := json.Unmarshal(j, &c); err != nil {
		return fmt.Errorf("binding %s: its credentials in Vault are not readable", id)
	}
	st, err := s.Open(ctx, b, c)
	if err != nil {
		return err
	}
	if cl, ok := st.(io.Closer); ok {
		defer cl.Close()
	}
	return fn(st)
}

// Browse lists the binding's secrets under prefix (metadata only).
func (s *Service) Browse(ctx context.Context, tenantID, id, prefix string) ([]secretstores.SecretMeta, error) {
	var out []secretstores.SecretMeta
	err := s.WithCloudStore(ctx, tenantID, id, func(st secretstores.Store) error {
		var err error
		out, err = st.List(ctx, prefix)
		return err
	})
	return out, err
}
