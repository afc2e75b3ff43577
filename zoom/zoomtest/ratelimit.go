package zoomtest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// The account's per-second rate limit is a GCRA (a token bucket kept as one
// time): requests are spaced 1/RateLimit apart on average, with a burst of
// one second's worth (ceil(RateLimit), at least 1). Time is Options.Now, so
// a test with a stopped clock gets exactly the burst and then 429s.

// SetRateLimit changes Options.RateLimit (requests per second for the
// account; 0 means no limit).
func (s *Server) SetRateLimit(perSecond float64) { setLocked(s, &s.rateLimit, perSecond) }

// takeQPS spends one request of the per-second budget, or returns Zoom's
// 429 when it is used up.
func (s *Server) takeQPS(category string) (answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rate := s.rateLimit
	if rate <= 0 {
		return answer{}, false
	}
	now := s.now()
	interval := time.Duration(float64(time.Second) / rate)
	burst := max(1, int(math.Ceil(rate)))
	tolerance := time.Duration(burst-1) * interval
	tat := s.tat
	if tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - tolerance; wait > 0 {
		h := http.Header{}
		h.Set("X-RateLimit-Category", category)
		h.Set("X-RateLimit-Type", "QPS")
		h.Set("X-RateLimit-Limit", strconv.FormatFloat(rate, 'f', -1, 64))
		h.Set("X-RateLimit-Remaining", "0")
		if v := retryAfter(s.opts.RetryAfterFormat, now, wait); v != "" {
			h.Set("Retry-After", v)
		}
		return answer{status: http.StatusTooManyRequests, header: h,
			body: errorBody{Code: http.StatusTooManyRequests, Message: msgQPS}}, true
	}
	s.tat = tat.Add(interval)
	return answer{}, false
}

// retryAfter writes a Retry-After value for a wait from now in the given
// format (see Options.RetryAfterFormat); "" means no header.
func retryAfter(format string, now time.Time, wait time.Duration) string {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	at := now.Add(time.Duration(secs) * time.Second).UTC().Truncate(time.Second)
	switch format {
	case "none":
		return ""
	case "http-date":
		return at.Format(http.TimeFormat)
	case "rfc3339":
		return formatTime(at)
	default:
		return strconv.FormatInt(secs, 10)
	}
}

// The per-host daily limit: Options.DailyMeetingLimit meeting creates and
// updates per host per UTC day, reset at 00:00 UTC.

type dayKey struct {
	hostID string
	day    string // yyyy-mm-dd in UTC
}

func utcDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// dailyLimitLocked returns Zoom's answer when the host has used up today's
// creates and updates: 429 {"code": 429, "message": "You have exceeded the
// daily rate limit (100) of Meeting Create/Update API requests permitted for
// this particular user. You may resume these requests at GMT 00:00:00."}
// with X-RateLimit-Type: Daily-limit and no Retry-After, as Zoom sends it
// (or, with Options.DailyLimitAs300, the older answer with status and code 300).
func (s *Server) dailyLimitLocked(hostID string, now time.Time) (answer, bool) {
	limit := s.opts.DailyMeetingLimit
	if s.daily[dayKey{hostID, utcDay(now)}] < limit {
		return answer{}, false
	}
	n := strconv.Itoa(limit)
	if s.opts.DailyLimitAs300 {
		return zoomError(http.StatusMultipleChoices, codeInvalidParam,
			"A maximum of "+n+" meetings can be created/updated for a single user in one day."), true
	}
	h := http.Header{}
	h.Set("X-RateLimit-Type", "Daily-limit")
	h.Set("X-RateLimit-Limit", n)
	h.Set("X-RateLimit-Remaining", "0")
	return answer{status: http.StatusTooManyRequests, header: h, body: errorBody{
		Code: http.StatusTooManyRequests,
		Message: "You have exceeded the daily rate limit (" + n + ") of Meeting Create/Update API requests " +
			"permitted for this particular user. You may resume these requests at GMT 00:00:00.",
	}}, true
}

// countDailyLocked counts one create or update for the host today, and
// forgets the counts of earlier days.
func (s *Server) countDailyLocked(hostID string, now time.Time) {
	today := utcDay(now)
	for k := range s.daily {
		if k.day != today {
			delete(s.daily, k)
		}
	}
	s.daily[dayKey{hostID, today}]++
}

// Per-category limits of an account plan, as Zoom's rate-limits page
// (https://developers.zoom.us/docs/api/rate-limits/) defines them: each
// operation has a label (Light, Medium, Heavy, Resource-intensive) and each
// label its own per-second (Resource-intensive: per-minute) quota for the
// whole account, shared by every app installed on it; Heavy and
// Resource-intensive also share one daily pool.

// Plan is an account plan, for the per-category rate limits.
type Plan string

// The plans: none (no per-category limits), Pro (Light 30/s, Medium 20/s,
// Heavy 10/s, Resource-intensive 10/min, Heavy and Resource-intensive
// 30,000 a day between them) and Business+ (Business, Education,
// Enterprise, Partners: 80/s, 60/s, 40/s, 20/min, 60,000 a day).
const (
	PlanNone     Plan = ""
	PlanPro      Plan = "pro"
	PlanBusiness Plan = "business"
)

// Zoom's rate-limit categories (X-RateLimit-Category).
const (
	CategoryLight             = "Light"
	CategoryMedium            = "Medium"
	CategoryHeavy             = "Heavy"
	CategoryResourceIntensive = "Resource-intensive"
)

// quotaLimit is one category's quota: n requests per window.
type quotaLimit struct {
	n      float64
	window time.Duration
}

