package monitor

import "github.com/gatehouse/gatehouse/paging"

// The security page lists a tenant's alerts a page at a time (paging),
// open ones first, then newest first: by rank (1 open, 0 acknowledged),
// then ID, both descending, a strict order.

// alertsList names the alerts in a bad cursor's error.
const alertsList = "alerts"

// Cursor is where alert a stands in the alerts' order (paging.Ranked);
// a page read after it starts with the next alert.
func (a Raised) Cursor() paging.Cursor {
	var rank int64
	if a.AckedAt.IsZero() {
		rank = 1
	}
	return paging.Ranked(rank, a.ID)
}

// ParseAlertCursor decodes a cursor made by Raised.Cursor ("" is the zero
// cursor, the first page); anything else is an apperr.Invalid error with a
// plain message.
func ParseAlertCursor(s string) (paging.Cursor, error) {
	c, err := paging.Parse(s, alertsList)
	if err == nil {
		_, _, _, err = AlertPosition(c)
	}
	if err != nil {
		return paging.Cursor{}, err
	}
	return c, nil
}

// AlertPosition is the keyset of the alerts' order that c names: whether
// the alert is open and its ID; from is false for the zero cursor (the
// first page). A cursor not made by Raised.Cursor is an apperr.Invalid
// error with a plain message.
func AlertPosition(c paging.Cursor) (open bool, id int64, from bool, err error) {
	if c.IsZero() {
		return false, 0, false, nil
	}
	rank, id, ok := c.Rank()
	if !ok || rank < 0 || rank > 1 {
		return false, 0, false, paging.BadCursor(alertsList)
	}
	return rank == 1, id, true, nil
}
