package paging_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/paging"
)

// A cursor survives its URL form (a time to the microsecond, or a rank and
// a number); anything else in its place is apperr.Invalid, with a message
// naming the list.
func TestCursorsRoundTripAndOnlyThey(t *testing.T) {
	at := paging.At(time.Date(2031, 3, 1, 12, 0, 0, 123456000, time.UTC), uuid.New())
	ranked := paging.Ranked(1, 987654321)
	for _, c := range []paging.Cursor{at, ranked, paging.At(time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), uuid.New())} {
		s := c.String()
		got, err := paging.Parse(s, "things")
		if err != nil || got != c || strings.ContainsAny(s, "+/=%&?#") {
			t.Fatalf("round trip of %q: %+v %v", s, got, err)
		}
	}
	if got, _ := paging.Parse(at.String(), "things"); !got.Time().Equal(at.Time()) || got.UUID() != at.UUID() {
		t.Fatalf("time cursor: %v %v", got.Time(), got.UUID())
	}
	if r, n, ok := ranked.Rank(); r != 1 || n != 987654321 || !ok {
		t.Fatalf("ranked cursor: %d %d %v", r, n, ok)
	}
	if _, _, ok := at.Rank(); ok {
		t.Fatal("a time cursor read as ranked")
	}
	if z, err := paging.Parse("", "things"); err != nil || !z.IsZero() || (paging.Cursor{}).String() != "" {
		t.Fatalf("the empty cursor: %+v %v", z, err)
	}
	s := at.String()
	for _, bad := range []string{"x", s[1:], s + "A", s[:len(s)-1] + "*", strings.Repeat("_", len(s)), strings.Repeat("A", len(s)),
		"2031-03-01T12:00:00Z," + at.UUID().String(), paging.At(time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), uuid.New()).String()} {
		_, err := paging.Parse(bad, "things")
		if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || !strings.Contains(e.Message, "list of things") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Cut keeps a page of the rows read and points past its last row only
// when more were read.
func TestCutKeepsAPageAndSaysWhetherMoreFollow(t *testing.T) {
	at := func(n int) paging.Cursor { return paging.Ranked(0, int64(n)) }
	q := paging.Query{Limit: 3}
	if q.Fetch() != 4 {
		t.Fatalf("fetch %d", q.Fetch())
	}
	if p := paging.Cut(q, []int{9, 8, 7, 6}, at); !slices.Equal(p.Rows, []int{9, 8, 7}) || p.Older != at(7) {
		t.Fatalf("a full page and more: %+v", p)
	}
	for _, rows := range [][]int{{9, 8, 7}, {9}, nil} {
		if p := paging.Cut(q, rows, at); !slices.Equal(p.Rows, rows) || !p.Older.IsZero() {
			t.Fatalf("%v: %+v", rows, p)
		}
	}
	for _, c := range []struct {
		limit int
		ok    bool
	}{{1, true}, {paging.MaxLimit, true}, {0, false}, {paging.MaxLimit + 1, false}} {
		if err := (paging.Query{Limit: c.limit}).Check(); (err == nil) != c.ok {
			t.Errorf("limit %d: %v", c.limit, err)
		}
	}
}

func TestMapTurnsEachRowAndKeepsTheCursor(t *testing.T) {
	at := func(n int) paging.Cursor { return paging.Ranked(0, int64(n)) }
	p := paging.Map(paging.Cut(paging.Query{Limit: 2}, []int{9, 8, 7}, at), strconv.Itoa)
	if !slices.Equal(p.Rows, []string{"9", "8"}) || p.Older != at(8) {
		t.Fatalf("mapped page: %+v", p)
	}
	if e := paging.Map(paging.Page[int]{}, strconv.Itoa); len(e.Rows) != 0 || !e.Older.IsZero() {
		t.Fatalf("an empty page: %+v", e)
	}
}
