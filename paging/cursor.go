package paging

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
)

// Cursor names a row of a list by its place in the list's strict order:
// its sort key, then its ID. A list ordered by time, newest first, makes
// its cursors with At (a time and a UUID); one ordered by a rank and then a
// number, both descending (the security alerts: open first, then newest),
// with Ranked. A cursor is no capability: a list is always read within the
// viewer's own tenant, wherever a cursor points.
type Cursor struct {
	key int64    // At: microseconds since 1970; Ranked: the rank
	id  [16]byte // At: the UUID; Ranked: the number, in the last 8 bytes
}

// At is the cursor at the row of time t (kept to the microsecond, as
// PostgreSQL keeps it) and ID id.
func At(t time.Time, id uuid.UUID) Cursor { return Cursor{key: t.UnixMicro(), id: id} }

// Time is the time of the row c names (made by At); the zero time for the
// zero cursor.
func (c Cursor) Time() time.Time {
	if c.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(c.key).UTC()
}

// UUID is the ID of the row c names (made by At); uuid.Nil for the zero
// cursor.
func (c Cursor) UUID() uuid.UUID { return uuid.UUID(c.id) }

// Ranked is the cursor at the row of rank rank and number n.
func Ranked(rank, n int64) Cursor {
	c := Cursor{key: rank}
	binary.BigEndian.PutUint64(c.id[8:], uint64(n))
	return c
}

// Rank is the rank and number of the row c names (made by Ranked); ok is
// false when c was not made by Ranked with a positive number (a link into
// a list ordered by time, or forged).
func (c Cursor) Rank() (rank, n int64, ok bool) {
	n = int64(binary.BigEndian.Uint64(c.id[8:]))
	return c.key, n, [8]byte(c.id[:8]) == [8]byte{} && n > 0
}

// IsZero reports whether c names no row (the list's first page).
func (c Cursor) IsZero() bool { return c == Cursor{} }

// encodedLen is an encoded cursor's length in bytes before base64: the key
// (8, big-endian) and the ID (16).
const encodedLen = 8 + 16

// String encodes c opaquely for a URL (unpadded base64url); "" for the zero
// cursor. Parse reverses it.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	b := binary.BigEndian.AppendUint64(make([]byte, 0, encodedLen), uint64(c.key))
	return base64.RawURLEncoding.EncodeToString(append(b, c.id[:]...))
}

// A key is a time from 1970 to the end of 9999 (PostgreSQL's timestamptz
// holds them all), as microseconds since 1970, or a rank in that range.
const minKey, maxKey = 0, 253402300799999999 // 9999-12-31T23:59:59.999999Z

// Parse decodes a cursor made by Cursor.String: "" is the zero cursor.
// Anything else that is not such a cursor is an apperr.Invalid error
// saying that the link does not point into the list of what (a plural:
// "notifications").
func Parse(s, what string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := BadCursor(what)
	if len(s) != base64.RawURLEncoding.EncodedLen(encodedLen) {
		return Cursor{}, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != encodedLen {
		return Cursor{}, bad
	}
	c := Cursor{key: int64(binary.BigEndian.Uint64(b[:8])), id: [16]byte(b[8:])}
	if c.key < minKey || c.key > maxKey || c.id == [16]byte{} { // no row has the nil ID
		return Cursor{}, bad
	}
	return c, nil
}

// BadCursor is the apperr.Invalid error of a link whose cursor does not
// point into the list of what (a plural: "notifications").
func BadCursor(what string) error {
	return apperr.New(apperr.Invalid, "That link does not point into the list of "+what+". Start again from the newest.")
}
