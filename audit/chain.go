package audit

import (
	"crypto/sha256"
	"encoding/json"
	"sort"
	"time"
)

// Record is an event as chained: its chain (a tenant ID, or "platform"),
// position and time, with the event's fields.
type Record struct {
	Chain      string
	Seq        int64
	OccurredAt time.Time
	Event      Event
}

// ChainOf names the chain an event belongs to: its tenant's, or the
// platform's for events of no tenant.
func ChainOf(tenantID string) string {
	if tenantID == "" {
		return "platform"
	}
	return tenantID
}

// Hash returns SHA-256(prev || canonical encoding of r). The encoding is
// JSON with fixed field order and sorted detail keys, times in UTC with
// microseconds (PostgreSQL's precision), so a stored event hashes the same
// when read back.
func Hash(prev []byte, r Record) []byte {
	keys := make([]string, 0, len(r.Event.Detail))
	for k := range r.Event.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	detail := make([][2]string, 0, len(keys))
	for _, k := range keys {
		detail = append(detail, [2]string{k, r.Event.Detail[k]})
	}
	canonical, _ := json.Marshal([]any{
		r.Chain, r.Seq, r.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		r.Event.TenantID, r.Event.Actor, r.Event.Action, r.Event.Target, string(r.Event.Outcome),
		r.Event.IP, r.Event.UserAgent, r.Event.RequestID, detail,
	})
	h := sha256.New()
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(nil)
}

// Problem is the first thing wrong with a chain.
type Problem struct {
	Chain string
	Seq   int64
	What  string // "modified", "missing (deleted or reordered)", "truncated"
}

// StoredRecord is a record as read back, with the hashes stored beside it.
type StoredRecord struct {
	Record
	PrevHash []byte
	Hash     []byte
}

// Verify walks one chain's records in sequence order against its head
// (last seq and hash) and returns the first problem, or nil when the chain
// is intact.
func Verify(chain string, records []StoredRecord, headSeq int64, headHash []byte) *Problem {
	var prev []byte
	want := int64(1)
	for _, r := range records {
		if r.Seq != want {
			return &Problem{Chain: chain, Seq: want, What: "missing (deleted or reordered)"}
		}
		if string(r.PrevHash) != string(prev) || string(Hash(prev, r.Record)) != string(r.Hash) {
			return &Problem{Chain: chain, Seq: r.Seq, What: "modified"}
		}
		prev, want = r.Hash, want+1
	}
	if want-1 != headSeq || string(prev) != string(headHash) {
		return &Problem{Chain: chain, Seq: want, What: "truncated"}
	}
	return nil
}
