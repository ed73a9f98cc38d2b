package audit

import (
	"strings"
	"testing"
	"time"
)

func chainOf(n int) []StoredRecord {
	var out []StoredRecord
	var prev []byte
	for i := 1; i <= n; i++ {
		r := Record{Chain: "c", Seq: int64(i), OccurredAt: time.Unix(int64(i), 0), Event: Event{Action: "a", Outcome: Success}}
		h := Hash(prev, r)
		out = append(out, StoredRecord{Record: r, PrevHash: prev, Hash: h})
		prev = h
	}
	return out
}

func TestCheckpointsCatchTruncationAndRewrites(t *testing.T) {
	recs := chainOf(5)
	cp := NewCheckpoint("c", 4, recs[3].Hash, time.Unix(100, 0))
	if p := CheckAgainst(cp, recs); p != nil {
		t.Fatalf("intact chain: %v", p)
	}
	// The tail cut back to 3 events (and the head rewritten to match): caught.
	if p := CheckAgainst(cp, recs[:3]); p == nil || !strings.HasPrefix(p.What, "truncated") || p.Seq != 4 {
		t.Fatalf("truncation: %v", p)
	}
	// The chain rebuilt from event 2 on (every hash recomputed): caught.
	forged := chainOf(5)
	forged[1].Event.Actor = "someone else"
	prev := forged[0].Hash
	for i := 1; i < len(forged); i++ {
		forged[i].PrevHash, forged[i].Hash = prev, Hash(prev, forged[i].Record)
		prev = forged[i].Hash
	}
	if p := Verify("c", forged, 5, prev); p != nil {
		t.Fatalf("the forgery is self-consistent, as intended for this test: %v", p)
	}
	if p := CheckAgainst(cp, forged); p == nil || !strings.HasPrefix(p.What, "rewritten") {
		t.Fatalf("rewrite under the checkpoint: %v", p)
	}
}