var planLimits = map[Plan]map[string]quotaLimit{
	PlanPro: {
		CategoryLight: {30, time.Second}, CategoryMedium: {20, time.Second},
		CategoryHeavy: {10, time.Second}, CategoryResourceIntensive: {10, time.Minute},
	},
	PlanBusiness: {
		CategoryLight: {80, time.Second}, CategoryMedium: {60, time.Second},
		CategoryHeavy: {40, time.Second}, CategoryResourceIntensive: {20, time.Minute},
	},
}

// planDailyPool is the daily limit Heavy and Resource-intensive share.
var planDailyPool = map[Plan]int{PlanPro: 30_000, PlanBusiness: 60_000}

const msgDailyQuota = "You have reached the maximum daily rate limit for this API. " +
	"Refer to the response header for details on when you can make another request."

// bucket is a category's token bucket: up to one window's worth of
// requests, refilled at n per window, drained by our requests and by the
// other apps' load.
type bucket struct {
	tokens float64
	last   time.Time
}

// quotaState is the per-category limiter's state (under Server.mu).
type quotaState struct {
	plan      Plan
	buckets   map[string]*bucket
	other     map[string]float64 // other apps' requests per second, per category
	poolDay   string             // the UTC day poolUsed counts
	poolUsed  float64            // Heavy + Resource-intensive requests today, other apps' included
	poolTouch time.Time          // when the other apps' share was last added to poolUsed
}

// SetPlan changes Options.Plan: the per-category limits from now on
// (PlanNone turns them off; Options.RateLimit is separate and stays).
func (s *Server) SetPlan(p Plan) { setLocked(s, &s.quota.plan, p) }

// SetOtherAppLoad simulates another app installed on the same account
// that sends perSecond requests of category (CategoryLight, ...) all the
// time: they take their share of the category's quota (and, for Heavy and
// Resource-intensive, of the daily pool), so this fake's clients get only
// what is left. The other app's requests beyond the quota fail on its
// side, never on ours. 0 removes the load.
func (s *Server) SetOtherAppLoad(category string, perSecond float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.refillLocked(category, now) // what was used so far at the old load
	s.touchPoolLocked(now)
	if perSecond <= 0 {
		delete(s.quota.other, category)
		return
	}
	s.quota.other[category] = perSecond
}

// refillLocked brings a category's bucket to now: refilled at the plan's
// rate, drained at the other apps' rate, within [0, one window's worth].
func (s *Server) refillLocked(category string, now time.Time) (*bucket, quotaLimit, bool) {
	lim, ok := planLimits[s.quota.plan][category]
	if !ok {
		return nil, quotaLimit{}, false
	}
	b := s.quota.buckets[category]
	if b == nil {
		b = &bucket{tokens: lim.n, last: now}
		s.quota.buckets[category] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		rate := lim.n / lim.window.Seconds()
		b.tokens = min(lim.n, max(0, b.tokens+dt*(rate-s.quota.other[category])))
	}
	b.last = now
	return b, lim, true
}

// touchPoolLocked adds the other apps' Heavy and Resource-intensive
// requests since the last call to today's pool, and starts a new pool at
// 00:00 UTC.
func (s *Server) touchPoolLocked(now time.Time) {
	q := &s.quota
	if day := utcDay(now); day != q.poolDay {
		q.poolDay, q.poolUsed, q.poolTouch = day, 0, now
	}
	if dt := now.Sub(q.poolTouch).Seconds(); dt > 0 {
		q.poolUsed += dt * (q.other[CategoryHeavy] + q.other[CategoryResourceIntensive])
	}
	q.poolTouch = now
}

// takeQuota spends one request of category's quota under the account's
// plan. It returns the rate-limit headers Zoom puts on the answer
// (X-RateLimit-Category, -Type, -Limit, -Remaining), and whether the
// request is over the quota: then Zoom's 429, per second (Retry-After and
// X-RateLimit-Reset) or daily (Retry-After: the next 00:00 UTC).
func (s *Server) takeQuota(category string) (h http.Header, over answer, limited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	b, lim, ok := s.refillLocked(category, now)
	if !ok {
		return nil, answer{}, false
	}
	h = http.Header{}
	h.Set("X-RateLimit-Category", category)
	if pool := planDailyPool[s.quota.plan]; category == CategoryHeavy || category == CategoryResourceIntensive {
		s.touchPoolLocked(now)
		if s.quota.poolUsed+1 > float64(pool) {
			next := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
			h.Set("X-RateLimit-Type", "Daily-limit")
			h.Set("X-RateLimit-Limit", strconv.Itoa(pool))
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("Retry-After", formatTime(next))
			return h, answer{status: http.StatusTooManyRequests, header: h,
				body: errorBody{Code: http.StatusTooManyRequests, Message: msgDailyQuota}}, true
		}
	}
	h.Set("X-RateLimit-Type", "QPS")
	h.Set("X-RateLimit-Limit", strconv.FormatFloat(lim.n, 'f', -1, 64))
	if b.tokens < 1 {
		h.Set("X-RateLimit-Remaining", "0")
		wait := time.Second
		if rate := lim.n/lim.window.Seconds() - s.quota.other[category]; rate > 0 {
			wait = time.Duration((1 - b.tokens) / rate * float64(time.Second))
		}
		if v := retryAfter(s.opts.RetryAfterFormat, now, wait); v != "" {
			h.Set("Retry-After", v)
		}
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(wait+time.Second-1).Unix(), 10)) // Unix s, rounded up
		return h, answer{status: http.StatusTooManyRequests, header: h,
			body: errorBody{Code: http.StatusTooManyRequests, Message: msgQPS}}, true
	}
	b.tokens--
	if category == CategoryHeavy || category == CategoryResourceIntensive {
		s.quota.poolUsed++
	}
	h.Set("X-RateLimit-Remaining", strconv.Itoa(int(math.Floor(b.tokens))))
	return h, answer{}, false
}
