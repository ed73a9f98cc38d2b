package azure

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/secretstores"
)

var _ secretstores.Deleter = (*Store)(nil)

// Delete deletes the secret with every version. Key Vault soft-deletes it:
// the secret stays recoverable for the vault's retention period (7 to 90
// days) and Gatehouse never purges it. Until someone recovers or purges it
// in Key Vault, its name cannot be reused: Write to it fails with
// secretstores.ErrInvalid. A secret that does not exist, or is already
// deleted, is not an error. Delete fails with secretstores.ErrInvalid for
// a bad name (before any request), secretstores.ErrPermission when Key
// Vault refuses Gatehouse's identity (it needs delete on secrets), and
// secretstores.ErrUnavailable when the vault does not answer.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := s.checkName("deleting a secret", name); err != nil {
		return err
	}
	if _, err := s.client.DeleteSecret(ctx, name, nil); err != nil {
		if err := s.fail("deleting secret "+name, err); !errors.Is(err, secretstores.ErrNotFound) {
			return err
		}
	}
	return nil
}
