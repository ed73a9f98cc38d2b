package aws_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/secretstores/aws"
	"github.com/gatehouse/gatehouse/secretstores/storetest"
)

// The tests run against a real moto_server with IAM enforced.
var (
	moto   *devstack.Moto
	admin  devstack.AWSKeys
	serial atomic.Int64
)

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var err error
	moto, err = devstack.StartMoto(ctx, 0, io.Discard)
	if err == nil {
		admin, err = moto.EnforceIAM(ctx)
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "moto did not start:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Proc.Stop()
	os.Exit(code)
}

// binding returns a config over a fresh prefix of moto's account.
func binding() aws.Config {
	return aws.Config{
		AccountID: devstack.MotoAccount, Region: "eu-west-1", Endpoint: moto.Endpoint,
		Prefix:      fmt.Sprintf("t%d/", serial.Add(1)),
		AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey,
	}
}

func newStore(t *testing.T, cfg aws.Config) *aws.Store {
	t.Helper()
	s, err := aws.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) secretstores.Store { return newStore(t, binding()) })
}

func TestBadBindingsGetClearErrors(t *testing.T) {
	ctx := context.Background()
	cfg := binding()
	cfg.Region = "europe"
	if _, err := aws.New(cfg); !errors.Is(err, secretstores.ErrInvalid) || !strings.Contains(err.Error(), "region") {
		t.Errorf("bad region: got %v", err)
	}
	cfg = binding()
	cfg.RoleARN = "arn:aws:iam::999999999999:role/x"
	if _, err := aws.New(cfg); !errors.Is(err, secretstores.ErrInvalid) {
		t.Errorf("role in another account: got %v", err)
	}
	cfg = binding()
	cfg.AccountID = "111111111111"
	if err := newStore(t, cfg).Check(ctx); !errors.Is(err, secretstores.ErrInvalid) || !strings.Contains(err.Error(), "not the bound account") {
		t.Errorf("wrong account: got %v", err)
	}
	cfg = binding()
	cfg.AccessKeyID, cfg.SecretAccessKey = "AKIAWRONGWRONGWRONG1", "wrong"
	cfg.MaxAttempts = 1
	err := newStore(t, cfg).Check(ctx)
	if !errors.Is(err, secretstores.ErrPermission) {
		t.Errorf("unknown keys: got %v, want ErrPermission", err)
	}
	cfg = binding()
	cfg.Endpoint = "http://127.0.0.1:1"
	cfg.MaxAttempts = 1
	if err := newStore(t, cfg).Check(ctx); !errors.Is(err, secretstores.ErrUnavailable) {
		t.Errorf("no endpoint: got %v, want ErrUnavailable", err)
	}
}

// client returns a Secrets Manager client signing with the credential.
func client(c secretstores.Credential) *secretsmanager.Client {
	f := map[string]string{}
	for _, x := range c.Fields {
		f[x.Name] = x.Value
	}
	return secretsmanager.NewFromConfig(awssdk.Config{
		Region: f["AWS_REGION"], BaseEndpoint: awssdk.String(moto.Endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(f["AWS_ACCESS_KEY_ID"], f["AWS_SECRET_ACCESS_KEY"], f["AWS_SESSION_TOKEN"]),
		RetryMaxAttempts: 1,
	})
}

func readAs(ctx context.Context, c *secretsmanager.Client, id string) error {
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(id)})
	return err
}

