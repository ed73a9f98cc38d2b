package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/tenants"
)

// AttemptTTL is how long a browser has to come back from its IdP.
const AttemptTTL = 10 * time.Minute

// StepUpMaxAge is how recent a forced re-authentication must be.
const StepUpMaxAge = 5 * time.Minute

// Federation signs people in at their own tenant's IdP.
type Federation struct {
	dir       Directory
	secrets   SecretReader
	store     Store
	publicURL string
	now       func() time.Time
	client    *http.Client

	mu        sync.Mutex
	providers map[string]*oidc.Provider // by issuer URL; discovery is cached per instance
}

// NewFederation returns a Federation whose callbacks are under publicURL
// (publicURL/auth/{tenant}/callback) and whose clock is now.
func NewFederation(dir Directory, secrets SecretReader, store Store, publicURL string, now func() time.Time) *Federation {
	return &Federation{
		dir: dir, secrets: secrets, store: store, publicURL: strings.TrimRight(publicURL, "/"), now: now,
		client: &http.Client{Timeout: 10 * time.Second}, providers: map[string]*oidc.Provider{},
	}
}

// PublicURL returns the console's base URL.
func (f *Federation) PublicURL() string { return f.publicURL }

// CallbackURL returns the redirect URI registered at the tenant slug's IdP.
func (f *Federation) CallbackURL(slug string) string {
	return f.publicURL + "/auth/" + slug + "/callback"
}

// Mode is the kind of sign-in Begin starts.
type Mode int

// The sign-in modes.
const (
	Normal Mode = iota
	StepUp      // force a fresh authentication (prompt=login, max_age=0, acr)
	Test        // the onboarding wizard's test sign-in: allowed while onboarding, no session
)

