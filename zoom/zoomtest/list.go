package zoomtest

import (
	"maps"
	"net/url"
	"slices"
	"time"
)

// Listings: GET /users/{userId}/meetings and GET
// /meetings/{meetingId}/registrants page the same way. The first page fixes
// the listing: later pages walk it (leaving out what was deleted since),
// whatever is added meanwhile. A next_page_token is good for 15 minutes and
// may be used more than once; an unknown or expired one, or one of another
// listing, is 400, code 300.

// pageTokenTTL is how long a next_page_token stays good (Zoom: 15 minutes).
const pageTokenTTL = 15 * time.Minute

// listing is the rest of a listing that a next_page_token stands for.
type listing[K comparable] struct {
	scope   string // what is listed (a host and type, say): a token is good only for the same
	ids     []K    // still to list, in order
	total   int
	number  int // page number of the next page
	expires time.Time
}

// page is one page of a listing.
type page struct {
	size, number, total int
	next                string // next_page_token; "" on the last page
	items               []map[string]any
}

// body is the page as Zoom answers it, the items under itemsKey.
func (p page) body(itemsKey string) map[string]any {
	return map[string]any{
		"page_size":       p.size,
		"page_count":      (p.total + p.size - 1) / p.size,
		"total_records":   p.total,
		"next_page_token": p.next,
		itemsKey:          p.items,
	}
}

// nextPageLocked answers the page lq asks for of the listing scope (which
// names lq.filter): the one lq.token stands for, or the first of the ids all
// returns.
// item renders an id; false leaves out one deleted since. The rest is kept
// in pages under a new token; now is the time of the request. The caller
// holds s.mu.
func nextPageLocked[K comparable](s *Server, pages map[string]*listing[K], now time.Time, lq listQuery, scope string,
	all func() []K, item func(K) (map[string]any, bool)) (page, *answer) {
	maps.DeleteFunc(pages, func(_ string, l *listing[K]) bool { return now.After(l.expires) })
	var l *listing[K]
	if lq.token != "" {
		// A token stays good until it expires, so a page can be asked again.
		if l = pages[lq.token]; l == nil || l.scope != scope {
			a := invalidParameter("next_page_token")
			return page{}, &a
		}
	} else {
		ids := all()
		l = &listing[K]{scope: scope, ids: ids, total: len(ids), number: 1}
	}
	p := page{size: lq.size, number: l.number, total: l.total, items: []map[string]any{}}
	rest := l.ids
	for len(p.items) < lq.size && len(rest) > 0 {
		if it, ok := item(rest[0]); ok {
			p.items = append(p.items, it)
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		p.next = s.randString(32, alnum)
		pages[p.next] = &listing[K]{scope: scope, ids: rest, total: l.total, number: l.number + 1,
			expires: now.Add(pageTokenTTL)}
	}
	return p, nil
}

// listQuery is what a listing's query asks for.
type listQuery struct {
	filter string // the parameter that picks what is listed (type, status)
	size   int    // page_size
	token  string // next_page_token; "" for the first page
}

// readListQuery reads a listing's query: the parameter key, def where it is
// empty, else one of allowed; page_size, 1..300, default 30 (0 means 30,
// beyond 300 is 300); and next_page_token. A bad one is answered with 400,
// code 300, naming it.
func readListQuery(q url.Values, key, def string, allowed []string) (listQuery, *answer) {
	lq := listQuery{filter: q.Get(key), size: 30, token: q.Get("next_page_token")}
	if lq.filter == "" {
		lq.filter = def
	} else if !slices.Contains(allowed, lq.filter) {
		a := invalidField(key)
		return lq, &a
	}
	if v := q.Get("page_size"); v != "" {
		n, ok := asInt(v)
		if !ok {
			a := invalidField("page_size")
			return lq, &a
		}
		if n > 0 {
			lq.size = int(min(n, 300))
		}
	}
	return lq, nil
}
