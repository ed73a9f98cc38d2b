package jobs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/access"
	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/secretstores/aws"
	"github.com/gatehouse/gatehouse/secretstores/gcp"
	"github.com/gatehouse/gatehouse/secretstores/gcp/gcpfake"
	"github.com/gatehouse/gatehouse/secretstores/vault"
	"github.com/gatehouse/gatehouse/stores"
	"github.com/gatehouse/gatehouse/tenants"
)

// awsWorld is the world plus an AWS binding on moto holding "orders" and
// "other" under its prefix, and a cloud resource on "orders".
type awsWorld struct {
	world
	clouds   *stores.Service
	backends app.Backends
	binding  string
	resource string
	prefix   string
}

const awsValue = "aws-orders-value-5c1e"

func newAWSWorld(t *testing.T, mount string) awsWorld {
	t.Helper()
	ctx := context.Background()
	w, _ := newWorld(t, mount, time.Now)
	a := awsWorld{world: w, prefix: mount + "/"}
	admin := tenants.StoreCredentials{AccessKeyID: stack.AWSAdmin.AccessKeyID, SecretAccessKey: stack.AWSAdmin.SecretAccessKey}
	seed, err := aws.New(aws.Config{AccountID: devstack.MotoAccount, Region: "eu-west-1", Prefix: a.prefix, Endpoint: stack.Moto.Endpoint,
		AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"orders": awsValue, "other": "aws-other-value"} {
		if _, err := seed.Write(ctx, name, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.vault.EnsureKV2Mount(ctx, "gatehouse", "Gatehouse's own secrets"); err != nil {
		t.Fatal(err)
	}
	bindings := postgres.NewBindingStore(w.pool, time.Now)
	a.clouds = &stores.Service{Bindings: bindings, Replicas: bindings, Secrets: w.vault, Audit: postgres.NewIdentityStore(w.pool, time.Now),
		Open: stores.Adapters(stores.Endpoints{AWS: stack.Moto.Endpoint})}
	a.backends = app.Backends{Client: w.vault, Service: a.clouds}
	var checkErr string
	a.binding, checkErr, err = a.clouds.Bind(ctx, tenants.CloudBinding{TenantID: w.tenant, Name: "AWS prod", Kind: tenants.StoreAWS,
		Settings: tenants.StoreSettings{Account: devstack.MotoAccount, Region: "eu-west-1", Prefix: a.prefix}}, admin, "admin", audit.Meta{})
	if err != nil || checkErr != "" {
		t.Fatalf("Bind: %v; connection test: %q", err, checkErr)
	}
	a.resource, err = w.store.AddResource(ctx, w.tenant, approvals.Resource{Name: "Orders (AWS)", Classification: approvals.High,
		BindingID: a.binding, Path: "orders", Policy: approvals.Policy{
			Requesters:      approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
			Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1}},
			DefaultDuration: time.Hour, MaxDuration: 2 * time.Hour, Levels: []approvals.Level{approvals.Read}, PendingTimeout: time.Hour,
		}}, "admin", audit.Meta{})
	if err != nil {
		t.Fatalf("AddResource: %v", err)
	}
	return a
}

// approve submits and approves a request on the AWS resource.
func (a awsWorld) approve(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	req, err := a.store.Submit(ctx, a.tenant, a.resource, approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}},
		approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.Decide(ctx, a.tenant, req, approvals.Person{Subject: "a1", Roles: []tenants.Role{tenants.RoleApprover}}, true, "", 0, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	return req
}

func sessionClient(c secretstores.Credential) *secretsmanager.Client {
	f := map[string]string{}
	for _, x := range c.Fields {
		f[x.Name] = x.Value
	}
	return secretsmanager.NewFromConfig(awssdk.Config{Region: f["AWS_REGION"], BaseEndpoint: awssdk.String(stack.Moto.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(f["AWS_ACCESS_KEY_ID"], f["AWS_SECRET_ACCESS_KEY"], f["AWS_SESSION_TOKEN"])})
}

// A JIT grant on an AWS secret: approved, issued (the per-grant role),
// revealed (brokered), native STS credentials reading exactly that secret,
// relinquished: the role is gone, the session reads nothing, the reveal
// is refused; no value reaches the audit trail.
func TestJITGrantOnAnAWSSecret(t *testing.T) {
	a := newAWSWorld(t, "tenant-jobs-aws1")
	ctx := context.Background()
	req := a.approve(t)
	startWorkers(t, a.world, a.backends, time.Now)
	waitState(t, a.world, req, approvals.Active, 15*time.Second)

	svc := &access.Service{Store: a.store, Vault: a.backends, Now: time.Now}
	h := access.Holder{TenantID: a.tenant, TenantSlug: "acme", Person: approvals.Person{Subject: "req", Email: "requester@acme.test"}}
	data, err := svc.Reveal(ctx, h, req, audit.Meta{})
	if err != nil {
		t.Fatalf("Reveal: %v", err)
	}
	if data["value"] != awsValue {
		t.Fatalf("Reveal gave fields %d, the stored value: %v", len(data), data["value"] == awsValue)
	}
	if _, err := svc.TakeToken(ctx, h, req, audit.Meta{}); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("a Vault token for an AWS grant: got %v, want Invalid", err)
	}
	stranger := access.Holder{TenantID: a.tenant, TenantSlug: "acme", Person: approvals.Person{Subject: "someone-else"}}
	if _, err := svc.TakeCredential(ctx, stranger, req, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("someone else taking the credential: got %v, want NotFound", err)
	}
	cred, err := svc.TakeCredential(ctx, h, req, audit.Meta{})
	if err != nil {
		t.Fatalf("TakeCredential: %v", err)
	}
	sm := sessionClient(cred)
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(a.prefix + "orders")}); err != nil {
		t.Fatalf("the STS session cannot read the granted secret: %v", err)
	}
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(a.prefix + "other")}); err == nil {
		t.Fatal("the STS session reads a secret it was not granted")
	}

	if err := svc.Relinquish(ctx, h, req); err != nil {
		t.Fatalf("Relinquish: %v", err)
	}
	waitState(t, a.world, req, approvals.Revoked, time.Second)
	err = a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) error {
		return st.(secretstores.Granter).VerifyGrantDead(ctx, req)
	})
	if err != nil {
		t.Fatalf("after relinquish: %v", err)
	}
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(a.prefix + "orders")}); err == nil {
		t.Fatal("the relinquished session still reads the secret")
	}
	if _, err := svc.Reveal(ctx, h, req, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("reveal after the end: got %v, want NotFound", err)
	}
	var leaks int
	if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE detail::text LIKE '%' || $1 || '%' OR target LIKE '%' || $1 || '%'", awsValue).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Errorf("%d audit events contain the secret value", leaks)
	}
	var revealed int
	if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'grant.revealed' AND target = $1", req).Scan(&revealed); err != nil {
		t.Fatal(err)
	}
	if revealed != 1 {
		t.Errorf("%d reveal events, want 1", revealed)
	}
}

