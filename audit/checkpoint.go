package audit

import (
	"encoding/hex"
	"strconv"
	"time"
)

// Checkpoint is a chain's head as written to an external anchor (a Vault
// KV path Gatehouse can only add versions to, and an append-only export
// file): a trail later cut back below it, or rewritten under it, no longer
// matches, even when the attacker also rewrote the head in the database.
type Checkpoint struct {
	Chain string    `json:"chain"`
	Seq   int64     `json:"seq"`
	Hash  string    `json:"hash"` // hex SHA-256 of the event at Seq
	At    time.Time `json:"at"`
}

// NewCheckpoint returns the checkpoint of a chain's head.
func NewCheckpoint(chain string, seq int64, hash []byte, at time.Time) Checkpoint {
	return Checkpoint{Chain: chain, Seq: seq, Hash: hex.EncodeToString(hash), At: at.UTC()}
}

// CheckAgainst compares a chain's stored records (in sequence order) with
// its checkpoint: the event at the checkpoint's position must still be
// there with the checkpointed hash. It returns the problem, or nil.
func CheckAgainst(cp Checkpoint, records []StoredRecord) *Problem {
	if cp.Seq == 0 {
		return nil
	}
	for _, r := range records {
		if r.Seq == cp.Seq {
			if hex.EncodeToString(r.Hash) != cp.Hash {
				return &Problem{Chain: cp.Chain, Seq: cp.Seq, What: "rewritten (differs from the checkpoint of " + cp.At.Format(time.RFC3339) + ")"}
			}
			return nil
		}
	}
	return &Problem{Chain: cp.Chain, Seq: cp.Seq, What: "truncated (the checkpoint of " + cp.At.Format(time.RFC3339) +
		" holds event " + strconv.FormatInt(cp.Seq, 10) + ")"}
}
