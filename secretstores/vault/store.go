package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/secretstores"
)

// KVStore is one tenant KV v2 mount as a secretstores.Store. Gatehouse's
// own Vault identity cannot read or write values, so each operation on
// values or metadata runs under a throwaway one-minute token whose policy
// covers exactly the paths of that operation, both deleted right after.
// A secret written here has one field, "value"; a secret with several
// fields reads as their JSON object.
type KVStore struct {
	c      *Client
	mount  string
	tenant string
}

// Store returns the KV v2 mount as a secretstores.Store for tenant.
func (c *Client) Store(mount, tenant string) *KVStore {
	return &KVStore{c: c, mount: strings.Trim(mount, "/"), tenant: tenant}
}

// Kind returns secretstores.VaultKV2.
func (s *KVStore) Kind() secretstores.Kind { return secretstores.VaultKV2 }

// Check returns nil when Vault answers and the mount is a KV v2 engine
// Gatehouse may list.
func (s *KVStore) Check(ctx context.Context) error {
	if err := s.c.Health(ctx); err != nil {
		return fmt.Errorf("%w: %v", secretstores.ErrUnavailable, err)
	}
	if _, err := s.c.ListKV2(ctx, s.mount, ""); err != nil {
		return s.fail("listing the mount", err)
	}
	return nil
}

func (s *KVStore) fail(doing string, err error) error {
	kind := secretstores.ErrUnavailable
	var re *vaultapi.ResponseError
	switch {
	case errors.Is(err, vaultapi.ErrSecretNotFound):
		kind = secretstores.ErrNotFound
	case errors.As(err, &re):
		switch {
		case re.StatusCode == http.StatusNotFound:
			kind = secretstores.ErrNotFound
		case re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized:
			kind = secretstores.ErrPermission
		case re.StatusCode == http.StatusBadRequest:
			kind = secretstores.ErrInvalid
		}
	}
	return fmt.Errorf("vault mount %s: %s: %w", s.mount, doing, kind)
}

func (s *KVStore) checkName(name string) error {
	if !pathPattern.MatchString(name) || strings.HasSuffix(name, "/") || strings.Contains(name, "..") {
		return fmt.Errorf("%w: %q is not a plain secret path", secretstores.ErrInvalid, name)
	}
	return nil
}

// as runs fn with a KV v2 client whose token may do caps on exactly the
// data path of name (and read its metadata).
func (s *KVStore) as(ctx context.Context, name string, caps []string, fn func(kv *vaultapi.KVv2) error) error {
	if err := s.checkName(name); err != nil {
		return err
	}
	q := `["` + strings.Join(caps, `", "`) + `"]`
	hcl := fmt.Sprintf("path %q {\n  capabilities = %s\n}\npath %q {\n  capabilities = [\"read\"]\n}\n", s.mount+"/data/"+name, q, s.mount+"/metadata/"+name)
	return s.withToken(ctx, hcl, "store-operation", func(api *vaultapi.Client) error { return fn(api.KVv2(s.mount)) })
}

// withToken runs fn with a client holding a one-minute token whose only
// policy is hcl; the policy and the token are deleted after.
func (s *KVStore) withToken(ctx context.Context, hcl, purpose string, fn func(api *vaultapi.Client) error) error {
	policy := PolicyName("op-" + uuid.NewString())
	if err := s.c.api.Sys().PutPolicyWithContext(ctx, policy, hcl); err != nil {
		return s.fail("writing the operation policy", err)
	}
	defer func() { _ = s.c.api.Sys().DeletePolicyWithContext(context.WithoutCancel(ctx), policy) }()
	f := false
	sec, err := s.c.createToken(ctx, s.c.api, s.mount, &vaultapi.TokenCreateRequest{
		Policies: []string{policy}, NoDefaultPolicy: true, Renewable: &f, TTL: "1m", NumUses: 6,
		DisplayName: "gatehouse-op", Metadata: map[string]string{"tenant": s.tenant, "purpose": purpose},
	})
	if err != nil {
		return s.fail("creating the operation token", err)
	}
	defer func() {
		_ = s.c.api.Auth().Token().RevokeAccessorWithContext(context.WithoutCancel(ctx), sec.Auth.Accessor)
	}()
	api, err := s.c.api.Clone()
	if err != nil {
		return err
	}
	api.SetToken(sec.Auth.ClientToken)
	return fn(api)
}

