package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/tenants"
)

// DiscoverEndpoints fetches issuer's discovery document now (never from a
// cache) and returns the endpoints it announces. It fails with
// apperr.Unavailable naming the problem: unreachable, not an OpenID
// provider, another issuer in the document, or no token endpoint.
func (f *Federation) DiscoverEndpoints(ctx context.Context, issuer string) (tenants.Endpoints, error) {
	var eps tenants.Endpoints
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return eps, apperr.InvalidFields("Check the issuer URL.", map[string]string{"issuer_url": "Give the issuer's URL, like https://login.example.com."})
	}
	p, err := Discover(ctx, f.client, issuer)
	if err != nil {
		e := apperr.As(err)
		return eps, &apperr.Error{Code: apperr.Invalid, Message: e.Message, Fields: map[string]string{"issuer_url": e.Message}, Err: err}
	}
	if err := p.Claims(&eps); err != nil || eps.Token == "" || eps.Authorization == "" || eps.JWKS == "" {
		msg := "The discovery document at " + issuer + " lacks an authorization, token or JWKS endpoint."
		return eps, apperr.InvalidFields(msg, map[string]string{"issuer_url": msg})
	}
	return eps, nil
}

// VerifyClient checks clientID and secret at the token endpoint: it
// redeems a made-up code, which a provider answers with invalid_client
// (401) for wrong credentials and invalid_grant for right ones. The secret
// is sent only to the provider's token endpoint and never logged.
func (f *Federation) VerifyClient(ctx context.Context, tokenURL, slug, clientID, secret string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	probe, _ := newToken()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"gatehouse-probe-" + probe}, "redirect_uri": {f.CallbackURL(slug)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return apperr.Wrap(apperr.Invalid, "The token endpoint's URL is not valid.", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := f.client.Do(req)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The token endpoint "+tokenURL+" could not be reached.", err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(raw, &body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || body.Error == "invalid_client" || body.Error == "unauthorized_client":
		msg := "The identity provider rejected this client ID and secret (" + safeOAuthCode(body.Error) + ")."
		return apperr.InvalidFields(msg, map[string]string{"client_secret": msg})
	case resp.StatusCode == http.StatusBadRequest && (body.Error == "invalid_grant" || body.Error == "invalid_request"):
		return nil // the client authenticated; only the made-up code was refused
	default:
		return apperr.Wrap(apperr.Unavailable,
			fmt.Sprintf("The token endpoint answered unexpectedly (HTTP %d %s); the client could not be verified.", resp.StatusCode, safeOAuthCode(body.Error)), nil)
	}
}

// safeOAuthCode returns code if it looks like an OAuth error code, so no
// arbitrary text from a provider reaches a page.
func safeOAuthCode(code string) string {
	if code == "" || len(code) > 40 || strings.Trim(code, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "no error code"
	}
	return code
}
