package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// Config is the devidp configuration file: a list of organizations, each of
// which gets its own OpenID Connect issuer at http://HOST:PORT/<org name>.
type Config struct {
	Orgs []OrgConfig `json:"orgs"`
}

// OrgConfig is one organization's identity provider.
type OrgConfig struct {
	// Name is the org's slug; it is the issuer's path segment.
	Name string `json:"name"`
	// SkipApproval skips Dex's consent screen (Dex SkipApprovalScreen).
	// Defaults to true when omitted.
	SkipApproval *bool          `json:"skip_approval,omitempty"`
	Users        []UserConfig   `json:"users"`
	Clients      []ClientConfig `json:"clients"`
}

// UserConfig is a person who can sign in with email and password.
type UserConfig struct {
	Email string `json:"email"`
	// Password in plain text (demo only), or an existing bcrypt hash
	// ("$2a$…", cost 10–16) which is used as is.
	Password string   `json:"password"`
	Name     string   `json:"name,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	// UserID is the stable user ID behind the token's "sub". Defaults to a
	// value derived from the org name and the email, so it is stable across
	// restarts.
	UserID string `json:"user_id,omitempty"`
}

// ClientConfig is an OAuth2/OIDC client registered with the org's issuer.
type ClientConfig struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	Name         string   `json:"name,omitempty"`
	RedirectURIs []string `json:"redirect_uris"`
}

var orgNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// loadConfig reads and validates a config file.
func loadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(data)
}

// parseConfig decodes (rejecting unknown fields) and validates a config.
func parseConfig(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	return &c, nil
}

func (c *Config) validate() error {
	if len(c.Orgs) == 0 {
		return errors.New("no orgs")
	}
	seenOrg := map[string]bool{}
	for _, o := range c.Orgs {
		if !orgNameRE.MatchString(o.Name) {
			return fmt.Errorf("org name %q: must match %s", o.Name, orgNameRE)
		}
		if seenOrg[o.Name] {
			return fmt.Errorf("org %q defined twice", o.Name)
		}
		seenOrg[o.Name] = true
		if len(o.Users) == 0 {
			return fmt.Errorf("org %q: no users", o.Name)
		}
		if len(o.Clients) == 0 {
			return fmt.Errorf("org %q: no clients", o.Name)
		}
		seenUser := map[string]bool{}
		for _, u := range o.Users {
			email := strings.ToLower(u.Email)
			if email == "" || !strings.Contains(email, "@") {
				return fmt.Errorf("org %q: user email %q is not an email address", o.Name, u.Email)
			}
			if seenUser[email] {
				return fmt.Errorf("org %q: user %q defined twice", o.Name, u.Email)
			}
			seenUser[email] = true
			if u.Password == "" {
				return fmt.Errorf("org %q: user %q has no password", o.Name, u.Email)
			}
		}
		seenClient := map[string]bool{}
		for _, cl := range o.Clients {
			if cl.ID == "" || cl.Secret == "" {
				return fmt.Errorf("org %q: client needs an id and a secret", o.Name)
			}
			if seenClient[cl.ID] {
				return fmt.Errorf("org %q: client %q defined twice", o.Name, cl.ID)
			}
			seenClient[cl.ID] = true
			if len(cl.RedirectURIs) == 0 {
				return fmt.Errorf("org %q: client %q has no redirect_uris", o.Name, cl.ID)
			}
			for _, r := range cl.RedirectURIs {
				u, err := url.Parse(r)
				if err != nil || u.Scheme == "" || u.Host == "" {
					return fmt.Errorf("org %q: client %q: redirect URI %q is not an absolute URL", o.Name, cl.ID, r)
				}
			}
		}
	}
	return nil
}

func (o *OrgConfig) skipApproval() bool {
	return o.SkipApproval == nil || *o.SkipApproval
}

// userID returns the configured user ID or a stable one derived from the
// org and the (lower-cased) email.
func (o *OrgConfig) userID(u UserConfig) string {
	if u.UserID != "" {
		return u.UserID
	}
	sum := sha256.Sum256([]byte(o.Name + "\x00" + strings.ToLower(u.Email)))
	return hex.EncodeToString(sum[:16])
}
