package tenants_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/tenants"
)

func TestPlanSync(t *testing.T) {
	synced := tenants.SyncTarget{SourceVersion: "3", TargetVersion: "v-a"}
	for _, c := range []struct {
		name    string
		t       tenants.SyncTarget
		source  string
		replica tenants.Replica
		force   bool
		want    tenants.SyncPlan
	}{
		{"first sync writes a missing replica", tenants.SyncTarget{}, "1", tenants.Replica{}, false, tenants.SyncPlan{Write: true, State: tenants.SyncInSync}},
		{"first sync adopts an equal replica", tenants.SyncTarget{}, "1", tenants.Replica{Exists: true, Version: "v-x", ValueEquals: true}, false, tenants.SyncPlan{State: tenants.SyncInSync}},
		{"first sync overwrites a different replica", tenants.SyncTarget{}, "1", tenants.Replica{Exists: true, Version: "v-x"}, false, tenants.SyncPlan{Write: true, State: tenants.SyncInSync}},
		{"nothing changed", synced, "3", tenants.Replica{Exists: true, Version: "v-a", ValueEquals: true}, false, tenants.SyncPlan{State: tenants.SyncInSync}},
		{"the source changed", synced, "4", tenants.Replica{Exists: true, Version: "v-a"}, false, tenants.SyncPlan{Write: true, State: tenants.SyncInSync}},
		{"a deleted replica is written again", synced, "3", tenants.Replica{}, false,
			tenants.SyncPlan{Write: true, State: tenants.SyncInSync, Detail: "The replica was missing from the store; written again."}},
		{"a replica changed outside is drifted, not overwritten", synced, "4", tenants.Replica{Exists: true, Version: "v-b"}, false,
			tenants.SyncPlan{State: tenants.SyncDrifted, Detail: "The replica's current version v-b was not written by Gatehouse (it wrote v-a), and its value differs from the source. Sync it by hand to overwrite it."}},
		{"forcing overwrites a drifted replica", synced, "4", tenants.Replica{Exists: true, Version: "v-b"}, true, tenants.SyncPlan{Write: true, State: tenants.SyncInSync}},
		{"forcing an equal replica writes nothing", synced, "3", tenants.Replica{Exists: true, Version: "v-b", ValueEquals: true}, true, tenants.SyncPlan{State: tenants.SyncInSync}},
	} {
		if got := tenants.PlanSync(c.t, c.source, c.replica, c.force); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestCheckSyncTargetAndSchedule(t *testing.T) {
	if err := tenants.CheckSyncTarget(tenants.SyncTarget{SourceMount: "tenant-acme", SourcePath: "db/", TargetName: "bad name"}); err == nil {
		t.Fatal("a folder source, no binding and a bad name passed")
	}
	if err := tenants.CheckSyncTarget(tenants.SyncTarget{SourceMount: "tenant-acme", SourcePath: "db/orders", BindingID: "b", TargetName: "acme/orders"}); err != nil {
		t.Fatal(err)
	}
	if err := tenants.CheckRotationSchedule(tenants.RotationSchedule{Every: 0, Length: 8, Alphabet: "emoji"}); err == nil {
		t.Fatal("a bad schedule passed")
	}
}
