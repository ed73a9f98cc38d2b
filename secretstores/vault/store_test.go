package vault_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/secretstores/storetest"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

var mounts atomic.Int64

// The contract runs with Gatehouse's least-privilege token, on a fresh
// tenant mount per case.
func TestStoreContract(t *testing.T) {
	c, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) secretstores.Store {
		mount := fmt.Sprintf("tenant-contract-%d", mounts.Add(1))
		if err := c.EnsureKV2Mount(context.Background(), mount, "contract"); err != nil {
			t.Fatal(err)
		}
		return c.Store(mount, "contract")
	})
}
