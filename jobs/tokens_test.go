package jobs_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

// noRevokeVault returns a Gatehouse Vault client whose token holds
// Gatehouse's policy without revoke-accessor: Vault refuses (403) every
// revocation of a token it asks for, while minting works. A real,
// deterministic failure to revoke.
func noRevokeVault(t *testing.T) *vault.Client {
	t.Helper()
	c, err := vault.New(stack.Vault.Addr, stack.GatehouseTokenWithout(t, "auth/token/revoke-accessor"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rootAPI(t *testing.T) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(stack.Vault.RootToken)
	return c
}

// unwrapToken redeems a wrapping token as the holder would and returns a
// client holding the grant token.
func unwrapToken(t *testing.T, wrapping string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = stack.Vault.Addr
	c, _ := vaultapi.NewClient(cfg)
	c.SetToken("")
	sec, err := c.Logical().Unwrap(wrapping)
	if err != nil {
		t.Fatal("unwrapping the handed-out token failed")
	}
	c.SetToken(sec.Auth.ClientToken)
	return c
}

// liveTokensOf returns the accessors of every token Vault holds for the
// grant (its metadata names the grant), as Vault itself lists them.
func liveTokensOf(t *testing.T, grantID string) []string {
	t.Helper()
	root := rootAPI(t)
	list, err := root.Logical().List("auth/token/accessors")
	if err != nil || list == nil {
		t.Fatalf("listing token accessors: %v", err)
	}
	keys, _ := list.Data["keys"].([]any)
	var live []string
	for _, k := range keys {
		a, _ := k.(string)
		sec, err := root.Auth().Token().LookupAccessor(a)
		if err != nil || sec == nil {
			continue // revoked meanwhile
		}
		if meta, _ := sec.Data["meta"].(map[string]any); meta != nil && meta["grant_id"] == grantID {
			live = append(live, a)
		}
	}
	return live
}

// recordedTokens returns the accessors Gatehouse records for the grant:
// the current token's and the retired ones'.
func recordedTokens(t *testing.T, sw shareWorld, req string) (string, []string) {
	t.Helper()
	var current string
	var retired []string
	if err := sw.pool.QueryRow(context.Background(), "SELECT accessor, retired_accessors FROM grants WHERE request_id::text = $1", req).
		Scan(&current, &retired); err != nil {
		t.Fatal(err)
	}
	return current, retired
}

// assertTracked fails unless every token Vault holds for the grant is one
// Gatehouse records (and exactly want of them live).
func assertTracked(t *testing.T, sw shareWorld, req, step string, want int) {
	t.Helper()
	current, retired := recordedTokens(t, sw, req)
	live := liveTokensOf(t, req)
	for _, a := range live {
		if a != current && !slices.Contains(retired, a) {
			t.Fatalf("%s: a live token of the grant is not recorded by Gatehouse (%d live, %d recorded retired)", step, len(live), len(retired))
		}
	}
	if len(live) != want {
		t.Fatalf("%s: %d live tokens of the grant, want %d", step, len(live), want)
	}
}

// Taking a token whose predecessor Vault refuses to revoke still hands the
// new token over, and loses track of no token: the old one stays recorded,
// is revoked by the next take that can, and relinquishing ends every token
// the grant ever handed out. The accessors appear in no audit row.
func TestATokenWhosePredecessorCannotBeRevokedLosesNothing(t *testing.T) {
	sw := newShareWorld(t, "tenant-tok1", time.Now)
	ctx := context.Background()
	req := sw.jitGrant(t, "acme/requester")
	h := sw.holder("acme/requester")
	crippled := &access.Service{Store: sw.store, Vault: noRevokeVault(t), Now: time.Now}

	first := sw.tokenOf(t, "acme/requester", req)
	assertTracked(t, sw, req, "first token", 1)

	tok, err := crippled.TakeToken(ctx, h, req, audit.Meta{})
	if err != nil || tok.WrappingToken == "" || tok.PreviousAlive != 1 {
		t.Fatalf("taking a token while the previous cannot be revoked: err %v, token handed over %v, previous alive %d",
			err, tok.WrappingToken != "", tok.PreviousAlive)
	}
	second := unwrapToken(t, tok.WrappingToken)
	if s, err := second.KVv2(sw.mount).Get(ctx, "db/orders"); err != nil || s.Data["password"] == nil {
		t.Fatalf("the new token cannot read the grant's secret: %v", err)
	}
	assertTracked(t, sw, req, "previous not revoked", 2)

	// A take through a Vault that can revoke ends both earlier tokens.
	tok, err = sw.svc.TakeToken(ctx, h, req, audit.Meta{})
	if err != nil || tok.PreviousAlive != 0 {
		t.Fatalf("taking a token again: %v, %d previous alive", err, tok.PreviousAlive)
	}
	for i, c := range []*vaultapi.Client{first, second} {
		if _, err := c.Auth().Token().LookupSelf(); err == nil {
			t.Fatalf("token %d is alive after a take that revoked it", i+1)
		}
	}
	if _, retired := recordedTokens(t, sw, req); len(retired) != 0 {
		t.Fatalf("%d revoked tokens still recorded as retired", len(retired))
	}
	assertTracked(t, sw, req, "retired revoked", 1)
	var forgot string
	if err := sw.pool.QueryRow(ctx, "SELECT detail->>'tokens' FROM audit_events WHERE action = 'grant.previous_tokens_revoked' AND target = $1", req).
		Scan(&forgot); err != nil || forgot != "2" {
		t.Fatalf("the revocation of the previous tokens is audited as %q (%v)", forgot, err)
	}

	// One more take whose predecessor cannot be revoked, then relinquish:
	// every token the grant handed out ends.
	if tok, err = crippled.TakeToken(ctx, h, req, audit.Meta{}); err != nil || tok.PreviousAlive != 1 {
		t.Fatalf("taking a fourth token: %v, %d previous alive", err, tok.PreviousAlive)
	}
	assertTracked(t, sw, req, "before relinquish", 2)
	current, retired := recordedTokens(t, sw, req)
	if err := sw.svc.Relinquish(ctx, h, req); err != nil {
		t.Fatal(err)
	}
	assertTracked(t, sw, req, "after relinquish", 0)
	for _, a := range append(retired, current) {
		var n int
		if err := sw.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE detail::text LIKE '%' || $1 || '%'", a).Scan(&n); err != nil || n != 0 {
			t.Fatalf("an accessor appears in %d audit rows (%v)", n, err)
		}
	}
}

// An emergency revocation ends a grant's replaced tokens too — by the
// grant's own cut, and in a freeze whose mount sweep misses.
func TestARevocationEndsTheTokensAGrantReplaced(t *testing.T) {
	for i, tc := range []struct {
		scope string
		miss  bool // the freeze's mount sweep fails
	}{{"grant", false}, {"tenant", true}} {
		sw := newShareWorld(t, fmt.Sprintf("tenant-tok%d", 2+i), time.Now)
		ctx := context.Background()
		req := sw.jitGrant(t, "acme/requester")
		crippled := &access.Service{Store: sw.store, Vault: noRevokeVault(t), Now: time.Now}
		sw.tokenOf(t, "acme/requester", req)
		if tok, err := crippled.TakeToken(ctx, sw.holder("acme/requester"), req, audit.Meta{}); err != nil || tok.PreviousAlive != 1 {
			t.Fatalf("%s: taking a second token: %v, %d previous alive", tc.scope, err, tok.PreviousAlive)
		}
		assertTracked(t, sw, req, tc.scope+": before the revocation", 2)
		scope := "grant:" + req
		if tc.scope == "tenant" {
			scope = "tenant:acme"
		}
		id := sw.revoke(t, scope, false)
		if err := jobs.RunRevocation(ctx, sw.store, sw.store, newSweepCounter(sw.svc.Vault, tc.miss), jobs.RevokeConcurrency, id); err != nil {
			t.Fatalf("%s: %v", scope, err)
		}
		assertTracked(t, sw, req, scope+": after the revocation", 0)
		if r, err := sw.store.Revocation(ctx, id, operator); err != nil || !r.Completed || r.Progress.Verified != 1 {
			t.Fatalf("%s: %+v %v", scope, r.Progress, err)
		}
	}
}
