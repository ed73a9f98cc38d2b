package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Every token Gatehouse mints on a tenant mount (a grant's, and the
// one-minute tokens of a reveal, a rotation or a catalog operation) is
// minted through that mount's token role, TokenRole(mount): an orphan,
// not renewable, service token that may carry grant policies only. Minting
// through a role needs no sudo, and Vault records the role in each token's
// path, so one call ends every token minted on a mount (RevokeMountTokens).

// TokenRole is the token role that mints tokens on mount.
func TokenRole(mount string) string { return "gatehouse-grants-" + mount }

// tokenRoleSettings are the role's whole configuration. Gatehouse's own
// policy (gatehouse-policy.hcl) allows exactly these parameters with exactly
// these values, so Gatehouse cannot make a role minting anything else.
func tokenRoleSettings() map[string]any {
	return map[string]any{
		"orphan":                  true,
		"renewable":               false,
		"token_type":              "service",
		"token_no_default_policy": true,
		"allowed_policies_glob":   []any{PolicyName("*")},
	}
}

// mountSweepTimeout bounds one RevokeMountTokens call (the HTTP client's
// own limit is a minute too): Vault revokes the mount's tokens one by one,
// 0.2–0.45 ms each here, so a minute covers over a hundred thousand;
// callers verify every token after anyway.
const mountSweepTimeout = time.Minute

// createToken creates a token through mount's role with api (c's client,
// or a clone that wraps the response), creating the role first when Vault
// does not know it yet (the mount's first token).
func (c *Client) createToken(ctx context.Context, api *vaultapi.Client, mount string, req *vaultapi.TokenCreateRequest) (*vaultapi.Secret, error) {
	if err := checkMount(mount); err != nil {
		return nil, err
	}
	sec, err := api.Auth().Token().CreateWithRoleWithContext(ctx, req, TokenRole(mount))
	if !isUnknownRole(err) {
		return sec, err
	}
	if err := c.writeTokenRole(ctx, mount); err != nil {
		return nil, err
	}
	return api.Auth().Token().CreateWithRoleWithContext(ctx, req, TokenRole(mount))
}

// writeTokenRole creates (or rewrites, harmlessly) mount's token role.
func (c *Client) writeTokenRole(ctx context.Context, mount string) error {
	if _, err := c.api.Logical().WriteWithContext(ctx, "auth/token/roles/"+TokenRole(mount), tokenRoleSettings()); err != nil {
		return fmt.Errorf("creating the token role of mount %s: %w", mount, err)
	}
	return nil
}

// RevokeMountTokens revokes every token minted on mount through its role,
// in one call that returns once Vault has revoked them all (or after
// mountSweepTimeout, with an error). Tokens minted otherwise are left
// alone, and so are other mounts' (Vault matches the role's path up to its
// final "/"): a caller relying on it still verifies each token dead.
func (c *Client) RevokeMountTokens(ctx context.Context, mount string) error {
	if err := checkMount(mount); err != nil {
		return err
	}
	api, err := c.api.Clone()
	if err != nil {
		return err
	}
	api.SetToken(c.api.Token())
	api.SetClientTimeout(mountSweepTimeout)
	api.SetMaxRetries(0)
	if _, err := api.Logical().WriteWithContext(ctx, "sys/leases/revoke-prefix/auth/token/create/"+TokenRole(mount)+"/", nil); err != nil {
		return fmt.Errorf("revoking the tokens of mount %s: %w", mount, err)
	}
	return nil
}

// checkMount refuses a mount name that is not plain: it ends up in a
// Vault path.
func checkMount(mount string) error {
	if !mountPattern.MatchString(mount) {
		return fmt.Errorf("%w: mount %q is not a plain mount name", errBadSpec, mount)
	}
	return nil
}

// isUnknownRole reports whether err is Vault saying the token role does
// not exist.
func isUnknownRole(err error) bool {
	var re *vaultapi.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusBadRequest &&
		strings.Contains(strings.Join(re.Errors, " "), "unknown role")
}