// The session credentials of a grant read exactly the granted secret:
// not another one, not a write; after revocation, nothing, verified.
func TestGrantCredentialsReadExactlyTheSecretUntilRevoked(t *testing.T) {
	for _, viaRole := range []bool{false, true} {
		t.Run(fmt.Sprintf("binding role %v", viaRole), func(t *testing.T) {
			ctx := context.Background()
			cfg := binding()
			if viaRole {
				cfg.RoleARN = bindingRole(ctx, t)
			}
			s := newStore(t, cfg)
			if err := s.Check(ctx); err != nil {
				t.Fatalf("Check: %v", err)
			}
			mustWrite(ctx, t, s, "db", "value-of-db")
			mustWrite(ctx, t, s, "other", "value-of-other")
			g := secretstores.GrantSpec{GrantID: fmt.Sprintf("g-%d", serial.Add(1)), Tenant: "acme", Subject: "alice", Name: "db", TTL: time.Hour}
			if err := s.PrepareGrant(ctx, g); err != nil {
				t.Fatalf("PrepareGrant: %v", err)
			}
			if err := s.PrepareGrant(ctx, g); err != nil {
				t.Fatalf("PrepareGrant again: %v", err)
			}
			cred, err := s.MintCredential(ctx, g, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatalf("MintCredential: %v", err)
			}
			if len(cred.Fields) != 4 || cred.ExpiresAt.Before(time.Now().Add(50*time.Minute)) {
				t.Fatalf("credential: %d fields, expires %s", len(cred.Fields), cred.ExpiresAt)
			}
			c := client(cred)
			if err := readAs(ctx, c, cfg.Prefix+"db"); err != nil {
				t.Fatalf("the grant cannot read its secret: %v", err)
			}
			if err := readAs(ctx, c, cfg.Prefix+"other"); !isDenied(err) {
				t.Errorf("reading another secret: got %v, want access denied", err)
			}
			_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: awssdk.String(cfg.Prefix + "db"), SecretString: awssdk.String("x")})
			if !isDenied(err) {
				t.Errorf("a read grant writing: got %v, want access denied", err)
			}
			if err := s.VerifyGrantDead(ctx, g.GrantID); err == nil {
				t.Fatal("VerifyGrantDead passed for a live grant")
			}
			if err := s.RevokeGrant(ctx, g.GrantID); err != nil {
				t.Fatalf("RevokeGrant: %v", err)
			}
			if err := s.VerifyGrantDead(ctx, g.GrantID); err != nil {
				t.Fatalf("VerifyGrantDead after revoke: %v", err)
			}
			if err := readAs(ctx, c, cfg.Prefix+"db"); err == nil {
				t.Error("the revoked session still reads the secret")
			}
			if err := s.RevokeGrant(ctx, g.GrantID); err != nil {
				t.Errorf("RevokeGrant again: %v", err)
			}
		})
	}
}

func TestShortGrantsAreBrokered(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, binding())
	mustWrite(ctx, t, s, "db", "v")
	g := secretstores.GrantSpec{GrantID: fmt.Sprintf("g-%d", serial.Add(1)), Tenant: "acme", Subject: "alice", Name: "db", TTL: 10 * time.Minute}
	if err := s.PrepareGrant(ctx, g); err != nil {
		t.Fatalf("PrepareGrant: %v", err)
	}
	t.Cleanup(func() { _ = s.RevokeGrant(ctx, g.GrantID) })
	if _, err := s.MintCredential(ctx, g, time.Now().Add(10*time.Minute)); !errors.Is(err, secretstores.ErrBrokered) {
		t.Fatalf("a 10-minute grant: got %v, want ErrBrokered", err)
	}
}

func TestGrantOnAMissingSecretIsNotFound(t *testing.T) {
	s := newStore(t, binding())
	g := secretstores.GrantSpec{GrantID: "g-missing", Tenant: "acme", Subject: "alice", Name: "nope", TTL: time.Hour}
	if err := s.PrepareGrant(context.Background(), g); !errors.Is(err, secretstores.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

// bindingRole creates a role trusting the admin user, allowed everything
// (the tenant's role for Gatehouse), and returns its ARN.
func bindingRole(ctx context.Context, t *testing.T) string {
	t.Helper()
	c := iam.NewFromConfig(awssdk.Config{Region: "us-east-1", BaseEndpoint: awssdk.String(moto.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, "")})
	name := fmt.Sprintf("gatehouse-binding-%d", serial.Add(1))
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/gatehouse-admin"},"Action":"sts:AssumeRole"}]}`, devstack.MotoAccount)
	r, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: awssdk.String(name), AssumeRolePolicyDocument: awssdk.String(trust)})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	all := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: awssdk.String(name), PolicyName: awssdk.String("all"), PolicyDocument: awssdk.String(all)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	return awssdk.ToString(r.Role.Arn)
}

// isDenied reports whether AWS answered 403 (moto answers its AccessDenied
// in XML, which the JSON protocol's decoder cannot read).
func isDenied(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
}

func mustWrite(ctx context.Context, t *testing.T, s secretstores.Store, name, value string) {
	t.Helper()
	if _, err := s.Write(ctx, name, value); err != nil {
		t.Fatalf("Write %s: %v", name, err)
	}
}

// Throttling is retried with the SDK's backoff: a proxy answers the first
// two calls with ThrottlingException, then passes calls to moto.
func TestThrottlingIsRetried(t *testing.T) {
	target, _ := url.Parse(moto.Endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := binding()
	cfg.Endpoint = srv.URL
	s := newStore(t, cfg)
	if _, err := s.Write(context.Background(), "throttled", "v"); err != nil {
		t.Fatalf("Write through throttling: %v", err)
	}
	if calls.Load() < 3 {
		t.Fatalf("%d calls: the throttled ones were not retried", calls.Load())
	}
	cfg.MaxAttempts = 1
	calls.Store(0)
	if _, err := newStore(t, cfg).Read(context.Background(), "throttled"); !errors.Is(err, secretstores.ErrUnavailable) {
		t.Fatalf("throttled with no retries left: got %v, want ErrUnavailable", err)
	}
}
