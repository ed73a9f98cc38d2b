package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

const testPassword = "s3cret-test-password"

func testConfig() Config {
	org := func(name string) OrgConfig {
		dom := name + ".test"
		return OrgConfig{
			Name: name,
			Users: []UserConfig{
				{Email: "requester@" + dom, Password: testPassword, Name: "Ada Requester", Groups: []string{"requesters"}},
				{Email: "approver1@" + dom, Password: testPassword, Name: "Ben Approver", Groups: []string{"approvers", "admins"}},
				{Email: "nogroup@" + dom, Password: testPassword, Name: "Gil Nogroup"},
			},
			Clients: []ClientConfig{{
				ID:           "gatehouse",
				Secret:       "secret-" + name,
				RedirectURIs: []string{"http://127.0.0.1:8080/auth/" + name + "/callback"},
			}},
		}
	}
	return Config{Orgs: []OrgConfig{org("acme"), org("globex")}}
}

// syncBuffer is a goroutine-safe buffer for the server's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testIDP struct {
	issuers map[string]string
	stderr  *syncBuffer
}

// startIDP runs the command in-process (same code path as main) on port 0
// and waits for its ready line. Cleanup stops it as SIGINT would and checks
// that it exits cleanly and printed exactly one stdout line.
func startIDP(t *testing.T, cfg Config) *testIDP {
	t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	runErr := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-config", path, "-listen", "127.0.0.1:0"}, outW, stderr)
		outW.Close()
		runErr <- err
	}()

	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	var first string
	select {
	case l, ok := <-lines:
		if !ok {
			cancel()
			t.Fatalf("devidp exited before ready: %v\nstderr:\n%s", <-runErr, stderr.String())
		}
		first = l
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("devidp not ready after 60s\nstderr:\n%s", stderr.String())
	}

	var ready struct {
		Issuers map[string]string `json:"issuers"`
	}
	dec := json.NewDecoder(strings.NewReader(first))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ready); err != nil {
		t.Fatalf("ready line %q: %v", first, err)
	}

	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runErr:
			if err != nil {
				t.Errorf("run returned %v, want nil on shutdown", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("devidp did not shut down within 10s")
		}
		var extra []string
		for l := range lines {
			extra = append(extra, l)
		}
		if len(extra) > 0 {
			t.Errorf("stdout had more than one line; extra: %q", extra)
		}
		if strings.Contains(stderr.String(), testPassword) {
			t.Errorf("stderr contains a password")
		}
	})
	return &testIDP{issuers: ready.Issuers, stderr: stderr}
}

func randString(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// loginForm finds the first POST form of an HTML page and returns its
// action and the values its inputs would submit.
func loginForm(body []byte) (action string, values url.Values, err error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return "", nil, err
	}
	var form *html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if form != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" && strings.EqualFold(attr(n, "method"), "post") {
			form = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		return "", nil, errors.New("no POST form on page")
	}
	values = url.Values{}
	var collect func(n *html.Node)
	collect = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			typ := strings.ToLower(attr(n, "type"))
			if (typ != "checkbox" && typ != "radio") || hasAttr(n, "checked") {
				values.Set(attr(n, "name"), attr(n, "value"))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			collect(c)
		}
	}
	collect(form)
	return attr(form, "action"), values, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

var errLoginRefused = errors.New("login refused")

type flowResult struct {
	token *oauth2.Token
	nonce string
}

