package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// RotationID is the throwaway grant ID a rotation of grant grantID works under.
func RotationID(grantID string) string { return "rotate-" + grantID }

// NewSecretValue returns a random value: 32 bytes from crypto/rand,
// base64url without padding (43 characters).
func NewSecretValue() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RotateSecret writes a new version of the KV v2 secret at mount/path in
// which every key of the current version has a new random value (one key
// "value" when the secret is empty), check-and-set against the version
// read, and returns the new version number. Gatehouse's own policy cannot
// read values: it works through a one-minute token holding a throwaway
// policy for exactly that path (read, create, update), both deleted after.
// Values are never returned or logged.
func (c *Client) RotateSecret(ctx context.Context, grantID, tenant, mount, path string) (int, error) {
	if strings.HasSuffix(path, "/") {
		return 0, fmt.Errorf("%w: %s is a folder of secrets; rotate them one by one", errBadSpec, path)
	}
	g := GrantSpec{GrantID: RotationID(grantID), Tenant: tenant, Subject: "gatehouse-rotation", Mount: mount, Path: path, Write: true, TTL: time.Minute}
	if err := c.WriteGrantPolicy(ctx, g); err != nil {
		return 0, err
	}
	defer func() { _ = c.api.Sys().DeletePolicyWithContext(context.WithoutCancel(ctx), PolicyName(g.GrantID)) }()
	f := false
	sec, err := c.createToken(ctx, c.api, mount, &vaultapi.TokenCreateRequest{
		Policies: []string{PolicyName(g.GrantID)}, NoDefaultPolicy: true, Renewable: &f,
		TTL: "1m", NumUses: 3, DisplayName: "gatehouse-rotate-" + grantID,
		Metadata: map[string]string{"grant_id": grantID, "purpose": "rotation"},
	})
	if err != nil {
		return 0, fmt.Errorf("creating the rotation token: %w", err)
	}
	defer func() {
		_ = c.api.Auth().Token().RevokeAccessorWithContext(context.WithoutCancel(ctx), sec.Auth.Accessor)
	}()
	kv, err := c.api.Clone()
	if err != nil {
		return 0, err
	}
	kv.SetToken(sec.Auth.ClientToken)
	cur, err := kv.KVv2(mount).Get(ctx, path)
	if err != nil {
		return 0, fmt.Errorf("reading %s/%s to rotate it: %w", mount, path, err)
	}
	next := map[string]any{}
	for k := range cur.Data {
		next[k] = NewSecretValue()
	}
	if len(next) == 0 {
		next["value"] = NewSecretValue()
	}
	written, err := kv.KVv2(mount).Put(ctx, path, next, vaultapi.WithCheckAndSet(cur.VersionMetadata.Version))
	if err != nil {
		return 0, fmt.Errorf("writing the rotated %s/%s: %w", mount, path, err)
	}
	return written.VersionMetadata.Version, nil
}