// Bad bindings change nothing; a binding with refused credentials is saved
// with its failing test; another tenant's binding is not found.
func TestCloudBindingsRefuseBadInputAndStayInTheirTenant(t *testing.T) {
	a := newAWSWorld(t, "tenant-jobs-aws2")
	ctx := context.Background()
	count := func() (n int) {
		if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM store_bindings WHERE kind <> 'vault-kv2'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	_, _, err := a.clouds.Bind(ctx, tenants.CloudBinding{TenantID: a.tenant, Name: "bad", Kind: tenants.StoreAWS,
		Settings: tenants.StoreSettings{Account: "12", Region: "mars"}}, tenants.StoreCredentials{}, "admin", audit.Meta{})
	e := apperr.As(err)
	if e == nil || e.Code != apperr.Invalid || e.Fields["account"] == "" || e.Fields["region"] == "" || e.Fields["access_key_id"] == "" {
		t.Fatalf("bad binding: got %v", err)
	}
	if count() != before {
		t.Fatal("a refused binding was saved")
	}
	wrong := tenants.StoreCredentials{AccessKeyID: "AKIAWRONGWRONGWRONG1", SecretAccessKey: "wrong-secret-key-1234"}
	id, checkErr, err := a.clouds.Bind(ctx, tenants.CloudBinding{TenantID: a.tenant, Name: "wrong keys", Kind: tenants.StoreAWS,
		Settings: tenants.StoreSettings{Account: devstack.MotoAccount, Region: "eu-west-1", Prefix: "wrong/"}}, wrong, "admin", audit.Meta{})
	if err != nil || !strings.Contains(checkErr, "permission denied") {
		t.Fatalf("refused keys: err %v, test %q", err, checkErr)
	}
	if strings.Contains(checkErr, wrong.SecretAccessKey) {
		t.Fatal("the test's error shows the secret key")
	}
	b, err := a.clouds.Bindings.Get(ctx, a.tenant, id)
	if err != nil || b.CheckError == "" || b.CheckedAt.IsZero() {
		t.Fatalf("the failing test is not recorded: %+v, %v", b, err)
	}
	other := uuid.NewString()
	err = a.clouds.WithCloudStore(ctx, other, a.binding, func(secretstores.Store) error { return errors.New("opened") })
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another tenant opening the binding: got %v, want NotFound", err)
	}
	_, err = a.store.AddResource(ctx, a.tenant, approvals.Resource{Name: "x", Classification: approvals.Low, BindingID: uuid.NewString(), Path: "orders",
		Policy: approvals.Policy{Requesters: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
			Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1}},
			DefaultDuration: time.Hour, MaxDuration: time.Hour, Levels: []approvals.Level{approvals.Read}, PendingTimeout: time.Hour}}, "admin", audit.Meta{})
	if e := apperr.As(err); e == nil || e.Fields["binding"] == "" {
		t.Fatalf("a resource on an unknown binding: got %v", err)
	}
	var creds string
	if err := a.pool.QueryRow(ctx, "SELECT string_agg(settings::text || credential_ref, ' ') FROM store_bindings").Scan(&creds); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(creds, stack.AWSAdmin.SecretAccessKey) || strings.Contains(creds, wrong.SecretAccessKey) {
		t.Fatal("a credential is stored in PostgreSQL")
	}
}