// authCodeFlow does what a browser and Gatehouse would: GET the authorization
// URL (PKCE S256, state, nonce), follow Dex's redirects to its login form,
// submit the credentials as the form does, catch the redirect to the client's
// redirect URI and exchange the code.
func authCodeFlow(t *testing.T, ctx context.Context, oc *oauth2.Config, email, password string) (*flowResult, error) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), oc.RedirectURL) {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}

	state, nonce, verifier := randString(t), randString(t), oauth2.GenerateVerifier()
	authURL := oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatalf("GET auth URL: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("auth URL led to %s at %s, want the login form\n%s", resp.Status, resp.Request.URL, body)
	}
	action, values, err := loginForm(body)
	if err != nil {
		t.Fatalf("login page %s: %v\n%s", resp.Request.URL, err, body)
	}
	if _, ok := values["password"]; !ok {
		t.Fatalf("login form has no password field: %v", values)
	}
	actionURL, err := resp.Request.URL.Parse(action)
	if err != nil {
		t.Fatalf("form action %q: %v", action, err)
	}
	values.Set("login", email)
	values.Set("password", password)

	resp, err = browser.PostForm(actionURL.String(), values)
	if err != nil {
		t.Fatalf("POST login form: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || !strings.HasPrefix(loc, oc.RedirectURL) {
		if !bytes.Contains(body, []byte("Invalid")) {
			t.Fatalf("login POST: %s at %s, neither a redirect to the client nor an invalid-credentials page\n%s",
				resp.Status, resp.Request.URL, body)
		}
		return nil, fmt.Errorf("%w: %s", errLoginRefused, resp.Status)
	}
	cb, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("redirect %q: %v", loc, err)
	}
	if got := cb.Query().Get("state"); got != state {
		t.Fatalf("state = %q, want %q", got, state)
	}
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in redirect (error=%q %q)", cb.Query().Get("error"), cb.Query().Get("error_description"))
	}

	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	return &flowResult{token: tok, nonce: nonce}, nil
}

type idClaims struct {
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
	AuthTime      int64    `json:"auth_time"`
}

