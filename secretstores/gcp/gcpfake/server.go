// Package gcpfake is an in-memory GCP Secret Manager served over gRPC, for
// tests of the gcp adapter. It exists because no Secret Manager emulator can
// be had here (Google ships none, and tests must not reach GCP): it keeps
// secrets and numbered versions as Secret Manager does, answers with the
// same gRPC status codes for the calls the adapter makes, and lets a test
// inject faults. Methods it does not implement answer Unimplemented.
package gcpfake

import (
	"context"
	"fmt"
	"hash/crc32"
	"net"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DefaultPageSize is the page size of the List calls when the request gives
// none. It is small so that callers' paging is exercised.
const DefaultPageSize = 10

// maxPayload is Secret Manager's limit on a version's payload (64 KiB).
const maxPayload = 64 << 10

var (
	parentRE  = regexp.MustCompile(`^projects/[^/]+$`)
	secretRE  = regexp.MustCompile(`^(projects/[^/]+)/secrets/([^/]+)$`)
	versionRE = regexp.MustCompile(`^(projects/[^/]+/secrets/[^/]+)/versions/([^/]+)$`)
	idRE      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	castagoli = crc32.MakeTable(crc32.Castagnoli)
)

// Server is the fake Secret Manager. The zero value is not ready; use New
// or Start. It is safe for concurrent use.
type Server struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	mu      sync.Mutex
	fail    func(method string) error
	calls   map[string]int
	secrets map[string]*secret // by full name: projects/<p>/secrets/<id>
	order   []string           // full names in creation order
}

type secret struct {
	meta     *secretmanagerpb.Secret
	versions []*version // versions[i] is version i+1
}

type version struct {
	meta *secretmanagerpb.SecretVersion
	data []byte
}

// New returns an empty fake; serve it with Serve.
func New() *Server {
	return &Server{calls: map[string]int{}, secrets: map[string]*secret{}}
}

// Serve serves the fake on lis until the listener is closed. It returns
// the gRPC server's error.
func (s *Server) Serve(lis net.Listener) error {
	g := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(g, s)
	return g.Serve(lis)
}

// Start serves a new fake on an in-process listener until the test ends and
// returns it with the client options that connect a Secret Manager client
// to it (no TLS, no authentication). It fails the test if it cannot start.
func Start(t testing.TB) (*Server, []option.ClientOption) {
	t.Helper()
	s := New()
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(g, s)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return s, []option.ClientOption{
		option.WithEndpoint("passthrough:///gcpfake"),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithGRPCDialOption(grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return lis.DialContext(ctx)
		})),
	}
}

