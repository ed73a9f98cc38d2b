// Package paging reads a long list a page at a time by keyset: each page
// starts right after the last row of the page before, in the list's strict
// order (a sort key, then the row's unique ID), so that paging neither
// skips nor repeats a row, however many share a sort key. It holds the
// cursor naming where a page ends and the page itself; the SQL that
// compares a cursor lives with each list's query.
package paging

import "github.com/gatehouse/gatehouse/apperr"

// MaxLimit is the most rows one page may ask for.
const MaxLimit = 500

// Query asks for one page of a list: the rows after Before (zero: from
// the first), at most Limit of them.
type Query struct {
	Before Cursor
	Limit  int // 1..MaxLimit
}

// First is the query of a list's first page of limit rows.
func First(limit int) Query { return Query{Limit: limit} }

// Check returns an apperr.Invalid error when the limit is out of range;
// nil otherwise.
func (q Query) Check() error {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return apperr.New(apperr.Invalid, "A page holds 1 to 500 rows.")
	}
	return nil
}

// Page is one page of a list, in the list's order.
type Page[T any] struct {
	Rows []T
	// Older is where the next page starts (at the last row here); zero
	// when no row follows.
	Older Cursor
}

// Cut makes the page of q from rows, read for q with one row more than a
// page (Fetch) to learn whether another page follows: the first q.Limit
// rows, and the cursor at the last of them (at names a row's position)
// when more were read. It never fails.
func Cut[T any](q Query, rows []T, at func(T) Cursor) Page[T] {
	if len(rows) <= q.Limit {
		return Page[T]{Rows: rows}
	}
	rows = rows[:q.Limit]
	return Page[T]{Rows: rows, Older: at(rows[len(rows)-1])}
}

// Map is p with each row turned into a U by f, in order, the cursor kept.
func Map[T, U any](p Page[T], f func(T) U) Page[U] {
	out := Page[U]{Rows: make([]U, 0, len(p.Rows)), Older: p.Older}
	for _, r := range p.Rows {
		out.Rows = append(out.Rows, f(r))
	}
	return out
}

// Fetch is how many rows to read for q: one more than a page, so that Cut
// knows whether another page follows.
func (q Query) Fetch() int32 { return int32(q.Limit + 1) }
