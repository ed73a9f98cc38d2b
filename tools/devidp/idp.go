package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	gosundheit "github.com/AppsFlyer/go-sundheit"
	"golang.org/x/crypto/bcrypt"

	"github.com/dexidp/dex/server"
	"github.com/dexidp/dex/server/connectors"
	"github.com/dexidp/dex/server/signer"
	"github.com/dexidp/dex/server/tokens"
	"github.com/dexidp/dex/storage"
	"github.com/dexidp/dex/storage/memory"
)

const (
	idTokensValidFor   = time.Hour
	keysRotationPeriod = "24h"
)

// hasher bcrypt-hashes plain-text passwords once each: every user with the
// same demo password shares one hash, which keeps start-up fast.
type hasher map[string][]byte

func (h hasher) hash(password string) ([]byte, error) {
	if isBcryptHash(password) {
		return []byte(password), nil
	}
	if b, ok := h[password]; ok {
		return b, nil
	}
	// Dex rejects hashes below bcrypt.DefaultCost (10) at login.
	b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	h[password] = b
	return b, nil
}

func isBcryptHash(s string) bool {
	if len(s) != 60 || !(strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")) {
		return false
	}
	_, err := bcrypt.Cost([]byte(s))
	return err == nil
}

// newOrgServer builds a real Dex server for one org, with in-memory storage,
// a local RS256 signer, the org's clients and its users in Dex's built-in
// password DB ("local" connector; static passwords carry groups).
// The returned handler serves every path under the issuer's path.
func newOrgServer(ctx context.Context, org OrgConfig, issuer string, h hasher, logger *slog.Logger) (http.Handler, error) {
	var store storage.Storage = memory.New(logger)

	clients := make([]storage.Client, 0, len(org.Clients))
	for _, c := range org.Clients {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		clients = append(clients, storage.Client{
			ID:           c.ID,
			Secret:       c.Secret,
			Name:         name,
			RedirectURIs: c.RedirectURIs,
		})
	}
	store = storage.WithStaticClients(store, clients)

	passwords := make([]storage.Password, 0, len(org.Users))
	for _, u := range org.Users {
		hash, err := h.hash(u.Password)
		if err != nil {
			return nil, fmt.Errorf("hash password of %s: %w", u.Email, err)
		}
		verified := true
		passwords = append(passwords, storage.Password{
			Email:             strings.ToLower(u.Email),
			Hash:              hash,
			Username:          u.Name,
			Name:              u.Name,
			PreferredUsername: strings.ToLower(u.Email),
			EmailVerified:     &verified,
			UserID:            org.userID(u),
			Groups:            append([]string(nil), u.Groups...),
		})
	}
	store = storage.WithStaticPasswords(store, passwords, logger)

	store = storage.WithStaticConnectors(store, []storage.Connector{{
		ID:   connectors.LocalConnector,
		Type: connectors.LocalConnector,
		Name: "Email",
	}})

	localSigner := signer.LocalConfig{KeysRotationPeriod: keysRotationPeriod}
	sig, err := localSigner.Open(ctx, store, idTokensValidFor, time.Now, logger)
	if err != nil {
		return nil, fmt.Errorf("open signer: %w", err)
	}

	refreshPolicy, err := tokens.NewRefreshTokenPolicy(logger, false, "", "", "")
	if err != nil {
		return nil, fmt.Errorf("refresh token policy: %w", err)
	}

	srv, err := server.NewServer(ctx, server.Config{
		Issuer:             issuer,
		Storage:            store,
		SkipApprovalScreen: org.skipApproval(),
		AllowedGrantTypes:  []string{"authorization_code", "refresh_token", "password"},
		// Also enables the resource-owner password grant against the same
		// users, which integration tests may use to get tokens quickly.
		PasswordConnector:  connectors.LocalConnector,
		IDTokensValidFor:   idTokensValidFor,
		RefreshTokenPolicy: refreshPolicy,
		Signer:             sig,
		Logger:             logger,
		HealthChecker:      gosundheit.New(),
		Web: server.WebConfig{
			Issuer: "Gatehouse dev IdP (" + org.Name + ")",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("dex server: %w", err)
	}
	return srv, nil
}
