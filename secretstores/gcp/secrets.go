package gcp

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatehouse/gatehouse/secretstores"
)

// List returns the metadata of the project's secrets whose IDs start with
// prefix, sorted by name. The prefix is matched here, not by a server
// filter. Entries carry the name, description and tags; CurrentVersion and
// UpdatedAt are left empty (they would cost a call per secret: use
// Describe). Values are never read.
func (s *Store) List(ctx context.Context, prefix string) ([]secretstores.SecretMeta, error) {
	var out []secretstores.SecretMeta
	it := s.sm.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: s.parent()})
	for {
		sec, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, s.fail("listing secrets", err, "")
		}
		if name := path.Base(sec.GetName()); strings.HasPrefix(name, prefix) {
			out = append(out, meta(name, sec))
		}
	}
	slices.SortFunc(out, func(a, b secretstores.SecretMeta) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Describe returns one secret's metadata: Description from its
// "description" annotation (or label), Tags its labels, CurrentVersion the
// newest enabled version (what "latest" resolves to; "" when none is
// enabled) and UpdatedAt when that version was added. It reads version
// metadata only, never a value. It fails with ErrNotFound for a missing
// secret.
func (s *Store) Describe(ctx context.Context, name string) (secretstores.SecretMeta, error) {
	full, err := s.secretName(name)
	if err != nil {
		return secretstores.SecretMeta{}, err
	}
	sec, err := s.sm.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: full})
	if err != nil {
		return secretstores.SecretMeta{}, s.fail("describing secret "+name, err, "")
	}
	m := meta(name, sec)
	newest := int64(0)
	it := s.sm.ListSecretVersions(ctx, &secretmanagerpb.ListSecretVersionsRequest{Parent: full})
	for {
		v, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return secretstores.SecretMeta{}, s.fail("listing the versions of secret "+name, err, "")
		}
		n, err := strconv.ParseInt(path.Base(v.GetName()), 10, 64)
		if err != nil || v.GetState() != secretmanagerpb.SecretVersion_ENABLED || n <= newest {
			continue
		}
		newest, m.CurrentVersion = n, strconv.FormatInt(n, 10)
		m.UpdatedAt = time.Time{}
		if v.GetCreateTime() != nil {
			m.UpdatedAt = v.GetCreateTime().AsTime()
		}
	}
	return m, nil
}

// Read returns the value of the secret's newest enabled version ("latest"),
// or ErrNotFound for a missing secret or one with no enabled version.
func (s *Store) Read(ctx context.Context, name string) (string, error) {
	return s.access(ctx, name, "latest")
}

// ReadVersion returns the value of one version, or ErrNotFound for a
// missing secret or version, including a version that is not a version
// number (GCP numbers versions 1, 2, 3...; aliases such as "latest" are
// not accepted here). A disabled or destroyed version gives ErrInvalid.
func (s *Store) ReadVersion(ctx context.Context, name, version string) (string, error) {
	if err := s.checkVersion(name, version); err != nil {
		return "", err
	}
	return s.access(ctx, name, version)
}

// Write adds value as a new version, which becomes "latest", creating the
// secret (automatic replication, label managed-by=gatehouse) when it does
// not exist; earlier versions stay readable. It returns the new version's
// number. It fails with ErrInvalid for a name Secret Manager refuses,
// before any call.
func (s *Store) Write(ctx context.Context, name, value string) (string, error) {
	full, err := s.secretName(name)
	if err != nil {
		return "", err
	}
	v, err := s.add(ctx, "writing secret "+name, full, value)
	if !errors.Is(err, secretstores.ErrNotFound) {
		return v, err
	}
	_, err = s.sm.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent: s.parent(), SecretId: name,
		Secret: &secretmanagerpb.Secret{
			Replication: &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}},
			Labels:      map[string]string{"managed-by": "gatehouse"},
		},
	})
	if err != nil && status.Code(err) != codes.AlreadyExists { // created meanwhile: fine
		return "", s.fail("creating secret "+name, err, "")
	}
	return s.add(ctx, "writing secret "+name, full, value)
}

// Restore makes version current again. Secret Manager's "latest" is always
// the newest version and cannot be moved, so Restore reads version and
// adds its value again as a new version. It fails with ErrNotFound for a
// missing secret or version (also for one that is not a version number)
// and ErrInvalid for a disabled or destroyed version.
func (s *Store) Restore(ctx context.Context, name, version string) error {
	if err := s.checkVersion(name, version); err != nil {
		return err
	}
	value, err := s.access(ctx, name, version)
	if err != nil {
		return err
	}
	full, _ := s.secretName(name) // checked by access
	_, err = s.add(ctx, "restoring version "+version+" of secret "+name, full, value)
	return err
}

// Delete deletes the secret with every version, permanently: Secret
// Manager keeps nothing to recover, and the name can be used again at once.
// A missing secret is not an error. It fails with ErrInvalid, before any
// call, for a name Secret Manager would refuse, ErrPermission when the
// credentials are refused or lack secretmanager.secrets.delete, and
// ErrUnavailable when Secret Manager does not answer (the client library
// does not retry DeleteSecret).
func (s *Store) Delete(ctx context.Context, name string) error {
	full, err := s.secretName(name)
	if err != nil {
		return err
	}
	err = s.sm.DeleteSecret(ctx, &secretmanagerpb.DeleteSecretRequest{Name: full})
	if err != nil && status.Code(err) != codes.NotFound {
		return s.fail("deleting secret "+name, err, "")
	}
	return nil
}

// access returns the value of version (a number or "latest"), checking the
// payload's checksum when Secret Manager sends one.
func (s *Store) access(ctx context.Context, name, version string) (string, error) {
	full, err := s.secretName(name)
	if err != nil {
		return "", err
	}
	r, err := s.sm.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: full + "/versions/" + version})
	if err != nil {
		return "", s.fail(fmt.Sprintf("reading version %s of secret %s", version, name), err, "")
	}
	p := r.GetPayload()
	if p.DataCrc32C != nil && p.GetDataCrc32C() != checksum(p.GetData()) {
		return "", fmt.Errorf("gcp secret manager project %s: reading version %s of secret %s: %w (the payload's checksum does not match)", s.project, version, name, secretstores.ErrUnavailable)
	}
	return string(p.GetData()), nil
}

// add adds value as a new version of the secret full and returns its number.
func (s *Store) add(ctx context.Context, doing, full, value string) (string, error) {
	data := []byte(value)
	sum := checksum(data)
	v, err := s.sm.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{
		Parent: full, Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &sum},
	})
	if err != nil {
		return "", s.fail(doing, err, value)
	}
	return path.Base(v.GetName()), nil
}

// checkVersion fails with ErrNotFound for a version that is not a version
// number, so that no alias or path is ever sent.
func (s *Store) checkVersion(name, version string) error {
	if _, err := s.secretName(name); err != nil {
		return err
	}
	if !versionRE.MatchString(version) {
		return fmt.Errorf("gcp secret manager project %s: secret %s has no version %q: %w", s.project, name, version, secretstores.ErrNotFound)
	}
	return nil
}

// meta is a secret's metadata without version details.
func meta(name string, sec *secretmanagerpb.Secret) secretstores.SecretMeta {
	m := secretstores.SecretMeta{Name: name, Description: sec.GetAnnotations()["description"]}
	if m.Description == "" {
		m.Description = sec.GetLabels()["description"]
	}
	if len(sec.GetLabels()) > 0 {
		m.Tags = maps.Clone(sec.GetLabels())
	}
	return m
}

func checksum(b []byte) int64 { return int64(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))) }
