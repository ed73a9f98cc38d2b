package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/secretstores"
)

// stageCurrent is the staging label of the current version (Secrets
// Manager moves AWSPREVIOUS itself).
const stageCurrent = "AWSCURRENT"

// List returns the metadata of the binding's secrets whose names (relative
// to the prefix) start with prefix, sorted by name. Values are never read.
func (s *Store) List(ctx context.Context, prefix string) ([]secretstores.SecretMeta, error) {
	in := &secretsmanager.ListSecretsInput{}
	if full := s.cfg.Prefix + prefix; full != "" {
		in.Filters = []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{full}}}
	}
	var out []secretstores.SecretMeta
	p := secretsmanager.NewListSecretsPaginator(s.sm, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.fail("listing secrets", err)
		}
		for _, e := range page.SecretList {
			name, ok := strings.CutPrefix(awssdk.ToString(e.Name), s.cfg.Prefix)
			if !ok || !strings.HasPrefix(name, prefix) {
				continue // the filter is a prefix match on words; keep only true prefixes
			}
			out = append(out, secretstores.SecretMeta{
				Name: name, Description: awssdk.ToString(e.Description), Tags: tags(e.Tags),
				CurrentVersion: current(e.SecretVersionsToStages), UpdatedAt: awssdk.ToTime(e.LastChangedDate),
			})
		}
	}
	slices.SortFunc(out, func(a, b secretstores.SecretMeta) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Describe returns one secret's metadata, or ErrNotFound.
func (s *Store) Describe(ctx context.Context, name string) (secretstores.SecretMeta, error) {
	d, err := s.describe(ctx, name)
	if err != nil {
		return secretstores.SecretMeta{}, err
	}
	return secretstores.SecretMeta{
		Name: name, Description: awssdk.ToString(d.Description), Tags: tags(d.Tags),
		CurrentVersion: current(d.VersionIdsToStages), UpdatedAt: awssdk.ToTime(d.LastChangedDate),
	}, nil
}

func (s *Store) describe(ctx context.Context, name string) (*secretsmanager.DescribeSecretOutput, error) {
	full, err := s.full(name)
	if err != nil {
		return nil, err
	}
	d, err := s.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: awssdk.String(full)})
	if err != nil {
		return nil, s.fail("describing secret "+name, err)
	}
	if d.DeletedDate != nil {
		return nil, fmt.Errorf("aws: secret %s is scheduled for deletion: %w", name, secretstores.ErrNotFound)
	}
	return d, nil
}

// Read returns the secret's AWSCURRENT value, or ErrNotFound.
func (s *Store) Read(ctx context.Context, name string) (string, error) {
	return s.read(ctx, name, "")
}

// ReadVersion returns one version's value, or ErrNotFound (also for a
// string that is not a version ID).
func (s *Store) ReadVersion(ctx context.Context, name, version string) (string, error) {
	if len(version) < 32 || len(version) > 64 {
		return "", fmt.Errorf("aws: secret %s has no version %q: %w", name, version, secretstores.ErrNotFound)
	}
	return s.read(ctx, name, version)
}

func (s *Store) read(ctx context.Context, name, version string) (string, error) {
	full, err := s.full(name)
	if err != nil {
		return "", err
	}
	// Naming AWSCURRENT is what AWS does by default; saying it keeps
	// emulators that track a separate default version honest.
	in := &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(full), VersionStage: awssdk.String(stageCurrent)}
	if version != "" {
		in.VersionId, in.VersionStage = awssdk.String(version), nil
	}
	v, err := s.sm.GetSecretValue(ctx, in)
	if err != nil {
		return "", s.fail("reading secret "+name, err)
	}
	if v.SecretString != nil {
		return *v.SecretString, nil
	}
	return string(v.SecretBinary), nil
}

// Write stores value as the new AWSCURRENT version (creating the secret
// when missing); Secrets Manager labels the version it replaces
// AWSPREVIOUS. It returns the new version's ID.
func (s *Store) Write(ctx context.Context, name, value string) (string, error) {
	full, err := s.full(name)
	if err != nil {
		return "", err
	}
	token := uuid.NewString() // idempotency: a retried call writes one version
	out, err := s.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: awssdk.String(full), SecretString: awssdk.String(value), ClientRequestToken: awssdk.String(token),
	})
	if err == nil {
		return awssdk.ToString(out.VersionId), nil
	}
	if err = s.fail("writing secret "+name, err); !errors.Is(err, secretstores.ErrNotFound) {
		return "", err
	}
	created, err := s.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: awssdk.String(full), SecretString: awssdk.String(value), ClientRequestToken: awssdk.String(token),
		Tags: []smtypes.Tag{{Key: awssdk.String("managed-by"), Value: awssdk.String("gatehouse")}},
	})
	if err != nil {
		return "", s.fail("creating secret "+name, err)
	}
	return awssdk.ToString(created.VersionId), nil
}

// Restore moves AWSCURRENT back to version; Secrets Manager labels the
// version it leaves AWSPREVIOUS. It returns ErrNotFound for an unknown
// secret or a version that is no longer kept.
func (s *Store) Restore(ctx context.Context, name, version string) error {
	d, err := s.describe(ctx, name)
	if err != nil {
		return err
	}
	if _, ok := d.VersionIdsToStages[version]; !ok {
		return fmt.Errorf("aws: secret %s keeps no version %q: %w", name, version, secretstores.ErrNotFound)
	}
	cur := current(d.VersionIdsToStages)
	if cur == version {
		return nil
	}
	_, err = s.sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: d.ARN, VersionStage: awssdk.String(stageCurrent),
		MoveToVersionId: awssdk.String(version), RemoveFromVersionId: awssdk.String(cur),
	})
	if err != nil {
		return s.fail("restoring secret "+name, err)
	}
	return nil
}

// current returns the version carrying AWSCURRENT.
func current(stages map[string][]string) string {
	for v, labels := range stages {
		if slices.Contains(labels, stageCurrent) {
			return v
		}
	}
	return ""
}

func tags(in []smtypes.Tag) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for _, t := range in {
		out[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return out
}

// Delete schedules the secret's deletion with Secrets Manager's shortest
// recovery window (7 days: it can be restored until then); a missing or
// already deleted secret is not an error.
func (s *Store) Delete(ctx context.Context, name string) error {
	full, err := s.full(name)
	if err != nil {
		return err
	}
	_, err = s.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: awssdk.String(full), RecoveryWindowInDays: awssdk.Int64(7)})
	if err == nil {
		return nil
	}
	if err = s.fail("deleting secret "+name, err); errors.Is(err, secretstores.ErrNotFound) {
		return nil
	}
	return err
}
