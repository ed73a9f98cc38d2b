package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gatehouse/gatehouse/audit"
)

// The audit checkpoints' anchor: a KV v2 secret in Gatehouse's own mount,
// to which Gatehouse's policy lets it add versions and read them, never
// delete or destroy them.
const (
	checkpointMount = "gatehouse"
	checkpointPath  = "audit/checkpoints"
)

// WriteCheckpoints adds a version holding cps (every chain's head).
func (c *Client) WriteCheckpoints(ctx context.Context, cps []audit.Checkpoint) error {
	raw, err := json.Marshal(cps)
	if err != nil {
		return err
	}
	if _, err := c.api.KVv2(checkpointMount).Put(ctx, checkpointPath, map[string]any{"checkpoints": string(raw)}); err != nil {
		return fmt.Errorf("writing the audit checkpoints to Vault: %w", err)
	}
	return nil
}

// ReadCheckpoints returns the latest checkpoints written, or none yet.
func (c *Client) ReadCheckpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	s, err := c.api.KVv2(checkpointMount).Get(ctx, checkpointPath)
	if errors.Is(err, vaultapi.ErrSecretNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit checkpoints from Vault: %w", err)
	}
	raw, _ := s.Data["checkpoints"].(string)
	var cps []audit.Checkpoint
	if err := json.Unmarshal([]byte(raw), &cps); err != nil {
		return nil, fmt.Errorf("the audit checkpoints in Vault: %w", err)
	}
	return cps, nil
}
