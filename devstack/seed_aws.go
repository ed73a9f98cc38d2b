package devstack

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/aws"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/tenants"
)

// DemoAWSSecret is the demo AWS secret of acme (name under its prefix).
const DemoAWSSecret = "payments-api-key"

// SeedAWS gives the demo organization acme an AWS Secrets Manager binding
// on moto (prefix "acme/", signing in with keys), the secret
// DemoAWSSecret in it, and the catalog entry "Payments API key (AWS)"
// that requesters may request with one approval. Run it after Seed; it is
// safe to run again.
func SeedAWS(ctx context.Context, pool *pgxpool.Pool, vc *vault.Client, endpoint string, keys AWSKeys) error {
	cfg := aws.Config{AccountID: MotoAccount, Region: "eu-west-1", Prefix: "acme/", Endpoint: endpoint,
		AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey}
	st, err := aws.New(cfg)
	if err != nil {
		return err
	}
	if _, err := st.Write(ctx, DemoAWSSecret, `{"api_key":"pk_demo_acme_1f9a2c"}`); err != nil {
		return fmt.Errorf("seeding the demo AWS secret: %w", err)
	}
	var tenantID string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = 'acme'").Scan(&tenantID); err != nil {
		return fmt.Errorf("seeding AWS: acme is not seeded: %w", err)
	}
	var bound string
	err = pool.QueryRow(ctx, "SELECT coalesce(max(id::text), '') FROM store_bindings WHERE tenant_id = $1 AND kind = 'aws-secretsmanager'", tenantID).Scan(&bound)
	if err != nil {
		return err
	}
	if bound != "" {
		// moto and dev Vault start empty each time: give the binding the
		// new administrator keys again.
		err := vc.PutKV2(ctx, tenants.GatehouseMount, "stores/"+bound, map[string]any{
			"access_key_id": keys.AccessKeyID, "secret_access_key": keys.SecretAccessKey})
		if err != nil {
			return err
		}
	} else {
		svc := &stores.Service{Bindings: postgres.NewBindingStore(pool, time.Now), Secrets: vc, Open: stores.Adapters(stores.Endpoints{AWS: endpoint})}
		var checkErr string
		bound, checkErr, err = svc.Bind(ctx, tenants.CloudBinding{TenantID: tenantID, Name: "AWS payments", Kind: tenants.StoreAWS,
			Settings: tenants.StoreSettings{Account: cfg.AccountID, Region: cfg.Region, Prefix: cfg.Prefix}},
			tenants.StoreCredentials{AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey}, "seed", audit.Meta{})
		if err != nil || checkErr != "" {
			return fmt.Errorf("binding acme's AWS store: %v %s", err, checkErr)
		}
	}
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		return err
	}
	_, err = postgres.NewRequestStore(pool, inserter, time.Now).AddResource(ctx, tenantID, approvals.Resource{
		Name: "Payments API key (AWS)", Description: "The payment provider's API key, in AWS Secrets Manager.", OwnerTeam: "payments",
		Classification: approvals.High, BindingID: bound, Path: DemoAWSSecret,
		Policy: approvals.Policy{
			Requesters:      approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
			Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1}},
			DefaultDuration: time.Hour, MaxDuration: 4 * time.Hour, JustificationMin: 10,
			Levels: []approvals.Level{approvals.Read}, PendingTimeout: 24 * time.Hour,
		}}, "seed", audit.Meta{})
	if err != nil && apperr.CodeOf(err) != apperr.Conflict {
		return fmt.Errorf("seeding the AWS resource: %w", err)
	}
	return nil
}
