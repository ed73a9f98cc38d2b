package jobs

import (
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/paging"
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
	State  string        // one of NoticeStates; "" for every state
	Before paging.Cursor // after this notice (paging.At its enqueued_at and ID); zero: from the newest
	Limit  int           // 1..MaxNoticePage
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
	Older paging.Cursor
}

// NoticesList names the notifications in a bad cursor's error (paging.Parse).
const NoticesList = "notifications"

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
