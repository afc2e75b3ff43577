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
func (s *Server) SetRateLimit(perSecond float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = perSecond
}

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
