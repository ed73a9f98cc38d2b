// Package aws is Gatehouse's adapter for AWS Secrets Manager: a binding is
// an account and region, the role Gatehouse assumes there, and a name
// prefix confining Gatehouse to the tenant's secrets. It lists, describes,
// reads and writes secrets, and mints native time-bound credentials for a
// grant: STS sessions of a per-grant IAM role whose policy (and the
// session's own policy) allows exactly the granted actions on exactly the
// granted secret. Values read here go to the caller only, never to logs or
// errors.
package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/secretstores"
)

// Config is one AWS binding.
type Config struct {
	AccountID string // the 12-digit account the binding is for
	Region    string // e.g. eu-west-1
	// RoleARN is the role Gatehouse assumes in the account ("" to act with
	// the base credentials directly).
	RoleARN    string
	ExternalID string // the role's sts:ExternalId condition, if any
	// Prefix confines the binding to secret names under it (e.g.
	// "acme/"); names given to the Store are relative to it.
	Prefix string
	// The base credentials Gatehouse signs with (kept in Vault).
	AccessKeyID, SecretAccessKey string
	// Endpoint overrides the AWS endpoints (moto in tests and dev).
	Endpoint string
	// MaxAttempts bounds the SDK's standard retryer (throttling and 5xx
	// are retried with backoff); 0 keeps the SDK's default of 3.
	MaxAttempts int
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	roleRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	prefixRE  = regexp.MustCompile(`^([A-Za-z0-9_+=.@-]+/)*$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,400}$`)
	idRE      = regexp.MustCompile(`^[A-Za-z0-9-]{1,36}$`)
)

// Validate checks the binding's settings without calling AWS; it returns
// an error wrapping secretstores.ErrInvalid that names the bad setting.
func (c Config) Validate() error {
	switch {
	case !accountRE.MatchString(c.AccountID):
		return fmt.Errorf("%w: account %q is not a 12-digit AWS account ID", secretstores.ErrInvalid, c.AccountID)
	case !regionRE.MatchString(c.Region):
		return fmt.Errorf("%w: region %q is not an AWS region name like eu-west-1", secretstores.ErrInvalid, c.Region)
	case c.RoleARN != "" && !roleRE.MatchString(c.RoleARN):
		return fmt.Errorf("%w: role %q is not an IAM role ARN", secretstores.ErrInvalid, c.RoleARN)
	case c.RoleARN != "" && !strings.Contains(c.RoleARN, "::"+c.AccountID+":"):
		return fmt.Errorf("%w: role %q is not in account %s", secretstores.ErrInvalid, c.RoleARN, c.AccountID)
	case !prefixRE.MatchString(c.Prefix):
		return fmt.Errorf("%w: prefix %q must be path segments each ending in /", secretstores.ErrInvalid, c.Prefix)
	case c.AccessKeyID == "" || c.SecretAccessKey == "":
		return fmt.Errorf("%w: the binding has no base credentials", secretstores.ErrInvalid)
	}
	return nil
}

// Store is one AWS binding: Secrets Manager in one account and region,
// under one name prefix. It implements secretstores.Store and
// secretstores.Granter.
type Store struct {
	cfg  Config
	sm   *secretsmanager.Client
	iam  *iam.Client
	sts  *sts.Client
	base awssdk.Config

	mu  sync.Mutex
	who *identity // filled by self(): Gatehouse's principal in the account
}

type identity struct {
	account string
	arn     string // the principal grant roles trust
}

// New returns the store for cfg. It calls nothing; Check tests the binding.
// It fails only on invalid settings.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := awssdk.Config{
		Region:      cfg.Region,
		Credentials: awssdk.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")),
		Retryer: func() awssdk.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				if cfg.MaxAttempts > 0 {
					o.MaxAttempts = cfg.MaxAttempts
				}
			})
		},
	}
	if cfg.Endpoint != "" {
		base.BaseEndpoint = awssdk.String(cfg.Endpoint)
	}
	acting := base.Copy()
	if cfg.RoleARN != "" {
		acting.Credentials = awssdk.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), cfg.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "gatehouse"
			if cfg.ExternalID != "" {
				o.ExternalID = awssdk.String(cfg.ExternalID)
			}
		}))
	}
	return &Store{cfg: cfg, base: acting, sm: secretsmanager.NewFromConfig(acting), iam: iam.NewFromConfig(acting), sts: sts.NewFromConfig(acting)}, nil
}

// Kind returns secretstores.AWSSecretsManager.
func (s *Store) Kind() secretstores.Kind { return secretstores.AWSSecretsManager }

// Check tests the binding: the credentials (and the role) are accepted,
// they are in the bound account, and Secrets Manager answers in the region.
func (s *Store) Check(ctx context.Context) error {
	who, err := s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return s.fail("checking the credentials", err)
	}
	if a := awssdk.ToString(who.Account); a != s.cfg.AccountID {
		return fmt.Errorf("%w: the credentials belong to account %s, not the bound account %s", secretstores.ErrInvalid, a, s.cfg.AccountID)
	}
	if _, err := s.sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: awssdk.Int32(1)}); err != nil {
		return s.fail("listing secrets", err)
	}
	return nil
}

// fail maps an SDK error to a secretstores error kind, with what was being
// done. The SDK's messages name resources, never secret values.
func (s *Store) fail(doing string, err error) error {
	kind := secretstores.ErrUnavailable
	var ae smithy.APIError
	var ne net.Error
	var re *awshttp.ResponseError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() != "UnknownError":
		switch ae.ErrorCode() {
		case "InvalidRequestException":
			kind = secretstores.ErrInvalid
			if strings.Contains(ae.ErrorMessage(), "delet") {
				kind = secretstores.ErrNotFound // scheduled for deletion: gone for every purpose but recovery
			}
		case "ResourceNotFoundException", "NoSuchEntity":
			kind = secretstores.ErrNotFound
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId",
			"SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "InvalidSignatureException":
			kind = secretstores.ErrPermission
		case "InvalidParameterException", "ValidationException", "ValidationError",
			"MalformedPolicyDocument", "MalformedPolicyDocumentException", "LimitExceededException":
			kind = secretstores.ErrInvalid
		}
		return fmt.Errorf("aws %s in %s: %s: %w (%s)", s.cfg.AccountID, s.cfg.Region, doing, kind, ae.ErrorCode())
	case errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusForbidden || re.HTTPStatusCode() == http.StatusUnauthorized):
		// an error body the SDK could not decode (emulators answer XML)
		return fmt.Errorf("aws %s in %s: %s: %w (HTTP %d)", s.cfg.AccountID, s.cfg.Region, doing, secretstores.ErrPermission, re.HTTPStatusCode())
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("aws %s in %s: %s: %w (the endpoint did not answer: check the region)", s.cfg.AccountID, s.cfg.Region, doing, kind)
	}
	return fmt.Errorf("aws %s in %s: %s: %w", s.cfg.AccountID, s.cfg.Region, doing, kind)
}

// full is the secret's name in AWS: the binding's prefix and name. It
// fails with ErrInvalid for a name AWS would refuse.
func (s *Store) full(name string) (string, error) {
	if !nameRE.MatchString(name) || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: %q is not a Secrets Manager name (letters, digits and /_+=.@-)", secretstores.ErrInvalid, name)
	}
	return s.cfg.Prefix + name, nil
}
