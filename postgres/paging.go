package postgres

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/paging"
)

// keyset is the (before_at, before_id) pair a list query ordered by time,
// newest first, compares its rows to for the cursor c (made by paging.At):
// both NULL for the zero cursor, the first page.
func keyset(c paging.Cursor) (pgtype.Timestamptz, pgtype.UUID) {
	if c.IsZero() {
		return pgtype.Timestamptz{}, pgtype.UUID{}
	}
	return timestamptz(c.Time()), pgUUID(c.UUID())
}
