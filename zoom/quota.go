package zoom

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// readQuota reads what an answer's headers say about the account's quota.
// e is the answer's *APIError when it was one (nil for a 2xx); it tells the
// 429s of one user or one registrant from the account's own.
func readQuota(cl call, resp *http.Response, e *APIError, now time.Time) Quota {
	h := resp.Header
	q := Quota{
		Op:           cl.op,
		Category:     cl.cat,
		ZoomCategory: Category(strings.ToLower(strings.TrimSpace(h.Get("X-RateLimit-Category")))),
		Type:         strings.TrimSpace(h.Get("X-RateLimit-Type")),
		Limit:        headerInt(h, "X-RateLimit-Limit", 0),
		Remaining:    headerInt(h, "X-RateLimit-Remaining", -1),
		Reset:        parseRetryAfter(h.Get("X-RateLimit-Reset"), now),
		RetryAfter:   parseRetryAfter(h.Get("Retry-After"), now),
		Status:       resp.StatusCode,
	}
	if q.ZoomCategory == "resource intensive" || q.ZoomCategory == "resource_intensive" {
		q.ZoomCategory = ResourceIntensive
	}
	if e != nil {
		q.RetryAfter = e.RetryAfter // the daily limits' next 00:00 UTC included
		q.UserBusy = e.UserBusy
		q.PerUser = e.DailyLimit || e.RegistrantLimit
	}
	if q.Daily() && perUserDaily[cl.op] {
		// Zoom counts a host's creates and updates (and a registrant's
		// registrations) in these headers, on success too.
		q.PerUser = true
	}
	q.Limited = resp.StatusCode == http.StatusTooManyRequests && !q.UserBusy && !q.PerUser
	return q
}

// headerInt reads a whole number header; absent or unreadable is def.
func headerInt(h http.Header, name string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	if err != nil || n < 0 {
		return def
	}
	return n
}