// Rotation writes a generated value as the new current version; when the
// verification webhook refuses it, the previous version is current again.
// The webhook and the audit trail never see the value.
func TestRotatingACloudSecretRollsBackWhenVerificationFails(t *testing.T) {
	a := newAWSWorld(t, "tenant-jobs-aws3")
	ctx := context.Background()
	read := func() (v string) {
		err := a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) (err error) {
			v, err = st.Read(ctx, "orders")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var bodies []string
	status := http.StatusInternalServerError
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		w.WriteHeader(status)
	}))
	defer hook.Close()
	gen := secretstores.Generator{Length: 32, Alphabet: secretstores.AlphaNumeric}

	unaudited := *a.clouds
	unaudited.Audit = nil
	if _, err := unaudited.Rotate(ctx, a.tenant, a.binding, stores.Rotation{Secret: "orders", Generator: gen}, "admin", audit.Meta{}); err == nil || read() != awsValue {
		t.Fatalf("a service without an audit recorder rotated (%v)", err)
	}
	_, err := a.clouds.Rotate(ctx, a.tenant, a.binding, stores.Rotation{Secret: "orders", Generator: gen, VerifyURL: hook.URL}, "admin", audit.Meta{})
	if !errors.Is(err, stores.ErrVerification) {
		t.Fatalf("refused verification: got %v", err)
	}
	if read() != awsValue {
		t.Fatal("after a refused verification the new value is current")
	}
	status = http.StatusNoContent
	r, err := a.clouds.Rotate(ctx, a.tenant, a.binding, stores.Rotation{Secret: "orders", Generator: gen, VerifyURL: hook.URL}, "admin", audit.Meta{})
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	now := read()
	if now == awsValue || len(now) != 32 || r.Previous == "" || r.Current == r.Previous {
		t.Fatalf("after rotating: a new %d-character value %v, versions %q → %q", len(now), now != awsValue, r.Previous, r.Current)
	}
	err = a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) error {
		old, err := st.ReadVersion(ctx, "orders", r.Previous)
		if err == nil && old != awsValue {
			err = errors.New("the previous version does not hold the old value")
		}
		return err
	})
	if err != nil {
		t.Fatalf("previous version: %v", err)
	}
	if _, err := a.clouds.Rotate(ctx, a.tenant, a.binding, stores.Rotation{Secret: "orders", Generator: secretstores.Generator{Length: 4, Alphabet: "ab"},
		VerifyURL: "http://example.com/hook"}, "admin", audit.Meta{}); apperr.As(err) == nil || len(apperr.As(err).Fields) != 2 {
		t.Fatalf("a weak generator and a plain-http webhook: got %v", err)
	}
	for _, b := range bodies {
		if strings.Contains(b, awsValue) || strings.Contains(b, now) {
			t.Fatal("the webhook was sent a value")
		}
	}
	var events, leaks int
	if err := a.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE detail::text LIKE '%' || $1 || '%' OR detail::text LIKE '%' || $2 || '%')
		FROM audit_events WHERE action = 'secret.rotated'`, awsValue, now).Scan(&events, &leaks); err != nil {
		t.Fatal(err)
	}
	if events != 2 || leaks != 0 {
		t.Fatalf("%d rotation events (want 2), %d with a value", events, leaks)
	}
}

// Break-glass works over an AWS secret like over Vault: immediate grant and
// credentials; an emergency revocation of the resource (with rotation)
// ends the session's access, verifies the role gone, and writes a new
// value; a break-glass window ending rotates the secret too.
func TestBreakGlassAndRevocationOnAnAWSSecret(t *testing.T) {
	a := newAWSWorld(t, "tenant-jobs-aws4")
	ctx := context.Background()
	if _, err := a.pool.Exec(ctx, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
		VALUES ($1, 'resp', 'responder@acme.test', 'resp', '{}', ARRAY['responder'], now(), now()),
		       ($1, 'a1', 'approver1@acme.test', 'a1', '{}', ARRAY['approver'], now(), now())`, a.tenant); err != nil {
		t.Fatal(err)
	}
	if err := a.store.SetBreakGlass(ctx, a.tenant, a.resource, approvals.BreakGlass{Enabled: true, MaxDuration: 30 * time.Minute, RotateAfter: true}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	svc := &access.Service{Store: a.store, Vault: a.backends, Now: time.Now}
	em, err := svc.BreakGlass(ctx, holderOf(a.world, responderP), a.resource, emergencyE, true, audit.Meta{})
	if err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	cred, err := svc.TakeCredential(ctx, holderOf(a.world, responderP), em.RequestID, audit.Meta{})
	if err != nil {
		t.Fatalf("TakeCredential: %v", err)
	}
	sm := sessionClient(cred)
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(a.prefix + "orders")}); err != nil {
		t.Fatalf("the break-glass session cannot read: %v", err)
	}

	sc, err := approvals.ParseScope("resource:" + a.resource)
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.store.StartRevocation(ctx, sc, approvals.Viewer{Operator: true}, "key leaked in a build log", "operator@gatehouse.test", true, audit.Meta{})
	if err != nil {
		t.Fatalf("StartRevocation: %v", err)
	}
	if err := jobs.RunRevocation(ctx, a.store, a.store, a.backends, jobs.RevokeConcurrency, id); err != nil {
		t.Fatalf("RunRevocation: %v", err)
	}
	waitState(t, a.world, em.RequestID, approvals.Revoked, time.Second)
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(a.prefix + "orders")}); err == nil {
		t.Fatal("the session still reads after the revocation")
	}
	var rotated string
	if err := a.pool.QueryRow(ctx, "SELECT rotated::text FROM revocations WHERE id = $1", id).Scan(&rotated); err != nil {
		t.Fatal(err)
	}
	var now string
	err = a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) (err error) {
		now, err = st.Read(ctx, "orders")
		return err
	})
	if err != nil || now == awsValue || !strings.Contains(rotated, "orders@") {
		t.Fatalf("after a revocation with rotation: value changed %v, recorded %s (%v)", now != awsValue, rotated, err)
	}
	var reviewVersion string
	if err := a.pool.QueryRow(ctx, "SELECT coalesce(rotated_version, '') FROM breakglass_reviews WHERE request_id = $1", em.RequestID).Scan(&reviewVersion); err != nil {
		t.Fatal(err)
	}
	if len(reviewVersion) < 32 {
		t.Fatalf("the break-glass review records rotation version %q, want an AWS version ID", reviewVersion)
	}
	if _, err := svc.BreakGlass(ctx, holderOf(a.world, responderP), a.resource, emergencyE, true, audit.Meta{}); !errors.Is(err, approvals.ErrBlocked) && apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("break-glass inside the revoked scope: got %v", err)
	}
}