func TestEndToEnd(t *testing.T) {
	cfg := testConfig()
	idp := startIDP(t, cfg)
	ctx := context.Background()

	if len(idp.issuers) != 2 {
		t.Fatalf("issuers = %v, want acme and globex", idp.issuers)
	}
	for org, iss := range idp.issuers {
		if !strings.HasPrefix(iss, "http://127.0.0.1:") || !strings.HasSuffix(iss, "/"+org) {
			t.Fatalf("issuer of %s = %q, want http://127.0.0.1:PORT/%s", org, iss, org)
		}
	}

	providers := map[string]*oidc.Provider{}
	oauthCfgs := map[string]*oauth2.Config{}
	for _, org := range cfg.Orgs {
		issuer := idp.issuers[org.Name]
		p, err := oidc.NewProvider(ctx, issuer) // fails unless discovery reports this exact issuer
		if err != nil {
			t.Fatalf("discovery of %s: %v", org.Name, err)
		}
		providers[org.Name] = p
		cl := org.Clients[0]
		oauthCfgs[org.Name] = &oauth2.Config{
			ClientID:     cl.ID,
			ClientSecret: cl.Secret,
			RedirectURL:  cl.RedirectURIs[0],
			Endpoint:     p.Endpoint(),
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile", "groups"},
		}
	}
	verifier := func(org string) *oidc.IDTokenVerifier {
		return providers[org].Verifier(&oidc.Config{ClientID: "gatehouse"})
	}

	t.Run("DiscoveryIssuer", func(t *testing.T) {
		for org, issuer := range idp.issuers {
			resp, err := http.Get(issuer + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Issuer  string `json:"issuer"`
				JWKSURI string `json:"jwks_uri"`
			}
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != issuer {
				t.Errorf("%s discovery issuer = %q, want %q", org, doc.Issuer, issuer)
			}
			if doc.JWKSURI != issuer+"/keys" {
				t.Errorf("%s jwks_uri = %q", org, doc.JWKSURI)
			}
		}
	})

	var acmeRawIDToken string
	for _, tc := range []struct {
		org, email string
		wantName   string
		wantGroups []string
	}{
		{"acme", "requester@acme.test", "Ada Requester", []string{"requesters"}},
		{"globex", "approver1@globex.test", "Ben Approver", []string{"approvers", "admins"}},
		{"acme", "nogroup@acme.test", "Gil Nogroup", nil},
	} {
		t.Run("AuthCodeFlow/"+tc.email, func(t *testing.T) {
			res, err := authCodeFlow(t, ctx, oauthCfgs[tc.org], tc.email, testPassword)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			raw, ok := res.token.Extra("id_token").(string)
			if !ok || raw == "" {
				t.Fatal("no id_token in token response")
			}
			idt, err := verifier(tc.org).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idt.Issuer != idp.issuers[tc.org] {
				t.Errorf("iss = %q, want %q", idt.Issuer, idp.issuers[tc.org])
			}
			if !slices.Equal(idt.Audience, []string{"gatehouse"}) {
				t.Errorf("aud = %v", idt.Audience)
			}
			if idt.Nonce != res.nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, res.nonce)
			}
			var c idClaims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Email != tc.email || !c.EmailVerified {
				t.Errorf("email = %q verified=%v, want %q verified", c.Email, c.EmailVerified, tc.email)
			}
			if c.Name != tc.wantName {
				t.Errorf("name = %q, want %q", c.Name, tc.wantName)
			}
			if !slices.Equal(c.Groups, tc.wantGroups) {
				t.Errorf("groups = %q, want %q", c.Groups, tc.wantGroups)
			}
			if c.AuthTime == 0 || time.Since(time.Unix(c.AuthTime, 0)) > time.Minute {
				t.Errorf("auth_time = %d, want a recent time", c.AuthTime)
			}

			ui, err := providers[tc.org].UserInfo(ctx, oauth2.StaticTokenSource(res.token))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if ui.Email != tc.email || ui.Subject != idt.Subject {
				t.Errorf("userinfo email=%q sub=%q, want %q %q", ui.Email, ui.Subject, tc.email, idt.Subject)
			}

			// The same person signing in again gets the same subject.
			res2, err := authCodeFlow(t, ctx, oauthCfgs[tc.org], tc.email, testPassword)
			if err != nil {
				t.Fatalf("second login: %v", err)
			}
			idt2, err := verifier(tc.org).Verify(ctx, res2.token.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			if idt2.Subject != idt.Subject {
				t.Errorf("sub changed between logins: %q vs %q", idt.Subject, idt2.Subject)
			}

			if tc.org == "acme" && acmeRawIDToken == "" {
				acmeRawIDToken = raw
			}
			if strings.Contains(idp.stderr.String(), raw) {
				t.Errorf("stderr contains the ID token")
			}
		})
	}

	t.Run("CrossOrgTokenRejected", func(t *testing.T) {
		if acmeRawIDToken == "" {
			t.Skip("no acme token")
		}
		if _, err := verifier("acme").Verify(ctx, acmeRawIDToken); err != nil {
			t.Fatalf("acme token fails acme's verifier: %v", err)
		}
		if _, err := verifier("globex").Verify(ctx, acmeRawIDToken); err == nil {
			t.Fatal("acme ID token verified with globex's verifier")
		} else {
			t.Logf("globex verifier rejects acme token: %v", err)
		}
		// Even with the issuer check off, globex's keys must not verify it.
		v := providers["globex"].Verifier(&oidc.Config{ClientID: "gatehouse", SkipIssuerCheck: true})
		if _, err := v.Verify(ctx, acmeRawIDToken); err == nil {
			t.Fatal("acme ID token's signature verified with globex's keys")
		}
	})

	t.Run("WrongCredentialsRefused", func(t *testing.T) {
		for _, tc := range []struct{ name, org, email, password string }{
			{"wrong password", "acme", "requester@acme.test", "not-the-password"},
			{"empty password", "acme", "requester@acme.test", ""},
			{"unknown user", "acme", "nobody@acme.test", testPassword},
			{"other org's user", "acme", "requester@globex.test", testPassword},
		} {
			_, err := authCodeFlow(t, ctx, oauthCfgs[tc.org], tc.email, tc.password)
			if !errors.Is(err, errLoginRefused) {
				t.Errorf("%s: err = %v, want login refused", tc.name, err)
			}
		}
	})

	t.Run("PasswordGrant", func(t *testing.T) {
		tok, err := oauthCfgs["globex"].PasswordCredentialsToken(ctx, "requester@globex.test", testPassword)
		if err != nil {
			t.Fatalf("password grant: %v", err)
		}
		idt, err := verifier("globex").Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var c idClaims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if c.Email != "requester@globex.test" || !slices.Equal(c.Groups, []string{"requesters"}) {
			t.Errorf("claims = %+v", c)
		}
		if _, err := oauthCfgs["globex"].PasswordCredentialsToken(ctx, "requester@globex.test", "wrong"); err == nil {
			t.Error("password grant accepted a wrong password")
		}
	})
}

