package vault

import (
	"context"
	_ "embed"
	"fmt"

	vaultapi "github.com/hashicorp/vault/api"
)

// GatehousePolicy is the least-privilege Vault policy for Gatehouse's own
// token (gatehouse-policy.hcl): tenant mounts, per-grant policies, grant
// tokens, its IdP secrets — and no read of tenants' secret values.
//
//go:embed gatehouse-policy.hcl
var GatehousePolicy string

// GatehousePolicyName is the name the policy is installed under.
const GatehousePolicyName = "gatehouse"

// InstallGatehousePolicy writes GatehousePolicy (needs a token that may
// write policies, e.g. at installation) and returns a new periodic token
// holding only it, for Gatehouse to run with.
func (c *Client) InstallGatehousePolicy(ctx context.Context) (string, error) {
	if err := c.api.Sys().PutPolicyWithContext(ctx, GatehousePolicyName, GatehousePolicy); err != nil {
		return "", fmt.Errorf("installing the gatehouse policy: %w", err)
	}
	s, err := c.api.Auth().Token().CreateOrphanWithContext(ctx, &vaultapi.TokenCreateRequest{
		Policies: []string{GatehousePolicyName}, NoDefaultPolicy: true, Period: "24h", DisplayName: "gatehouse",
	})
	if err != nil {
		return "", fmt.Errorf("creating Gatehouse's token: %w", err)
	}
	return s.Auth.ClientToken, nil
}
