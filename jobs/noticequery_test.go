package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/jobs"
)

// A cursor survives its URL form to the microsecond; anything else in its
// place is apperr.Invalid.
func TestNoticeCursorsRoundTripAndOnlyThey(t *testing.T) {
	c := jobs.NoticeCursor{At: time.Date(2031, 3, 1, 12, 0, 0, 123456000, time.UTC), ID: uuid.New()}
	s := c.String()
	got, err := jobs.ParseNoticeCursor(s)
	if err != nil || got != c || strings.ContainsAny(s, "+/=%&?#") {
		t.Fatalf("round trip of %q: %+v %v", s, got, err)
	}
	if z, err := jobs.ParseNoticeCursor(""); err != nil || !z.IsZero() || (jobs.NoticeCursor{}).String() != "" {
		t.Fatalf("the empty cursor: %+v %v", z, err)
	}
	for _, bad := range []string{"x", s[1:], s + "A", s[:len(s)-1] + "*", strings.Repeat("_", len(s)), strings.Repeat("A", len(s)),
		"2031-03-01T12:00:00Z," + c.ID.String()} {
		if _, err := jobs.ParseNoticeCursor(bad); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

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
	} {
		if err := c.q.Check(); (err == nil) != c.ok || (err != nil && apperr.CodeOf(err) != apperr.Invalid) {
			t.Errorf("%+v: %v", c.q, err)
		}
	}
}
