package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// GrantSpec is what one grant's credential is minted for.
type GrantSpec struct {
	GrantID string        // names the policy: gatehouse-grant-<id>
	Tenant  string        // token metadata
	Subject string        // token metadata: who holds the grant
	Mount   string        // the tenant's KV v2 mount
	Path    string        // a secret inside the mount, or a prefix ending in "/"
	Write   bool          // read-write instead of read
	TTL     time.Duration // the approved duration
}

// Issued is a minted grant credential as Gatehouse keeps it: the token's
// accessor (to revoke and verify), never the token. WrappingToken is the
// single-use wrapping token for the holder, shown once and not stored.
type Issued struct {
	Accessor      string
	WrappingToken string
	WrapTTL       time.Duration
	ExpiresAt     time.Time
}

var (
	mountPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,62}$`)
	pathPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*/?$`)
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

// PolicyName is the Vault ACL policy of a grant.
func PolicyName(grantID string) string { return "gatehouse-grant-" + grantID }

// errBadSpec marks a spec that can never be minted.
var errBadSpec = errors.New("invalid grant")

// check validates the spec; mount, path and ID end up inside an HCL policy,
// so only plain names pass.
func (g GrantSpec) check() error {
	switch {
	case !idPattern.MatchString(g.GrantID):
		return fmt.Errorf("%w: id %q is not a plain identifier", errBadSpec, g.GrantID)
	case !mountPattern.MatchString(g.Mount):
		return fmt.Errorf("%w: mount %q is not a plain mount name", errBadSpec, g.Mount)
	case !pathPattern.MatchString(g.Path) || strings.Contains(g.Path, ".."):
		return fmt.Errorf("%w: secret path %q is not a plain path inside the mount", errBadSpec, g.Path)
	case g.TTL < time.Minute:
		return fmt.Errorf("%w: duration %s is under a minute", errBadSpec, g.TTL)
	}
	return nil
}

// IsPermanent reports whether err will not go away by retrying: an invalid
// grant, or Vault refusing the request (4xx other than 429). Unreachable
// Vault, 5xx and 429 are transient.
func IsPermanent(err error) bool {
	if errors.Is(err, errBadSpec) {
		return true
	}
	var re *vaultapi.ResponseError
	return errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests
}

// Refusal says in plain words why Vault refused a grant for good (err as
// IsPermanent reports it): the status and Vault's own reasons, never the
// request's URL or Vault's address. It is "" for any other error.
func Refusal(err error) string {
	if errors.Is(err, errBadSpec) {
		return err.Error()
	}
	var re *vaultapi.ResponseError
	if !errors.As(err, &re) {
		return ""
	}
	var reasons []string
	for _, e := range re.Errors {
		for line := range strings.Lines(e) {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
			if line != "" && !strings.HasSuffix(line, "occurred:") {
				reasons = append(reasons, strings.TrimSpace(line))
			}
		}
	}
	out := "HTTP " + strconv.Itoa(re.StatusCode)
	if len(reasons) > 0 {
		out += ": " + strings.Join(reasons, "; ")
	}
	return out
}

// policy returns the HCL granting exactly the approved capabilities on
// exactly the grant's path (or prefix) of the KV v2 mount: no listing, no
// metadata, nothing else in the mount or outside it.
func (g GrantSpec) policy() string {
	target := g.Mount + "/data/" + g.Path
	if strings.HasSuffix(g.Path, "/") {
		target += "*"
	}
	caps := `["read"]`
	if g.Write {
		caps = `["read", "create", "update"]`
	}
	return fmt.Sprintf("# Gatehouse grant %s for %s in %s\npath %q {\n  capabilities = %s\n}\n", g.GrantID, g.Subject, g.Tenant, target, caps)
}

// IssueGrant writes the grant's policy and mints its token (WriteGrantPolicy
// then MintGrantToken).
func (c *Client) IssueGrant(ctx context.Context, g GrantSpec, wrapTTL time.Duration) (Issued, error) {
	if err := c.WriteGrantPolicy(ctx, g); err != nil {
		return Issued{}, err
	}
	return c.MintGrantToken(ctx, g, wrapTTL)
}

// WriteGrantPolicy writes the grant's ACL policy: exactly the approved
// capabilities on exactly the grant's path. Writing it again is harmless.
func (c *Client) WriteGrantPolicy(ctx context.Context, g GrantSpec) error {
	if err := g.check(); err != nil {
		return err
	}
	if err := c.api.Sys().PutPolicyWithContext(ctx, PolicyName(g.GrantID), g.policy()); err != nil {
		return fmt.Errorf("writing the grant policy: %w", err)
	}
	return nil
}

// MintGrantToken creates an orphan token holding only the grant's policy,
// through the mount's token role (see TokenRole), not renewable, living
// exactly g.TTL, response-wrapped for wrapTTL (at most 10 minutes) so
// Gatehouse never sees the token itself.
func (c *Client) MintGrantToken(ctx context.Context, g GrantSpec, wrapTTL time.Duration) (Issued, error) {
	if err := g.check(); err != nil {
		return Issued{}, err
	}
	if wrapTTL <= 0 || wrapTTL > 10*time.Minute {
		return Issued{}, fmt.Errorf("wrap TTL %s must be between 0 and 10 minutes", wrapTTL)
	}
	wrapped, err := c.api.Clone()
	if err != nil {
		return Issued{}, err
	}
	wrapped.SetToken(c.api.Token())
	wrapped.SetWrappingLookupFunc(func(string, string) string { return wrapTTL.String() })
	f := false
	sec, err := c.createToken(ctx, wrapped, g.Mount, &vaultapi.TokenCreateRequest{
		Policies: []string{PolicyName(g.GrantID)}, NoDefaultPolicy: true, Renewable: &f,
		TTL: g.TTL.String(), ExplicitMaxTTL: g.TTL.String(), DisplayName: "gatehouse-grant-" + g.GrantID,
		Metadata: map[string]string{"grant_id": g.GrantID, "tenant": g.Tenant, "subject": g.Subject},
	})
	if err != nil {
		return Issued{}, fmt.Errorf("creating the grant token: %w", err)
	}
	if sec == nil || sec.WrapInfo == nil || sec.WrapInfo.WrappedAccessor == "" {
		return Issued{}, errors.New("vault returned no wrapped token")
	}
	return Issued{
		Accessor: sec.WrapInfo.WrappedAccessor, WrappingToken: sec.WrapInfo.Token,
		WrapTTL: time.Duration(sec.WrapInfo.TTL) * time.Second, ExpiresAt: time.Now().Add(g.TTL),
	}, nil
}

