package stores

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"google.golang.org/api/option"

	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/secretstores/aws"
	"github.com/gatehouse/gatehouse/secretstores/azure"
	"github.com/gatehouse/gatehouse/secretstores/gcp"
	"github.com/gatehouse/gatehouse/tenants"
)

// Endpoints are the server's overrides of the cloud endpoints, for
// emulators in development and tests (GATEHOUSE_AWS_ENDPOINT for moto).
// Tenants never set them: a binding cannot point Gatehouse at an
// arbitrary URL.
type Endpoints struct {
	AWS string
	// AzureTransport replaces the HTTP transport of Azure clients (the
	// SDK's fake server in tests).
	AzureTransport policy.Transporter
	// GCP adds client options (the in-process fake's endpoint in tests).
	GCP []option.ClientOption
}

// Adapters returns the Opener building each kind's adapter.
func Adapters(e Endpoints) Opener {
	return func(ctx context.Context, b tenants.CloudBinding, c tenants.StoreCredentials) (secretstores.Store, error) {
		s := b.Settings
		switch b.Kind {
		case tenants.StoreAWS:
			return aws.New(aws.Config{AccountID: s.Account, Region: s.Region, RoleARN: s.RoleARN, ExternalID: s.ExternalID,
				Prefix: s.Prefix, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Endpoint: e.AWS})
		case tenants.StoreAzure:
			cred, err := azure.Credential(s.DirectoryID, s.ClientID, c.ClientSecret)
			if err != nil {
				return nil, err
			}
			var opts *azsecrets.ClientOptions
			if e.AzureTransport != nil {
				opts = &azsecrets.ClientOptions{}
				opts.Transport = e.AzureTransport
			}
			return azure.New(s.VaultURL, cred, opts)
		case tenants.StoreGCP:
			opts := append([]option.ClientOption{}, e.GCP...)
			if len(e.GCP) == 0 {
				opts = append(opts, gcp.CredentialsJSON([]byte(c.ServiceAccountJSON)))
			}
			return gcp.New(ctx, s.Project, opts...)
		}
		return nil, fmt.Errorf("%w: store kind %q", secretstores.ErrInvalid, b.Kind)
	}
}
