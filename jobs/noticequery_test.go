package jobs_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/jobs"
)

func TestNoticeQueryCheck(t *testing.T) {
	for _, c := range []struct {
		q  jobs.NoticeQuery
		ok bool
	}{
		{jobs.NoticeQuery{Limit: 30}, true},
		{jobs.NoticeQuery{State: jobs.NoticeNotSent, Limit: 30}, true},
		{jobs.NoticeQuery{State: "not sent", Limit: 30}, false},
		{jobs.NoticeQuery{State: "all", Limit: 30}, false},
		{jobs.NoticeQuery{Limit: 0}, false},
		{jobs.NoticeQuery{Limit: jobs.MaxNoticePage + 1}, false},
		{jobs.NoticeQuery{Ref: "0b6c7f8e-2c1a-4f6e-9d3b-5a4e3c2b1a09", State: jobs.NoticeFailed, Limit: 30}, true},
		{jobs.NoticeQuery{Ref: "0B6C7F8E-2C1A-4F6E-9D3B-5A4E3C2B1A09", Limit: 30}, false}, // not as notices record it
		{jobs.NoticeQuery{Ref: "ref-acme", Limit: 30}, false},
		{jobs.NoticeQuery{Ref: "0b6c7f8e-2c1a-4f6e-9d3b-5a4e3c2b1a09", Limit: 0}, false},
	} {
		if err := c.q.Check(); (err == nil) != c.ok || (err != nil && apperr.CodeOf(err) != apperr.Invalid) {
			t.Errorf("%+v: %v", c.q, err)
		}
	}
}

// A ref is an object's ID as notices record it (a lowercase UUID), however
// it is written; anything else is apperr.Invalid.
func TestNoticeRefsAreObjectIDs(t *testing.T) {
	id := uuid.New()
	for _, in := range []string{id.String(), strings.ToUpper(id.String())} {
		if got, err := jobs.ParseNoticeRef(in); err != nil || got != id.String() {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if got, err := jobs.ParseNoticeRef(""); err != nil || got != "" {
		t.Errorf("the empty ref: %q %v", got, err)
	}
	for _, bad := range []string{"x", "ref-acme", uuid.Nil.String(), "{" + id.String() + "}", "urn:uuid:" + id.String(),
		strings.ReplaceAll(id.String(), "-", ""), id.String() + " ", " " + id.String(), id.String()[1:]} {
		if got, err := jobs.ParseNoticeRef(bad); apperr.CodeOf(err) != apperr.Invalid || got != "" {
			t.Errorf("%q: %q %v", bad, got, err)
		}
	}
}