// A Vault secret replicated to AWS: the first sync copies it, a change of
// the source is copied, a replica changed outside Gatehouse is reported
// drifted and left alone until forced, and a purge deletes the replica.
func TestReplicatingAVaultSecretToAWS(t *testing.T) {
	a := newAWSWorld(t, "tenant-jobs-aws5")
	ctx := context.Background()
	var source string
	if err := a.pool.QueryRow(ctx, "SELECT id::text FROM resources WHERE name = 'Orders DB'").Scan(&source); err != nil {
		t.Fatal(err)
	}
	bindings := postgres.NewBindingStore(a.pool, time.Now)
	gatehouse, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t)) // least privilege, as in production
	if err != nil {
		t.Fatal(err)
	}
	worker := &jobs.SyncSecretWorker{Store: bindings, Clouds: a.backends,
		Sources: func(mount, tenantID string) secretstores.Store { return gatehouse.Store(mount, tenantID) }}
	if _, err := bindings.AddSyncTarget(ctx, tenants.SyncTarget{TenantID: a.tenant, SourceID: a.resource, BindingID: a.binding, TargetName: "x"}, "admin", audit.Meta{}); apperr.As(err) == nil || apperr.As(err).Fields["source"] == "" {
		t.Fatalf("a cloud secret as the source: got %v", err)
	}
	id, err := bindings.AddSyncTarget(ctx, tenants.SyncTarget{TenantID: a.tenant, SourceID: source, BindingID: a.binding, TargetName: "replica-orders"}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	sync := func(force bool) tenants.SyncTarget {
		t.Helper()
		if err := worker.Work(ctx, &river.Job[jobs.SyncSecretArgs]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: jobs.SyncSecretArgs{TenantID: a.tenant, TargetID: id, Force: force}}); err != nil {
			t.Fatalf("sync: %v", err)
		}
		st, err := bindings.SyncTarget(ctx, a.tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	replica := func() (v string) {
		t.Helper()
		err := a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) (err error) {
			v, err = st.Read(ctx, "replica-orders")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if st := sync(false); st.State != tenants.SyncInSync || st.SourceVersion != "1" || !strings.Contains(replica(), "value-of-db/orders") {
		t.Fatalf("first sync: %+v", st)
	}
	if err := a.vault.PutKV2(ctx, "tenant-jobs-aws5", "db/orders", map[string]any{"password": "changed-at-source"}); err != nil {
		t.Fatal(err)
	}
	if st := sync(false); st.State != tenants.SyncInSync || st.SourceVersion != "2" || !strings.Contains(replica(), "changed-at-source") {
		t.Fatalf("after the source changed: %+v", st)
	}
	err = a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) error {
		_, err := st.Write(ctx, "replica-orders", "changed-outside-gatehouse")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	st := sync(false)
	if st.State != tenants.SyncDrifted || !strings.Contains(st.Detail, "not written by Gatehouse") || strings.Contains(st.Detail, "changed-outside") {
		t.Fatalf("after an outside change: %+v", st)
	}
	if replica() != "changed-outside-gatehouse" {
		t.Fatal("a drifted replica was overwritten without being asked")
	}
	if st := sync(true); st.State != tenants.SyncInSync || !strings.Contains(replica(), "changed-at-source") {
		t.Fatalf("forced sync: %+v", st)
	}
	if err := a.clouds.Purge(ctx, a.tenant, id); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	err = a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) error {
		_, err := st.Describe(ctx, "replica-orders")
		return err
	})
	if !errors.Is(err, secretstores.ErrNotFound) {
		t.Fatalf("after the purge the replica is: %v", err)
	}
	if st := sync(false); st.State != tenants.SyncPurged {
		t.Fatalf("a purged replica synced again: %+v", st)
	}
	var leaks int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE concat(target, detail::text) LIKE '%changed-at-source%'
		OR concat(target, detail::text) LIKE '%value-of-db%'`).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Fatalf("%d audit events carry a value", leaks)
	}
}

// A schedule rotates its cloud secret when due, once per period.
func TestScheduledRotationOfACloudSecret(t *testing.T) {
	a := newAWSWorld(t, "tenant-jobs-aws6")
	ctx := context.Background()
	bindings := postgres.NewBindingStore(a.pool, time.Now)
	var vaultResource string
	if err := a.pool.QueryRow(ctx, "SELECT id::text FROM resources WHERE name = 'Orders DB'").Scan(&vaultResource); err != nil {
		t.Fatal(err)
	}
	if err := bindings.SetRotationSchedule(ctx, a.tenant, tenants.RotationSchedule{ResourceID: vaultResource, Every: 24 * time.Hour, Length: 32, Alphabet: "alnum"}, "admin", audit.Meta{}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a schedule on a Vault secret: got %v", err)
	}
	if err := bindings.SetRotationSchedule(ctx, a.tenant, tenants.RotationSchedule{ResourceID: a.resource, Every: 24 * time.Hour, Length: 32, Alphabet: "alnum"}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if due, err := bindings.ClaimDueRotations(ctx, time.Now()); err != nil || len(due) != 0 {
		t.Fatalf("due before its time: %v %v", due, err)
	}
	due, err := bindings.ClaimDueRotations(ctx, time.Now().Add(25*time.Hour))
	if err != nil || len(due) != 1 || due[0].ResourceID != a.resource {
		t.Fatalf("due after a day: %v %v", due, err)
	}
	if again, _ := bindings.ClaimDueRotations(ctx, time.Now().Add(25*time.Hour)); len(again) != 0 {
		t.Fatalf("claimed twice: %v", again)
	}
	w := &jobs.RotateResourceWorker{Store: bindings, Resources: a.store, Rotator: a.clouds}
	if err := w.Work(ctx, &river.Job[jobs.RotateResourceArgs]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: jobs.RotateResourceArgs{TenantID: a.tenant, ResourceID: a.resource}}); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	s, err := bindings.RotationSchedule(ctx, a.tenant, a.resource)
	if err != nil || s == nil || s.LastVersion == "" || s.LastError != "" {
		t.Fatalf("schedule after the run: %+v %v", s, err)
	}
	var now string
	err = a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) (err error) {
		now, err = st.Read(ctx, "orders")
		return err
	})
	if err != nil || now == awsValue || len(now) != 32 {
		t.Fatalf("after the scheduled rotation: new 32-character value %v (%v)", now != awsValue && len(now) == 32, err)
	}
}

// A share of an AWS secret: the recipient's member gets the grant under
// the share's terms, reveals it and takes STS credentials; ending the
// share ends them, verified.
func TestSharingAnAWSSecretWithAnotherOrganization(t *testing.T) {
	sw := newShareWorld(t, "tenant-jobs-aws7", time.Now)
	ctx := context.Background()
	prefix := "tenant-jobs-aws7/"
	admin := tenants.StoreCredentials{AccessKeyID: stack.AWSAdmin.AccessKeyID, SecretAccessKey: stack.AWSAdmin.SecretAccessKey}
	seed, err := aws.New(aws.Config{AccountID: devstack.MotoAccount, Region: "eu-west-1", Prefix: prefix, Endpoint: stack.Moto.Endpoint,
		AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Write(ctx, "orders", awsValue); err != nil {
		t.Fatal(err)
	}
	if err := sw.vault.EnsureKV2Mount(ctx, "gatehouse", "Gatehouse's own secrets"); err != nil {
		t.Fatal(err)
	}
	bindings := postgres.NewBindingStore(sw.pool, time.Now)
	clouds := &stores.Service{Bindings: bindings, Replicas: bindings, Secrets: sw.vault, Open: stores.Adapters(stores.Endpoints{AWS: stack.Moto.Endpoint})}
	binding, checkErr, err := clouds.Bind(ctx, tenants.CloudBinding{TenantID: sw.tenant, Name: "AWS prod", Kind: tenants.StoreAWS,
		Settings: tenants.StoreSettings{Account: devstack.MotoAccount, Region: "eu-west-1", Prefix: prefix}}, admin, "admin", audit.Meta{})
	if err != nil || checkErr != "" {
		t.Fatalf("Bind: %v %s", err, checkErr)
	}
	sw.res, err = sw.store.AddResource(ctx, sw.tenant, approvals.Resource{Name: "Orders (AWS)", Classification: approvals.High, BindingID: binding, Path: "orders",
		Policy: approvals.Policy{Requesters: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
			Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1}},
			DefaultDuration: time.Hour, MaxDuration: 2 * time.Hour, Levels: []approvals.Level{approvals.Read}, PendingTimeout: time.Hour}}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	backends := app.Backends{Client: sw.svc.Vault.(*vault.Client), Service: clouds}
	sw.svc.Vault = backends
	share := sw.activeShare(t, sw.terms(approvals.PreApproved, time.Now()))
	req, err := sw.svc.RequestShared(ctx, sw.holder("globex/requester"), share, sw.res, approvals.Submission{Level: approvals.Read}, audit.Meta{})
	if err != nil {
		t.Fatalf("RequestShared: %v", err)
	}
	waitState(t, sw.world, req, approvals.Active, 10*time.Second)
	data, err := sw.svc.Reveal(ctx, sw.holder("globex/requester"), req, audit.Meta{})
	if err != nil || data["value"] != awsValue {
		t.Fatalf("the recipient's reveal: shows the value %v (%v)", data["value"] == awsValue, err)
	}
	cred, err := sw.svc.TakeCredential(ctx, sw.holder("globex/requester"), req, audit.Meta{})
	if err != nil {
		t.Fatalf("TakeCredential: %v", err)
	}
	sm := sessionClient(cred)
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(prefix + "orders")}); err != nil {
		t.Fatalf("the recipient's session cannot read: %v", err)
	}
	startWorkers(t, sw.world, backends, time.Now)
	if err := sw.store.EndShare(ctx, sw.tenant, share, sw.p("acme/admin"), "partnership over", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, sw.world, req, approvals.Revoked, 15*time.Second)
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(prefix + "orders")}); err == nil {
		t.Fatal("the recipient's session still reads after the share ended")
	}
	if _, err := sw.svc.Reveal(ctx, sw.holder("globex/requester"), req, audit.Meta{}); err == nil {
		t.Fatal("the recipient still reveals after the share ended")
	}
}

// Rotation may write a value given by the admin instead of a generated one.
func TestRotatingToAGivenValue(t *testing.T) {
	a := newAWSWorld(t, "tenant-jobs-aws8")
	ctx := context.Background()
	r, err := a.clouds.Rotate(ctx, a.tenant, a.binding, stores.Rotation{Secret: "orders", Value: "issued-by-the-provider-77"}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	var now string
	err = a.clouds.WithCloudStore(ctx, a.tenant, a.binding, func(st secretstores.Store) (err error) {
		now, err = st.Read(ctx, "orders")
		return err
	})
	if err != nil || now != "issued-by-the-provider-77" || r.Current == r.Previous {
		t.Fatalf("after rotating to a given value: it is current %v, versions %q → %q (%v)", now == "issued-by-the-provider-77", r.Previous, r.Current, err)
	}
}

// A brokered store (GCP Secret Manager, on the in-process fake): the grant
// is issued once the secret is found, revealed only while active; the
// store mints no credentials of its own.
func TestJITGrantOnABrokeredGCPSecret(t *testing.T) {
	w, _ := newWorld(t, "tenant-jobs-gcp1", time.Now)
	ctx := context.Background()
	_, opts := gcpfake.Start(t)
	seed, err := gcp.New(ctx, "acme-prod-123", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	if _, err := seed.Write(ctx, "billing-token", "gcp-billing-value-31"); err != nil {
		t.Fatal(err)
	}
	if err := w.vault.EnsureKV2Mount(ctx, "gatehouse", "Gatehouse's own secrets"); err != nil {
		t.Fatal(err)
	}
	bindings := postgres.NewBindingStore(w.pool, time.Now)
	clouds := &stores.Service{Bindings: bindings, Replicas: bindings, Secrets: w.vault, Open: stores.Adapters(stores.Endpoints{GCP: opts})}
	binding, checkErr, err := clouds.Bind(ctx, tenants.CloudBinding{TenantID: w.tenant, Name: "GCP billing", Kind: tenants.StoreGCP,
		Settings: tenants.StoreSettings{Project: "acme-prod-123"}}, tenants.StoreCredentials{ServiceAccountJSON: `{"type":"service_account"}`}, "admin", audit.Meta{})
	if err != nil || checkErr != "" {
		t.Fatalf("Bind: %v %s", err, checkErr)
	}
	policy := approvals.Policy{Requesters: approvals.Audience{Roles: []tenants.Role{tenants.RoleRequester}},
		Steps:           []approvals.Step{{Approvers: approvals.Audience{Roles: []tenants.Role{tenants.RoleApprover}}, Required: 1}},
		DefaultDuration: time.Hour, MaxDuration: time.Hour, Levels: []approvals.Level{approvals.Read}, PendingTimeout: time.Hour}
	res, err := w.store.AddResource(ctx, w.tenant, approvals.Resource{Name: "Billing token (GCP)", Classification: approvals.Medium, BindingID: binding, Path: "billing-token", Policy: policy}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	missing, err := w.store.AddResource(ctx, w.tenant, approvals.Resource{Name: "Gone (GCP)", Classification: approvals.Low, BindingID: binding, Path: "not-there", Policy: policy}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	requester := approvals.Person{Subject: "req", Email: "requester@acme.test", Roles: []tenants.Role{tenants.RoleRequester}}
	approve := func(resource string) string {
		req, err := w.store.Submit(ctx, w.tenant, resource, requester, approvals.Submission{Level: approvals.Read}, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.Decide(ctx, w.tenant, req, approvals.Person{Subject: "a1", Roles: []tenants.Role{tenants.RoleApprover}}, true, "", 0, audit.Meta{}); err != nil {
			t.Fatal(err)
		}
		return req
	}
	req, gone := approve(res), approve(missing)
	backends := app.Backends{Client: w.vault, Service: clouds}
	startWorkers(t, w, backends, time.Now)
	waitState(t, w, req, approvals.Active, 15*time.Second)
	waitState(t, w, gone, approvals.Failed, 15*time.Second)

	svc := &access.Service{Store: w.store, Vault: backends, Now: time.Now}
	h := access.Holder{TenantID: w.tenant, TenantSlug: "acme", Person: requester}
	data, err := svc.Reveal(ctx, h, req, audit.Meta{})
	if err != nil || data["value"] != "gcp-billing-value-31" {
		t.Fatalf("Reveal: shows the value %v (%v)", data["value"] == "gcp-billing-value-31", err)
	}
	if _, err := svc.TakeCredential(ctx, h, req, audit.Meta{}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("credentials from a brokered store: got %v, want Invalid", err)
	}
	if err := svc.Relinquish(ctx, h, req); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reveal(ctx, h, req, audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("reveal after relinquishing: got %v", err)
	}
}