// List returns the secrets (not folders) in the folder of prefix whose
// names start with prefix, sorted. Names only: values are never read.
func (s *KVStore) List(ctx context.Context, prefix string) ([]secretstores.SecretMeta, error) {
	folder := prefix[:strings.LastIndex(prefix, "/")+1]
	keys, err := s.c.ListKV2(ctx, s.mount, folder)
	if err != nil {
		return nil, s.fail("listing "+folder, err)
	}
	var out []secretstores.SecretMeta
	for _, k := range keys {
		if name := folder + k; !strings.HasSuffix(k, "/") && strings.HasPrefix(name, prefix) {
			out = append(out, secretstores.SecretMeta{Name: name})
		}
	}
	slices.SortFunc(out, func(a, b secretstores.SecretMeta) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Describe returns the secret's metadata, or ErrNotFound.
func (s *KVStore) Describe(ctx context.Context, name string) (secretstores.SecretMeta, error) {
	var m secretstores.SecretMeta
	err := s.as(ctx, name, []string{"deny"}, func(kv *vaultapi.KVv2) error {
		md, err := kv.GetMetadata(ctx, name)
		if err != nil {
			return s.fail("describing "+name, err)
		}
		cur := md.Versions[strconv.Itoa(md.CurrentVersion)]
		if cur.Destroyed || !cur.DeletionTime.IsZero() {
			return fmt.Errorf("vault mount %s: %s is deleted: %w", s.mount, name, secretstores.ErrNotFound)
		}
		m = secretstores.SecretMeta{Name: name, CurrentVersion: strconv.Itoa(md.CurrentVersion), UpdatedAt: md.UpdatedTime}
		for k, v := range md.CustomMetadata {
			if m.Tags == nil {
				m.Tags = map[string]string{}
			}
			m.Tags[k] = fmt.Sprint(v)
		}
		m.Description = m.Tags["description"]
		return nil
	})
	return m, err
}

// Read returns the current value, or ErrNotFound.
func (s *KVStore) Read(ctx context.Context, name string) (string, error) {
	return s.read(ctx, name, 0)
}

// ReadVersion returns one version's value, or ErrNotFound.
func (s *KVStore) ReadVersion(ctx context.Context, name, version string) (string, error) {
	n, err := strconv.Atoi(version)
	if err != nil || n < 1 {
		return "", fmt.Errorf("vault mount %s: %s has no version %q: %w", s.mount, name, version, secretstores.ErrNotFound)
	}
	return s.read(ctx, name, n)
}

func (s *KVStore) read(ctx context.Context, name string, version int) (string, error) {
	var v string
	err := s.as(ctx, name, []string{"read"}, func(kv *vaultapi.KVv2) error {
		var sec *vaultapi.KVSecret
		var err error
		if version == 0 {
			sec, err = kv.Get(ctx, name)
		} else {
			sec, err = kv.GetVersion(ctx, name, version)
		}
		if err != nil {
			return s.fail("reading "+name, err)
		}
		if sec == nil || sec.Data == nil {
			return fmt.Errorf("vault mount %s: %s has no such version: %w", s.mount, name, secretstores.ErrNotFound)
		}
		v, err = flatten(sec.Data)
		return err
	})
	return v, err
}

// flatten returns the one "value" field, or the fields as a JSON object.
func flatten(data map[string]any) (string, error) {
	if s, ok := data["value"].(string); ok && len(data) == 1 {
		return s, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "", errors.New("the secret's fields cannot be encoded")
	}
	return string(b), nil
}

// Write stores value as a new version (field "value") and returns its
// number; earlier versions stay readable.
func (s *KVStore) Write(ctx context.Context, name, value string) (string, error) {
	var v string
	err := s.as(ctx, name, []string{"create", "update"}, func(kv *vaultapi.KVv2) error {
		sec, err := kv.Put(ctx, name, map[string]any{"value": value})
		if err != nil {
			return s.fail("writing "+name, err)
		}
		v = strconv.Itoa(sec.VersionMetadata.Version)
		return nil
	})
	return v, err
}

// Restore writes version's data again as the newest version (KV v2's
// rollback: it has no movable "current" label).
func (s *KVStore) Restore(ctx context.Context, name, version string) error {
	n, err := strconv.Atoi(version)
	if err != nil || n < 1 {
		return fmt.Errorf("vault mount %s: %s has no version %q: %w", s.mount, name, version, secretstores.ErrNotFound)
	}
	return s.as(ctx, name, []string{"read", "create", "update"}, func(kv *vaultapi.KVv2) error {
		if _, err := kv.Rollback(ctx, name, n); err != nil {
			return s.fail("restoring "+name, err)
		}
		return nil
	})
}

// Delete removes the secret with all its versions and metadata (KV v2
// metadata delete: not recoverable). A missing secret is not an error.
func (s *KVStore) Delete(ctx context.Context, name string) error {
	if err := s.checkName(name); err != nil {
		return err
	}
	hcl := fmt.Sprintf("path %q {\n  capabilities = [\"delete\"]\n}\n", s.mount+"/metadata/"+name)
	return s.withToken(ctx, hcl, "store-delete", func(api *vaultapi.Client) error {
		if err := api.KVv2(s.mount).DeleteMetadata(ctx, name); err != nil {
			return s.fail("deleting "+name, err)
		}
		return nil
	})
}
