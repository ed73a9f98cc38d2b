// Package gcp is Gatehouse's adapter for GCP Secret Manager: a binding is
// one GCP project, reached with a service account whose JSON key Gatehouse
// keeps in Vault. It lists, describes, reads, writes and deletes the
// project's secrets (Secret Manager deletes permanently). Secret Manager
// mints no native time-bound credentials, so access is brokered: Store does
// not implement secretstores.Granter. Values read here go to the caller
// only, never to logs or errors.
//
// Retries are the client library's own: it retries AccessSecretVersion on
// Unavailable and ResourceExhausted with exponential backoff (from 2s,
// within its 60s call timeout) and retries no other method; this package
// adds no retry loop of its own, and callers may retry ErrUnavailable later.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatehouse/gatehouse/secretstores"
)

var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	versionRE = regexp.MustCompile(`^[1-9][0-9]{0,18}$`)
)

// Store is one GCP binding: Secret Manager in one project. It implements
// secretstores.Store and secretstores.Deleter; access is brokered (no
// secretstores.Granter).
type Store struct {
	project string
	sm      *secretmanager.Client
}

var (
	_ secretstores.Store   = (*Store)(nil)
	_ secretstores.Deleter = (*Store)(nil)
)

// CredentialsJSON returns the client option that authenticates as the
// service account whose JSON key is json (as kept in Vault). It accepts a
// service-account key only: other credential types in json are refused
// when the client is created, so a planted external-account file cannot
// make the client fetch credentials from elsewhere.
func CredentialsJSON(json []byte) option.ClientOption {
	return option.WithAuthCredentialsJSON(option.ServiceAccount, json)
}

// New returns the store for project, connecting with opts (CredentialsJSON
// in production; an endpoint without authentication for a fake). It calls
// no Secret Manager method; Check tests the binding. It fails with
// ErrInvalid for a malformed project ID and otherwise only when the client
// cannot be created (e.g. unusable credentials).
func New(ctx context.Context, project string, opts ...option.ClientOption) (*Store, error) {
	if !projectRE.MatchString(project) {
		return nil, fmt.Errorf("%w: %q is not a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen)", secretstores.ErrInvalid, project)
	}
	sm, err := secretmanager.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcp secret manager project %s: creating the client: %w", project, err)
	}
	return &Store{project: project, sm: sm}, nil
}

// Close closes the client's connections. It returns the client's error.
func (s *Store) Close() error { return s.sm.Close() }

// Kind returns secretstores.GCPSecretManager.
func (s *Store) Kind() secretstores.Kind { return secretstores.GCPSecretManager }

// Check tests the binding by listing one secret in the project: it fails
// with ErrPermission when the credentials are refused or lack
// secretmanager.secrets.list, ErrNotFound or ErrPermission for a project
// that does not exist, and ErrUnavailable when Secret Manager does not
// answer.
func (s *Store) Check(ctx context.Context) error {
	it := s.sm.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: s.parent(), PageSize: 1})
	if _, err := it.Next(); err != nil && !errors.Is(err, iterator.Done) {
		return s.fail("checking the binding: listing secrets", err, "")
	}
	return nil
}

// parent is the project's resource name.
func (s *Store) parent() string { return "projects/" + s.project }

// secretName is a secret's resource name. It fails with ErrInvalid, before
// any call, for a name Secret Manager would refuse as a secret ID.
func (s *Store) secretName(name string) (string, error) {
	if !nameRE.MatchString(name) {
		return "", fmt.Errorf("gcp secret manager project %s: %w: %q is not a secret ID (1-255 letters, digits, _ and -)", s.project, secretstores.ErrInvalid, name)
	}
	return s.parent() + "/secrets/" + name, nil
}

// fail maps a client error to a secretstores error kind by its gRPC code,
// saying what was being done. The status message (which names resources
// and permissions) is kept, with value scrubbed from it should a server
// ever echo it.
func (s *Store) fail(doing string, err error, value string) error {
	kind := secretstores.ErrUnavailable
	code := status.Code(err)
	switch code {
	case codes.NotFound:
		kind = secretstores.ErrNotFound
	case codes.PermissionDenied, codes.Unauthenticated:
		kind = secretstores.ErrPermission
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.OutOfRange, codes.Unimplemented:
		kind = secretstores.ErrInvalid
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Aborted:
		// transient: ErrUnavailable
	}
	detail := err.Error() // not a gRPC status: a context or transport error
	if st, ok := status.FromError(err); ok {
		detail = code.String()
		if msg := st.Message(); msg != "" {
			detail += ": " + msg
		}
	}
	if value != "" {
		detail = strings.ReplaceAll(detail, value, "[redacted]")
	}
	return fmt.Errorf("gcp secret manager project %s: %s: %w (%s)", s.project, doing, kind, detail)
}
