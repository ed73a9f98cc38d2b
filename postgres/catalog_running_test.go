package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/approvals"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
)

// runningFixture is the request fixture with its request cancelled, plus
// an AWS binding of acme (its row only: nothing here calls AWS) and a
// cloud resource, "Orders (AWS)", in it.
type runningFixture struct {
	pool     *pgxpool.Pool
	store    *postgres.RequestStore
	bindings *postgres.BindingStore
	acme     string
	binding  string
	vault    string // "Orders DB", a Vault secret
	cloud    string // "Orders (AWS)"
}

func newRunningFixture(t *testing.T) runningFixture {
	t.Helper()
	ctx := context.Background()
	pool, store, acme, req := requestFixture(t)
	if err := store.Cancel(ctx, acme, req, requester, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	f := runningFixture{pool: pool, store: store, bindings: postgres.NewBindingStore(pool, time.Now), acme: acme, binding: uuid.NewString(), vault: ordersID(t, pool)}
	if err := f.bindings.Add(ctx, tenants.CloudBinding{ID: f.binding, TenantID: acme, Name: "AWS prod", Kind: tenants.StoreAWS,
		Settings: tenants.StoreSettings{Account: "123456789012", Region: "eu-west-1", Prefix: "acme/"}, CredentialRef: "stores/" + f.binding}, "admin", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	orders, err := store.Resource(ctx, acme, f.vault)
	if err != nil {
		t.Fatal(err)
	}
	f.cloud, err = store.AddResource(ctx, acme, approvals.Resource{Name: "Orders (AWS)", Classification: approvals.High, BindingID: f.binding, Path: "orders",
		Policy: orders.Policy}, "admin", audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f runningFixture) schedule(resID string) error {
	return f.bindings.SetRotationSchedule(context.Background(), f.acme, tenants.RotationSchedule{ResourceID: resID, Every: 24 * time.Hour, Length: 32, Alphabet: "alnum"},
		"admin@acme.test", audit.Meta{})
}

func (f runningFixture) replicate(name string) (string, error) {
	return f.bindings.AddSyncTarget(context.Background(), tenants.SyncTarget{TenantID: f.acme, SourceID: f.vault, BindingID: f.binding, TargetName: name},
		"admin@acme.test", audit.Meta{})
}

func (f runningFixture) retire(resID, name string) error {
	return f.store.RetireResource(context.Background(), f.acme, resID, name, retireReason, "admin@acme.test", audit.Meta{})
}

// TestRetiringWaitsForRotationAndReplicasToStop: a resource whose secret
// Gatehouse still rotates, or still copies to replicas, cannot be retired
// until the rotation is stopped and the replicas purged; a retired one
// takes no new schedule or replica. Stopping a rotation is audited and
// ends its runs.
func TestRetiringWaitsForRotationAndReplicasToStop(t *testing.T) {
	ctx := context.Background()
	f := newRunningFixture(t)

	// A rotation schedule keeps the cloud secret in use.
	if err := f.schedule(f.cloud); err != nil {
		t.Fatal(err)
	}
	if u, err := f.store.ResourceInUse(ctx, f.acme, f.cloud); err != nil || u != (approvals.InUse{Rotation: true}) {
		t.Fatalf("in use with a schedule: %+v (%v)", u, err)
	}
	err := f.retire(f.cloud, "Orders (AWS)")
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || !strings.Contains(e.Message, "a rotation schedule") {
		t.Fatalf("retiring a resource under rotation: %v; want a conflict naming the schedule", err)
	}
	if err := f.bindings.StopRotation(ctx, tenantID(t, f.pool, "globex"), f.cloud, "admin@globex.test", audit.Meta{}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("stopping another organization's rotation: %v", err)
	}
	if err := f.bindings.StopRotation(ctx, f.acme, f.cloud, "admin@acme.test", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	if ev := auditEvents(t, f.pool, "rotation.stopped"); len(ev) != 1 || ev[0]["every"] != "24h0m0s" {
		t.Fatalf("rotation.stopped events: %v; want one naming the period stopped", ev)
	}
	if s, err := f.bindings.RotationSchedule(ctx, f.acme, f.cloud); err != nil || s != nil {
		t.Fatalf("the schedule after stopping: %+v (%v)", s, err)
	}
	if due, err := f.bindings.ClaimDueRotations(ctx, time.Now().Add(48*time.Hour)); err != nil || len(due) != 0 {
		t.Fatalf("a stopped schedule still runs: %v (%v)", due, err)
	}
	if err := f.bindings.StopRotation(ctx, f.acme, f.cloud, "admin@acme.test", audit.Meta{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("stopping a rotation twice: %v", err)
	}
	if err := f.retire(f.cloud, "Orders (AWS)"); err != nil {
		t.Fatalf("retiring once the rotation is stopped: %v", err)
	}
	err = f.schedule(f.cloud)
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || !strings.Contains(e.Message, "retired") {
		t.Fatalf("scheduling a retired resource's rotation: %v; want a conflict saying it is retired", err)
	}
	if s, err := f.bindings.RotationSchedule(ctx, f.acme, f.cloud); err != nil || s != nil {
		t.Fatalf("a refused schedule was saved: %+v (%v)", s, err)
	}

	// A replica not purged keeps its source in use.
	replica, err := f.replicate("replica-orders")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := f.store.ResourceInUse(ctx, f.acme, f.vault); err != nil || u != (approvals.InUse{Replicas: 1}) {
		t.Fatalf("in use with a replica: %+v (%v)", u, err)
	}
	err = f.retire(f.vault, "Orders DB")
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || !strings.Contains(e.Message, "1 replica") {
		t.Fatalf("retiring a replicated resource: %v; want a conflict naming the replica", err)
	}
	if err := f.bindings.RecordSync(ctx, tenants.SyncTarget{ID: replica, TenantID: f.acme, State: tenants.SyncPurged}, false); err != nil {
		t.Fatal(err)
	}
	if err := f.retire(f.vault, "Orders DB"); err != nil {
		t.Fatalf("retiring once its replica is purged: %v", err)
	}
	if _, err := f.replicate("replica-orders-2"); apperr.As(err) == nil || apperr.As(err).Fields["source"] == "" {
		t.Fatalf("a replica of a retired resource: %v; want the source refused", err)
	}
	var replicas int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM sync_targets").Scan(&replicas); err != nil || replicas != 1 {
		t.Fatalf("%d replicas recorded (%v); want the purged one only", replicas, err)
	}
}

// TestARotationOrAReplicaAndARetireInFlightAreOrdered forces both
// interleavings (raceRetire) of a retire with a new rotation schedule and
// with a new replica: whichever commits first, the resource never ends up
// retired with something still running on it.
func TestARotationOrAReplicaAndARetireInFlightAreOrdered(t *testing.T) {
	cases := []struct {
		what   string
		target func(runningFixture) (id, name string)
		create func(runningFixture) error
		refuse apperr.Code // what the creation gets when the retire went first
	}{
		{"a rotation schedule", func(f runningFixture) (string, string) { return f.cloud, "Orders (AWS)" },
			func(f runningFixture) error { return f.schedule(f.cloud) }, apperr.Conflict},
		{"a replica", func(f runningFixture) (string, string) { return f.vault, "Orders DB" },
			func(f runningFixture) error { _, err := f.replicate("replica-orders"); return err }, apperr.Invalid},
	}
	for _, tc := range cases {
		for _, retireFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, retire first %v", tc.what, retireFirst), func(t *testing.T) {
				f := newRunningFixture(t)
				id, name := tc.target(f)
				retireErr, createErr := raceRetire(t, f.pool, f.store, f.acme, id, name, retireFirst, func() error { return tc.create(f) })
				u, err := f.store.ResourceInUse(context.Background(), f.acme, id)
				if err != nil {
					t.Fatal(err)
				}
				r, err := f.store.Resource(context.Background(), f.acme, id)
				if err != nil {
					t.Fatal(err)
				}
				if r.Retired() && u.Any() {
					t.Fatalf("retired with %+v still running (retire %v, %s %v)", u, retireErr, tc.what, createErr)
				}
				if retireFirst && (retireErr != nil || apperr.CodeOf(createErr) != tc.refuse) {
					t.Fatalf("retire first: retire %v, %s %v; want it refused (%s)", retireErr, tc.what, createErr, tc.refuse)
				}
				if !retireFirst && (createErr != nil || apperr.CodeOf(retireErr) != apperr.Conflict) {
					t.Fatalf("%s first: %v, retire %v; want the retire refused", tc.what, createErr, retireErr)
				}
			})
		}
	}
}
