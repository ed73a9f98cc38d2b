package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secretstores/vault"
)

func TestTheCheckpointJobWritesEveryHeadToEachAnchor(t *testing.T) {
	w, _ := newWorld(t, "tenant-cp", time.Now)
	ctx := context.Background()
	gh, err := vault.New(stack.Vault.Addr, stack.GatehouseToken(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.vault.EnsureKV2Mount(ctx, "gatehouse", "Gatehouse's own secrets"); err != nil {
		t.Fatal(err)
	}
	file := jobs.FileAnchor{Path: t.TempDir() + "/cp.jsonl"}
	log := postgres.NewAuditLog(w.pool, time.Now, nil)
	worker := &jobs.CheckpointWorker{Heads: log, Anchors: []jobs.Anchor{gh, file}}
	if err := worker.Work(ctx, &river.Job[jobs.CheckpointAuditArgs]{}); err != nil {
		t.Fatal(err)
	}
	heads, err := log.AuditHeads(ctx)
	if err != nil || len(heads) == 0 {
		t.Fatalf("heads: %v %v", heads, err)
	}
	fromFile, err := jobs.LastCheckpoints(file.Path)
	if err != nil || len(fromFile) != len(heads) || fromFile[0].Hash != heads[0].Hash {
		t.Fatalf("file anchor: %+v %v", fromFile, err)
	}
	fromVault, err := gh.ReadCheckpoints(ctx)
	if err != nil || len(fromVault) != len(heads) || fromVault[0].Seq != heads[0].Seq {
		t.Fatalf("Vault anchor: %+v %v", fromVault, err)
	}
}