// Begin starts a sign-in at the tenant slug's IdP. It returns the IdP URL
// to send the browser to and the attempt token for the pre-auth cookie.
// It fails with apperr.NotFound for an unknown tenant, apperr.Forbidden for
// a tenant or IdP that is not accepting sign-ins (in Test mode: a tenant
// that is not onboarding), apperr.Unavailable when the IdP's discovery
// cannot be fetched.
func (f *Federation) Begin(ctx context.Context, slug, returnTo string, mode Mode) (string, string, error) {
	tc, err := f.dir.SignInConfig(ctx, slug)
	if err != nil {
		return "", "", err
	}
	if err := acceptsSignIn(tc, mode == Test); err != nil {
		return "", "", err
	}
	stepUp := mode == StepUp
	cfg, _, err := f.oauthConfig(ctx, tc)
	if err != nil {
		return "", "", err
	}
	token, idHash := newToken()
	state, _ := newToken()
	nonce, _ := newToken()
	now := f.now()
	a := Attempt{
		IDHash: idHash, TenantID: tc.TenantID, State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier(),
		ReturnTo: SafeReturnTo(returnTo), StepUp: stepUp, Test: mode == Test, CreatedAt: now, ExpiresAt: now.Add(AttemptTTL),
	}
	if err := f.store.SaveAttempt(ctx, a); err != nil {
		return "", "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.Verifier), oidc.Nonce(nonce)}
	if stepUp {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"))
		if tc.IdP.StepUpACR != "" {
			opts = append(opts, oauth2.SetAuthURLParam("acr_values", tc.IdP.StepUpACR))
		}
	}
	return cfg.AuthCodeURL(state, opts...), token, nil
}

// Complete finishes a sign-in at the tenant slug's callback: it consumes the
// attempt named by the pre-auth cookie's token (once only), checks that the
// attempt was for this tenant and that state matches, exchanges the code
// with the PKCE verifier, verifies the ID token (signature, exactly this
// tenant's issuer, audience, expiry, nonce), and maps the person's groups to
// roles. Every refusal is an apperr with a message for the person.
func (f *Federation) Complete(ctx context.Context, slug, attemptToken, state, code string) (Identity, error) {
	if attemptToken == "" {
		return Identity{}, apperr.New(apperr.Invalid, "This sign-in link has expired or was already used. Start again from the sign-in page.")
	}
	a, err := f.store.ConsumeAttempt(ctx, hashToken(attemptToken), f.now())
	if apperr.CodeOf(err) == apperr.NotFound {
		return Identity{}, apperr.Wrap(apperr.Invalid, "This sign-in link has expired or was already used. Start again from the sign-in page.", err)
	}
	if err != nil {
		return Identity{}, err
	}
	tc, err := f.dir.SignInConfig(ctx, slug)
	if err != nil {
		return Identity{}, err
	}
	if tc.TenantID != a.TenantID || subtle.ConstantTimeCompare([]byte(state), []byte(a.State)) != 1 {
		return Identity{}, apperr.New(apperr.Invalid, "This sign-in response does not match the sign-in you started. Start again from the sign-in page.")
	}
	if err := acceptsSignIn(tc, a.Test); err != nil {
		return Identity{}, err
	}
	cfg, provider, err := f.oauthConfig(ctx, tc)
	if err != nil {
		return Identity{}, err
	}
	octx := oidc.ClientContext(ctx, f.client)
	tok, err := cfg.Exchange(octx, code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return Identity{}, apperr.Wrap(apperr.Invalid, "Your organization's sign-in service did not accept this sign-in. Start again from the sign-in page.", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, apperr.New(apperr.Invalid, "Your organization's sign-in service returned no ID token.")
	}
	verifier := provider.VerifierContext(octx, &oidc.Config{ClientID: tc.IdP.ClientID, Now: f.now})
	idt, err := verifier.Verify(octx, raw)
	if err != nil {
		return Identity{}, apperr.Wrap(apperr.Invalid, "The sign-in could not be verified as coming from your organization.", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(a.Nonce)) != 1 {
		return Identity{}, apperr.New(apperr.Invalid, "The sign-in could not be verified (nonce mismatch). Start again from the sign-in page.")
	}
	return f.identityFrom(tc, idt, a)
}

// claims are the ID-token claims Gatehouse reads besides the standard ones.
type claims struct {
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	Name          string `json:"name"`
	AuthTime      int64  `json:"auth_time"`
	ACR           string `json:"acr"`
}

// checkStepUp returns nil when a step-up sign-in's claims prove what it
// asked for: an auth_time no older than StepUpMaxAge at now and, when the
// tenant names acr values (space-separated, as sent in acr_values), one of
// them as the token's acr. Anything else is apperr.Forbidden.
func checkStepUp(c claims, acrValues string, now time.Time) error {
	if c.AuthTime == 0 || now.Sub(time.Unix(c.AuthTime, 0)) > StepUpMaxAge {
		return apperr.New(apperr.Forbidden, "Your organization did not confirm a fresh sign-in. Try again and enter your password when asked.")
	}
	if accepted := strings.Fields(acrValues); len(accepted) > 0 && !slices.Contains(accepted, c.ACR) {
		return apperr.New(apperr.Forbidden, "Your organization did not confirm the stronger sign-in this action needs.")
	}
	return nil
}

func (f *Federation) identityFrom(tc TenantConfig, idt *oidc.IDToken, a Attempt) (Identity, error) {
	var c claims
	var all map[string]any
	if err := idt.Claims(&c); err != nil {
		return Identity{}, apperr.Wrap(apperr.Invalid, "The sign-in carried claims Gatehouse cannot read.", err)
	}
	if err := idt.Claims(&all); err != nil {
		return Identity{}, apperr.Wrap(apperr.Invalid, "The sign-in carried claims Gatehouse cannot read.", err)
	}
	if c.Email == "" {
		return Identity{}, apperr.New(apperr.Invalid, "Your organization's sign-in did not include an email address.")
	}
	if tc.IdP.RequireEmailVerified && (c.EmailVerified == nil || !*c.EmailVerified) {
		return Identity{}, apperr.New(apperr.Forbidden, "Your email address is not verified by your organization, which this organization requires.")
	}
	groups := stringsClaim(all[tc.IdP.GroupsClaim])
	roles := tenants.RolesFor(groups, tc.Mappings)
	authTime := time.Unix(c.AuthTime, 0)
	if c.AuthTime == 0 {
		authTime = idt.IssuedAt
	}
	if a.StepUp {
		if err := checkStepUp(c, tc.IdP.StepUpACR, f.now()); err != nil {
			return Identity{}, err
		}
	}
	id := Identity{
		TenantID: tc.TenantID, TenantSlug: tc.Slug, TenantName: tc.Name, Subject: idt.Subject,
		Email: strings.ToLower(c.Email), Name: c.Name, Groups: groups, Roles: roles,
		Issuer: idt.Issuer, AuthTime: authTime, StepUp: a.StepUp, Test: a.Test, ReturnTo: a.ReturnTo,
	}
	if id.Name == "" {
		id.Name = id.Email
	}
	if len(roles) == 0 {
		return id, ErrNoRoles
	}
	return id, nil
}

// ErrNoRoles is returned (with the Identity) when none of the person's
// groups maps to a role in the tenant: they authenticated but may not enter.
var ErrNoRoles = apperr.New(apperr.Forbidden,
	"You signed in, but your account has no access to Gatehouse in this organization. Ask your administrator to add you to a group that has access.")

func stringsClaim(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

// acceptsSignIn returns nil when tc accepts a sign-in: an active tenant
// with an enabled IdP, or, for a test sign-in, a tenant being onboarded.
func acceptsSignIn(tc TenantConfig, test bool) error {
	if test {
		if tc.Status != tenants.StatusOnboarding {
			return apperr.New(apperr.Conflict, tc.Name+" is not being onboarded: test sign-ins are over.")
		}
		return nil
	}
	if tc.Status != tenants.StatusActive {
		return apperr.New(apperr.Forbidden, tc.Name+" is not accepting sign-ins on Gatehouse right now.")
	}
	if !tc.IdP.Enabled {
		return apperr.New(apperr.Forbidden, "Sign-in through "+tc.Name+"'s identity provider is turned off right now.")
	}
	return nil
}

// oauthConfig returns the OAuth2 configuration and discovered provider of
// the tenant's IdP. The client secret is read from Vault on each call and
// never cached or logged.
func (f *Federation) oauthConfig(ctx context.Context, tc TenantConfig) (*oauth2.Config, *oidc.Provider, error) {
	provider, err := f.provider(ctx, tc.IdP.IssuerURL)
	if err != nil {
		return nil, nil, err
	}
	secret, err := f.secrets.ReadClientSecret(ctx, tc.IdP.ClientSecretRef)
	if err != nil {
		return nil, nil, apperr.Wrap(apperr.Unavailable, "Sign-in for "+tc.Name+" is misconfigured: its client secret cannot be read.", err)
	}
	return &oauth2.Config{
		ClientID: tc.IdP.ClientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: f.CallbackURL(tc.Slug), Scopes: tc.IdP.Scopes,
	}, provider, nil
}

func (f *Federation) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	f.mu.Lock()
	p, ok := f.providers[issuer]
	f.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := Discover(ctx, f.client, issuer)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.providers[issuer] = p
	f.mu.Unlock()
	return p, nil
}

// Discover fetches the OpenID configuration of issuer. It fails with
// apperr.Unavailable naming the cause, including discovery that reports
// another issuer than the one asked for.
func Discover(ctx context.Context, client *http.Client, issuer string) (*oidc.Provider, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuer)
	if err != nil {
		msg := "The identity provider at " + issuer + " could not be reached or is not an OpenID provider."
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			msg = "The identity provider at " + issuer + " reports a different issuer (" + mismatch.Discovered + ") in its discovery document."
		}
		return nil, apperr.Wrap(apperr.Unavailable, msg, fmt.Errorf("discovery of %s: %w", issuer, err))
	}
	return p, nil
}

// SafeReturnTo returns path when it is a local path on this site and "/"
// otherwise, so a sign-in can never redirect off-site.
func SafeReturnTo(path string) string {
	if path == "" || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") ||
		strings.ContainsAny(path, "\r\n") {
		return "/"
	}
	return path
}

// RecordRefusal audits a sign-in at the tenant slug that did not succeed,
// with reason (a message for people, never a token). Unknown tenants are
// not recorded: there is no trail to write to.
func (f *Federation) RecordRefusal(ctx context.Context, slug, actor, reason string, outcome audit.Outcome, meta audit.Meta) error {
	tc, err := f.dir.SignInConfig(ctx, slug)
	if err != nil {
		return nil
	}
	if actor == "" {
		actor = "anonymous"
	}
	return f.store.RecordEvent(ctx, meta.Stamp(audit.Event{
		TenantID: tc.TenantID, Actor: actor, Action: "login.refused", Target: slug, Outcome: outcome,
		Detail: map[string]string{"reason": reason},
	}))
}

// EndSessionURL returns where to send the browser to end the person's
// session at the tenant slug's IdP too (RP-initiated logout), coming back
// to postLogout; ok is false when the IdP announces no end_session_endpoint
// or cannot be reached (signing out of Gatehouse never depends on it).
func (f *Federation) EndSessionURL(ctx context.Context, slug, postLogout string) (string, bool) {
	tc, err := f.dir.SignInConfig(ctx, slug)
	if err != nil {
		return "", false
	}
	p, err := f.provider(ctx, tc.IdP.IssuerURL)
	if err != nil {
		return "", false
	}
	var eps struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&eps); err != nil || eps.EndSession == "" {
		return "", false
	}
	u, err := url.Parse(eps.EndSession)
	if err != nil {
		return "", false
	}
	q := u.Query()
	q.Set("client_id", tc.IdP.ClientID)
	q.Set("post_logout_redirect_uri", postLogout)
	u.RawQuery = q.Encode()
	return u.String(), true
}