func TestDemoConfig(t *testing.T) {
	cfg, err := loadConfig("demo.json")
	if err != nil {
		t.Fatal(err)
	}
	wantGroups := map[string][]string{
		"requester": {"requesters"}, "approver1": {"approvers"}, "approver2": {"approvers"},
		"admin": {"admins"}, "responder": {"responders"}, "auditor": {"auditors"}, "nogroup": nil,
		"operator": {"platform-operators"},
	}
	wantUsers := map[string]int{"acme": 7, "globex": 7, "gatehouse": 1}
	if len(cfg.Orgs) != len(wantUsers) {
		t.Fatalf("orgs = %d, want %d", len(cfg.Orgs), len(wantUsers))
	}
	for _, o := range cfg.Orgs {
		if len(o.Users) != wantUsers[o.Name] {
			t.Errorf("org %s: %d users, want %d", o.Name, len(o.Users), wantUsers[o.Name])
		}
		if !o.skipApproval() {
			t.Errorf("org %s: approval screen not skipped", o.Name)
		}
		for _, u := range o.Users {
			local, dom, _ := strings.Cut(u.Email, "@")
			if dom != o.Name+".test" || u.Password != "demo-password" {
				t.Errorf("user %s in org %s: bad domain or password", u.Email, o.Name)
			}
			if g, ok := wantGroups[local]; !ok || !slices.Equal(u.Groups, g) {
				t.Errorf("user %s groups = %q", u.Email, u.Groups)
			}
		}
		if len(o.Clients) != 1 {
			t.Fatalf("org %s: %d clients", o.Name, len(o.Clients))
		}
		c := o.Clients[0]
		if c.ID != "gatehouse" || c.Secret != "gatehouse-dev-secret-"+o.Name ||
			!slices.Equal(c.RedirectURIs, []string{"http://127.0.0.1:8080/auth/" + o.Name + "/callback"}) {
			t.Errorf("org %s client = %+v", o.Name, c)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for name, js := range map[string]string{
		"no orgs":        `{"orgs":[]}`,
		"unknown field":  `{"orgs":[],"extra":1}`,
		"bad org name":   `{"orgs":[{"name":"Acme/x","users":[{"email":"a@b","password":"p"}],"clients":[{"id":"c","secret":"s","redirect_uris":["http://x/cb"]}]}]}`,
		"no password":    `{"orgs":[{"name":"acme","users":[{"email":"a@b"}],"clients":[{"id":"c","secret":"s","redirect_uris":["http://x/cb"]}]}]}`,
		"relative uri":   `{"orgs":[{"name":"acme","users":[{"email":"a@b","password":"p"}],"clients":[{"id":"c","secret":"s","redirect_uris":["/cb"]}]}]}`,
		"duplicate user": `{"orgs":[{"name":"acme","users":[{"email":"a@b","password":"p"},{"email":"A@b","password":"p"}],"clients":[{"id":"c","secret":"s","redirect_uris":["http://x/cb"]}]}]}`,
	} {
		if _, err := parseConfig([]byte(js)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
