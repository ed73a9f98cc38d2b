// Package vault is Gatehouse's adapter for HashiCorp Vault: connecting with
// Gatehouse's own Vault identity, health checks, and the tenant KV v2 mounts
// that hold secrets. Values read here are returned to callers and never logged.
package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Client is Gatehouse's connection to one Vault server.
type Client struct {
	api *vaultapi.Client
}

// New returns a client for the Vault at addr using token. It checks nothing
// over the network; call Verify for that. It fails only on a malformed address.
func New(addr, token string) (*Client, error) {
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	cfg.Timeout = 10 * time.Second
	cfg.MaxRetries = 2
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault client config: %w", cfg.Error)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault address %q is not valid: %w", addr, err)
	}
	c.SetToken(token)
	// Never pick up VAULT_* settings from the environment implicitly: the
	// caller passes configuration explicitly.
	c.ClearNamespace()
	return &Client{api: c}, nil
}

// Verify checks that Vault is reachable, initialized and unsealed, that
// the token is valid, and that it may mint grant tokens through the token
// roles (a token with an outdated Gatehouse policy may not). Its errors say
// which of these failed, never the token.
func (c *Client) Verify(ctx context.Context) error {
	if err := c.Health(ctx); err != nil {
		return err
	}
	if _, err := c.api.Auth().Token().LookupSelfWithContext(ctx); err != nil {
		var re *vaultapi.ResponseError
		if errors.As(err, &re) && (re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized) {
			return fmt.Errorf("vault at %s rejected Gatehouse's token (permission denied): check GATEHOUSE_VAULT_TOKEN", c.api.Address())
		}
		return fmt.Errorf("vault at %s: looking up Gatehouse's token: %w", c.api.Address(), err)
	}
	caps, err := c.api.Sys().CapabilitiesSelfWithContext(ctx, "auth/token/create/"+TokenRole("tenant-check"))
	if err != nil {
		return fmt.Errorf("vault at %s: reading the capabilities of Gatehouse's token: %w", c.api.Address(), err)
	}
	if !slices.Contains(caps, "update") && !slices.Contains(caps, "root") {
		return fmt.Errorf("vault at %s: Gatehouse's token cannot mint grant tokens through its token roles: install the current gatehouse policy (secretstores/vault/gatehouse-policy.hcl)", c.api.Address())
	}
	return nil
}

// Health returns nil when Vault answers and is initialized and unsealed.
func (c *Client) Health(ctx context.Context) error {
	h, err := c.api.Sys().HealthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault at %s is not reachable: %w", c.api.Address(), err)
	}
	switch {
	case !h.Initialized:
		return fmt.Errorf("vault at %s is not initialized", c.api.Address())
	case h.Sealed:
		return fmt.Errorf("vault at %s is sealed", c.api.Address())
	}
	return nil
}

// EnsureKV2Mount mounts a KV version 2 engine at mount unless one is there
// already. It fails when another engine occupies the path or permission is denied.
func (c *Client) EnsureKV2Mount(ctx context.Context, mount, description string) error {
	mount = strings.Trim(mount, "/")
	mounts, err := c.api.Sys().ListMountsWithContext(ctx)
	var lre *vaultapi.ResponseError
	if errors.As(err, &lre) && lre.StatusCode == http.StatusForbidden {
		return fmt.Errorf("gatehouse's Vault identity lacks permission to list mounts (it needs read on sys/mounts)")
	}
	if err != nil {
		return fmt.Errorf("listing Vault mounts: %w", err)
	}
	if m, ok := mounts[mount+"/"]; ok {
		if m.Type != "kv" || m.Options["version"] != "2" {
			return fmt.Errorf("vault mount %q exists but is %s (version %q), not KV v2", mount, m.Type, m.Options["version"])
		}
		return nil
	}
	err = c.api.Sys().MountWithContext(ctx, mount, &vaultapi.MountInput{
		Type: "kv", Description: description, Options: map[string]string{"version": "2"},
	})
	var re *vaultapi.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
		return fmt.Errorf("gatehouse's Vault identity lacks permission to create the mount %q (it needs create/update on sys/mounts/%s)", mount, mount)
	}
	if err != nil {
		return fmt.Errorf("mounting KV v2 at %q: %w", mount, err)
	}
	return nil
}

// PutClientSecret stores secret as the "client_secret" field of the KV v2
// secret at ref ("mount/path"), as a new version.
func (c *Client) PutClientSecret(ctx context.Context, ref, secret string) error {
	mount, path, ok := strings.Cut(strings.Trim(ref, "/"), "/")
	if !ok || path == "" {
		return fmt.Errorf("secret reference %q is not mount/path", ref)
	}
	return c.PutKV2(ctx, mount, path, map[string]any{"client_secret": secret})
}

// PutKV2 writes data as a new version of the secret at path in the KV v2
// mount. The error never contains the data.
func (c *Client) PutKV2(ctx context.Context, mount, path string, data map[string]any) error {
	if _, err := c.api.KVv2(mount).Put(ctx, path, data); err != nil {
		return fmt.Errorf("writing secret %s/%s: %w", mount, path, err)
	}
	return nil
}

// DeleteKV2 deletes the secret at path in the KV v2 mount with every
// version and its metadata (a missing secret is no error).
func (c *Client) DeleteKV2(ctx context.Context, mount, path string) error {
	if err := c.api.KVv2(mount).DeleteMetadata(ctx, path); err != nil {
		return fmt.Errorf("deleting secret %s/%s: %w", mount, path, err)
	}
	return nil
}

// GetKV2 reads the latest version of the secret at path in the KV v2 mount.
// It returns an error when the secret does not exist or cannot be read.
func (c *Client) GetKV2(ctx context.Context, mount, path string) (map[string]any, error) {
	s, err := c.api.KVv2(mount).Get(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("reading secret %s/%s: %w", mount, path, err)
	}
	return s.Data, nil
}

// ReadClientSecret reads the "client_secret" field of the KV v2 secret at
// ref ("mount/path/to/secret"). The error never contains the value.
func (c *Client) ReadClientSecret(ctx context.Context, ref string) (string, error) {
	mount, path, ok := strings.Cut(strings.Trim(ref, "/"), "/")
	if !ok || path == "" {
		return "", fmt.Errorf("secret reference %q is not mount/path", ref)
	}
	data, err := c.GetKV2(ctx, mount, path)
	if err != nil {
		return "", err
	}
	v, ok := data["client_secret"].(string)
	if !ok || v == "" {
		return "", fmt.Errorf("secret %s has no client_secret field", ref)
	}
	return v, nil
}

// ListKV2 lists the key names directly under prefix in the KV v2 mount
// (metadata only: values are never read). Folder names end in "/". An
// empty or missing folder gives an empty list.
func (c *Client) ListKV2(ctx context.Context, mount, prefix string) ([]string, error) {
	s, err := c.api.Logical().ListWithContext(ctx, strings.Trim(mount, "/")+"/metadata/"+strings.TrimLeft(prefix, "/"))
	if err != nil {
		return nil, fmt.Errorf("listing %s/%s: %w", mount, prefix, err)
	}
	if s == nil {
		return nil, nil
	}
	raw, _ := s.Data["keys"].([]any)
	out := make([]string, 0, len(raw))
	for _, k := range raw {
		if str, ok := k.(string); ok {
			out = append(out, str)
		}
	}
	return out, nil
}
