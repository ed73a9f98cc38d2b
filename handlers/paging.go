package handlers

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/web"
)

// pageQuery is the query of the page of limit rows the request asks for:
// the first, or the one after the cursor in ?before (from an "Older" link).
// A bad cursor is an apperr.Invalid error saying it does not point into the
// list of what (a plural), and nothing is read.
func pageQuery(c echo.Context, limit int, what string) (paging.Query, error) {
	before, err := paging.Parse(c.QueryParam("before"), what)
	return paging.Query{Before: before, Limit: limit}, err
}

// listURL is the page at path (with the query v, kept as it is) listing the
// rows after the cursor before (zero: the first page), then the fragment
// anchor when not "".
func listURL(path string, v url.Values, before paging.Cursor, anchor string) string {
	q := url.Values{}
	for k, vs := range v {
		q[k] = vs
	}
	if !before.IsZero() {
		q.Set("before", before.String())
	}
	u := path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}

// pager links the page read for q, whose next page starts at older (zero:
// none follows), to the list's first page and to the next, at path with the
// query v and the fragment anchor (listURL).
func pager(path string, v url.Values, q paging.Query, older paging.Cursor, anchor string) web.Pager {
	p := web.Pager{Older: !q.Before.IsZero(), NewestURL: listURL(path, v, paging.Cursor{}, anchor)}
	if !older.IsZero() {
		p.OlderURL = listURL(path, v, older, anchor)
	}
	return p
}
