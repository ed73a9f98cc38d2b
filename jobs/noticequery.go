package jobs

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
)

// MaxNoticePage is the most notices one page may ask for.
const MaxNoticePage = 500

// NoticeStates returns the delivery states a list of notices can be
// narrowed to, in the order a page offers them (a fresh slice each call).
func NoticeStates() []string {
	return []string{NoticeFailed, NoticeRetrying, NoticeNotSent, NoticeDelivered, NoticePending}
}

// NoticeQuery asks for one page of a tenant's notices, newest first: by
// when they were enqueued, then by ID (descending), a strict total order.
type NoticeQuery struct {
	// Ref narrows the page to the notices about one object (a break-glass,
	// a share, a request, a revocation: its ID, as ParseNoticeRef gives
	// it); "" for every notice.
	Ref    string
	State  string       // one of NoticeStates; "" for every state
	Before NoticeCursor // the page starts after this notice; zero: at the newest
	Limit  int          // 1..MaxNoticePage
}

// Check returns an apperr.Invalid error with a plain message when the ref
// is not an object's ID as ParseNoticeRef gives it, the state is not one a
// notice can be in or the limit is out of range; nil otherwise.
func (q NoticeQuery) Check() error {
	if q.Ref != "" {
		if ref, err := ParseNoticeRef(q.Ref); err != nil || ref != q.Ref {
			return errBadRef()
		}
	}
	if q.State != "" && !knownNoticeState(q.State) {
		return apperr.New(apperr.Invalid, "There is no such delivery state. Pick all, failed, retrying, not sent, delivered or pending.")
	}
	if q.Limit < 1 || q.Limit > MaxNoticePage {
		return apperr.New(apperr.Invalid, "A page holds 1 to 500 notices.")
	}
	return nil
}

func knownNoticeState(s string) bool {
	for _, k := range NoticeStates() {
		if s == k {
			return true
		}
	}
	return false
}

// NoticePage is one page of a tenant's notices, newest first.
type NoticePage struct {
	Notices []Delivery
	// Older is where the next, older page starts (the last notice here);
	// zero when no older notice matches.
	Older NoticeCursor
}

// NoticeCursor names a position in a tenant's notices, newest first: the
// notice enqueued at At with ID. It is no capability: a page is always
// read within the viewer's own tenant, wherever the cursor points.
type NoticeCursor struct {
	At time.Time // enqueued_at, to the microsecond (PostgreSQL's precision)
	ID uuid.UUID
}

// IsZero reports whether c names no position (the newest notices).
func (c NoticeCursor) IsZero() bool { return c.At.IsZero() && c.ID == uuid.Nil }

// cursorLen is an encoded cursor's length in bytes before base64: the
// microseconds since 1970 (8, big-endian) and the ID (16).
const cursorLen = 8 + 16

// String encodes c opaquely for a URL (unpadded base64url); "" for the zero
// cursor. ParseNoticeCursor reverses it.
func (c NoticeCursor) String() string {
	if c.IsZero() {
		return ""
	}
	b := make([]byte, 0, cursorLen)
	b = binary.BigEndian.AppendUint64(b, uint64(c.At.UnixMicro()))
	b = append(b, c.ID[:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Cursors name times within these years (PostgreSQL's timestamptz holds
// them all); a notice is never enqueued outside them.
const minCursorYear, maxCursorYear = 1970, 9999

// ParseNoticeCursor decodes a cursor made by NoticeCursor.String: "" is
// the zero cursor. Anything else that is not such a cursor is an
// apperr.Invalid error with a plain message.
func ParseNoticeCursor(s string) (NoticeCursor, error) {
	if s == "" {
		return NoticeCursor{}, nil
	}
	bad := apperr.New(apperr.Invalid, "That link does not point into the list of notifications. Start again from the newest.")
	if len(s) != base64.RawURLEncoding.EncodedLen(cursorLen) {
		return NoticeCursor{}, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != cursorLen {
		return NoticeCursor{}, bad
	}
	at := time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC()
	if at.Year() < minCursorYear || at.Year() > maxCursorYear {
		return NoticeCursor{}, bad
	}
	id := uuid.UUID(b[8:])
	if id == uuid.Nil { // no notice has it
		return NoticeCursor{}, bad
	}
	return NoticeCursor{At: at, ID: id}, nil
}

// errBadRef is the error of a ref that names no object.
func errBadRef() error {
	return apperr.New(apperr.Invalid,
		"That link does not name a break-glass, share, request or revocation. Open its notifications from the object's page, or list them all.")
}

// ParseNoticeRef returns the object ID s names, as notices record it (a
// lowercase UUID): "" for "" (every object). Anything else that is not a
// UUID is an apperr.Invalid error with a plain message.
func ParseNoticeRef(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil || len(s) != len(id.String()) {
		return "", errBadRef()
	}
	return id.String(), nil
}