// SetFail installs a fault hook: every call first asks fail with the
// method's name (e.g. "AccessSecretVersion") and, when it returns an error,
// answers with that error instead (use status.Error for a gRPC code). Nil
// removes the hook. The hook runs without the server's lock held.
func (s *Server) SetFail(fail func(method string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// Calls returns how many calls of method the fake has received, failed
// ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// enter counts a call and runs the fault hook; on success it returns with
// the lock held and the caller must unlock.
func (s *Server) enter(method string) error {
	s.mu.Lock()
	s.calls[method]++
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		if err := fail(method); err != nil {
			return err
		}
	}
	s.mu.Lock()
	return nil
}

// ListSecrets lists the project's secrets in creation order, a page at a
// time. Filters are not implemented (Unimplemented).
func (s *Server) ListSecrets(_ context.Context, req *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	if err := s.enter("ListSecrets"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if !parentRE.MatchString(req.GetParent()) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	if req.GetFilter() != "" {
		return nil, status.Error(codes.Unimplemented, "gcpfake does not implement list filters")
	}
	var all []*secretmanagerpb.Secret
	for _, n := range s.order {
		if m := secretRE.FindStringSubmatch(n); m[1] == req.GetParent() {
			all = append(all, proto.Clone(s.secrets[n].meta).(*secretmanagerpb.Secret))
		}
	}
	page, next, err := paginate(len(all), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &secretmanagerpb.ListSecretsResponse{Secrets: all[page[0]:page[1]], NextPageToken: next, TotalSize: int32(len(all))}, nil
}

// CreateSecret creates a secret with no versions. It answers AlreadyExists
// for a duplicate, InvalidArgument for a bad ID or no replication.
func (s *Server) CreateSecret(_ context.Context, req *secretmanagerpb.CreateSecretRequest) (*secretmanagerpb.Secret, error) {
	if err := s.enter("CreateSecret"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	switch {
	case !parentRE.MatchString(req.GetParent()):
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	case !idRE.MatchString(req.GetSecretId()):
		return nil, status.Errorf(codes.InvalidArgument, "invalid secret ID %q: 1-255 of [A-Za-z0-9_-]", req.GetSecretId())
	case req.GetSecret().GetReplication().GetReplication() == nil:
		return nil, status.Error(codes.InvalidArgument, "secret.replication is required")
	}
	name := req.GetParent() + "/secrets/" + req.GetSecretId()
	if _, ok := s.secrets[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Secret [%s] already exists.", name)
	}
	meta := proto.Clone(req.GetSecret()).(*secretmanagerpb.Secret)
	meta.Name = name
	meta.CreateTime = timestamppb.Now()
	s.secrets[name] = &secret{meta: meta}
	s.order = append(s.order, name)
	return proto.Clone(meta).(*secretmanagerpb.Secret), nil
}

// GetSecret returns a secret's metadata, or NotFound.
func (s *Server) GetSecret(_ context.Context, req *secretmanagerpb.GetSecretRequest) (*secretmanagerpb.Secret, error) {
	if err := s.enter("GetSecret"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sec, err := s.secret(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(sec.meta).(*secretmanagerpb.Secret), nil
}

// DeleteSecret deletes a secret and all its versions for good, as Secret
// Manager does: nothing is kept to recover, every later call on it (or a
// version) answers NotFound, and its ID can be created again at once,
// starting again from version 1. It answers NotFound for a missing secret.
// Etags are not implemented (Unimplemented).
func (s *Server) DeleteSecret(_ context.Context, req *secretmanagerpb.DeleteSecretRequest) (*emptypb.Empty, error) {
	if err := s.enter("DeleteSecret"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if _, err := s.secret(req.GetName()); err != nil {
		return nil, err
	}
	if req.GetEtag() != "" {
		return nil, status.Error(codes.Unimplemented, "gcpfake does not implement etags")
	}
	delete(s.secrets, req.GetName())
	for i, n := range s.order {
		if n == req.GetName() {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return &emptypb.Empty{}, nil
}

// AddSecretVersion adds an enabled version numbered one more than the last.
// It answers NotFound for a missing secret and InvalidArgument for a
// missing or oversized payload or a wrong checksum.
func (s *Server) AddSecretVersion(_ context.Context, req *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	if err := s.enter("AddSecretVersion"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sec, err := s.secret(req.GetParent())
	if err != nil {
		return nil, err
	}
	p := req.GetPayload()
	switch {
	case p == nil:
		return nil, status.Error(codes.InvalidArgument, "payload is required")
	case len(p.GetData()) > maxPayload:
		return nil, status.Errorf(codes.InvalidArgument, "payload is %d bytes, more than %d", len(p.GetData()), maxPayload)
	case p.DataCrc32C != nil && p.GetDataCrc32C() != checksum(p.GetData()):
		return nil, status.Error(codes.InvalidArgument, "payload checksum mismatch")
	}
	meta := &secretmanagerpb.SecretVersion{
		Name:                           fmt.Sprintf("%s/versions/%d", req.GetParent(), len(sec.versions)+1),
		CreateTime:                     timestamppb.Now(),
		State:                          secretmanagerpb.SecretVersion_ENABLED,
		ClientSpecifiedPayloadChecksum: p.DataCrc32C != nil,
	}
	sec.versions = append(sec.versions, &version{meta: meta, data: append([]byte(nil), p.GetData()...)})
	return proto.Clone(meta).(*secretmanagerpb.SecretVersion), nil
}

// AccessSecretVersion returns a version's payload ("latest" is the newest
// enabled version). It answers NotFound for an unknown secret or version
// and FailedPrecondition for a disabled or destroyed one.
func (s *Server) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	if err := s.enter("AccessSecretVersion"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	v, err := s.version(req.GetName())
	if err != nil {
		return nil, err
	}
	if st := v.meta.GetState(); st != secretmanagerpb.SecretVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state.", v.meta.GetName(), st)
	}
	sum := checksum(v.data)
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    v.meta.GetName(),
		Payload: &secretmanagerpb.SecretPayload{Data: append([]byte(nil), v.data...), DataCrc32C: &sum},
	}, nil
}

// ListSecretVersions lists a secret's versions, newest first, a page at a
// time (metadata only), or answers NotFound. Filters are not implemented.
func (s *Server) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	if err := s.enter("ListSecretVersions"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sec, err := s.secret(req.GetParent())
	if err != nil {
		return nil, err
	}
	if req.GetFilter() != "" {
		return nil, status.Error(codes.Unimplemented, "gcpfake does not implement list filters")
	}
	all := make([]*secretmanagerpb.SecretVersion, 0, len(sec.versions))
	for i := len(sec.versions) - 1; i >= 0; i-- {
		all = append(all, proto.Clone(sec.versions[i].meta).(*secretmanagerpb.SecretVersion))
	}
	page, next, err := paginate(len(all), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &secretmanagerpb.ListSecretVersionsResponse{Versions: all[page[0]:page[1]], NextPageToken: next, TotalSize: int32(len(all))}, nil
}

// GetSecretVersion returns a version's metadata ("latest" is the newest
// enabled version), or NotFound.
func (s *Server) GetSecretVersion(_ context.Context, req *secretmanagerpb.GetSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	if err := s.enter("GetSecretVersion"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	v, err := s.version(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(v.meta).(*secretmanagerpb.SecretVersion), nil
}

// DisableSecretVersion disables a version, or answers NotFound (unknown)
// or FailedPrecondition (destroyed).
func (s *Server) DisableSecretVersion(_ context.Context, req *secretmanagerpb.DisableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	if err := s.enter("DisableSecretVersion"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if m := versionRE.FindStringSubmatch(req.GetName()); m != nil && m[2] == "latest" {
		return nil, status.Error(codes.InvalidArgument, "an alias cannot be disabled; name a version number")
	}
	v, err := s.version(req.GetName())
	if err != nil {
		return nil, err
	}
	if v.meta.GetState() == secretmanagerpb.SecretVersion_DESTROYED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is destroyed.", v.meta.GetName())
	}
	v.meta.State = secretmanagerpb.SecretVersion_DISABLED
	return proto.Clone(v.meta).(*secretmanagerpb.SecretVersion), nil
}

// secret finds a secret by full name; the caller holds the lock.
func (s *Server) secret(name string) (*secret, error) {
	if !secretRE.MatchString(name) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid secret name %q", name)
	}
	sec, ok := s.secrets[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", name)
	}
	return sec, nil
}

// version finds a version by full name, resolving "latest" to the newest
// enabled version; the caller holds the lock.
func (s *Server) version(name string) (*version, error) {
	m := versionRE.FindStringSubmatch(name)
	if m == nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid secret version name %q", name)
	}
	sec, err := s.secret(m[1])
	if err != nil {
		return nil, err
	}
	if m[2] == "latest" {
		for i := len(sec.versions) - 1; i >= 0; i-- {
			if sec.versions[i].meta.GetState() == secretmanagerpb.SecretVersion_ENABLED {
				return sec.versions[i], nil
			}
		}
		return nil, status.Errorf(codes.NotFound, "Secret [%s] has no enabled versions.", m[1])
	}
	n, err := strconv.Atoi(m[2])
	if err != nil || n < 1 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid version %q: a positive number or \"latest\"", m[2])
	}
	if n > len(sec.versions) {
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
	}
	return sec.versions[n-1], nil
}

// paginate returns the [start, end) of the page that token (an offset)
// begins, and the next page's token ("" after the last).
func paginate(total int, size int32, token string) ([2]int, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > total {
			return [2]int{}, "", status.Errorf(codes.InvalidArgument, "invalid page token %q", token)
		}
		start = n
	}
	if size < 0 {
		return [2]int{}, "", status.Errorf(codes.InvalidArgument, "invalid page size %d", size)
	}
	if size == 0 {
		size = DefaultPageSize
	}
	end := min(start+int(size), total)
	next := ""
	if end < total {
		next = strconv.Itoa(end)
	}
	return [2]int{start, end}, next, nil
}

func checksum(b []byte) int64 { return int64(crc32.Checksum(b, castagoli)) }