// RevealWithGrant reads the grant's secret with a token confined to the
// grant's own policy: a single-use token is minted for the read and revoked
// right after, so Gatehouse holds no grant token between reveals. The
// value is returned to the caller only.
func (c *Client) RevealWithGrant(ctx context.Context, g GrantSpec, path string) (map[string]any, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	f := false
	sec, err := c.createToken(ctx, c.api, g.Mount, &vaultapi.TokenCreateRequest{
		Policies: []string{PolicyName(g.GrantID)}, NoDefaultPolicy: true, Renewable: &f,
		TTL: "1m", NumUses: 2, DisplayName: "gatehouse-reveal-" + g.GrantID,
		Metadata: map[string]string{"grant_id": g.GrantID, "purpose": "reveal"},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the reveal token: %w", err)
	}
	defer func() {
		_ = c.api.Auth().Token().RevokeAccessorWithContext(context.WithoutCancel(ctx), sec.Auth.Accessor)
	}()
	reader, err := c.api.Clone()
	if err != nil {
		return nil, err
	}
	reader.SetToken(sec.Auth.ClientToken)
	s, err := reader.KVv2(g.Mount).Get(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("reading %s/%s under grant %s: %w", g.Mount, path, g.GrantID, err)
	}
	return s.Data, nil
}

// RevokeGrant revokes the grant's token by accessor (if one was minted:
// accessor may be "") and deletes its policy. Running it again is safe: an
// already revoked token is not an error.
func (c *Client) RevokeGrant(ctx context.Context, grantID, accessor string) error {
	if accessor != "" {
		err := c.api.Auth().Token().RevokeAccessorWithContext(ctx, accessor)
		if err != nil && !isInvalidAccessor(err) {
			return fmt.Errorf("revoking grant %s: %w", grantID, err)
		}
	}
	if err := c.api.Sys().DeletePolicyWithContext(ctx, PolicyName(grantID)); err != nil {
		return fmt.Errorf("deleting the policy of grant %s: %w", grantID, err)
	}
	return nil
}

// VerifyGrantDead returns nil when the grant's token no longer exists (its
// accessor is unknown) and its policy is gone, and otherwise says which
// still lives.
func (c *Client) VerifyGrantDead(ctx context.Context, grantID, accessor string) error {
	if err := c.VerifyTokenDead(ctx, grantID, accessor); err != nil {
		return err
	}
	p, err := c.api.Sys().GetPolicyWithContext(ctx, PolicyName(grantID))
	if err != nil {
		return fmt.Errorf("grant %s: reading its policy: %w", grantID, err)
	}
	if p != "" {
		return fmt.Errorf("grant %s: its policy still exists", grantID)
	}
	return nil
}

// VerifyTokenDead returns nil when the grant's token no longer exists (its
// accessor is unknown; a grant without a token has nothing to check), and
// otherwise says it lives.
func (c *Client) VerifyTokenDead(ctx context.Context, grantID, accessor string) error {
	if accessor == "" {
		return nil
	}
	_, err := c.api.Auth().Token().LookupAccessorWithContext(ctx, accessor)
	if err == nil {
		return fmt.Errorf("grant %s: its token is still alive", grantID)
	}
	if !isInvalidAccessor(err) {
		return fmt.Errorf("grant %s: looking up its token: %w", grantID, err)
	}
	return nil
}

// LiveGrantPolicies returns those of grantIDs whose policy still exists,
// from one listing of the ACL policy names: how a revocation verifies a
// whole batch of deleted policies with one call instead of one read each.
func (c *Client) LiveGrantPolicies(ctx context.Context, grantIDs []string) ([]string, error) {
	names, err := c.api.Sys().ListPoliciesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the policies: %w", err)
	}
	exists := make(map[string]bool, len(names))
	for _, n := range names {
		exists[n] = true
	}
	var live []string
	for _, id := range grantIDs {
		if exists[strings.ToLower(PolicyName(id))] { // Vault keeps policy names in lower case
			live = append(live, id)
		}
	}
	return live, nil
}

// isInvalidAccessor reports whether err is Vault saying the accessor is
// unknown (the token is gone).
func isInvalidAccessor(err error) bool {
	var re *vaultapi.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusBadRequest &&
		strings.Contains(strings.Join(re.Errors, " "), "invalid accessor")
}

// RevokeToken revokes one token by accessor (a replaced grant token); an
// already revoked one is not an error.
func (c *Client) RevokeToken(ctx context.Context, accessor string) error {
	err := c.api.Auth().Token().RevokeAccessorWithContext(ctx, accessor)
	if err != nil && !isInvalidAccessor(err) {
		return fmt.Errorf("revoking a token: %w", err)
	}
	return nil
}
