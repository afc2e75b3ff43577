package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/zoom"
)

// Plan names a Zoom account plan, whose per-category rate limits Limits
// takes as defaults.
type Plan string

const (
	PlanNone     Plan = ""         // no per-category lines until Zoom's headers name them
	PlanPro      Plan = "pro"      // Light 30/s, Medium 20/s, Heavy 10/s, Resource-intensive 10/min
	PlanBusiness Plan = "business" // Business and above: 80/s, 60/s, 40/s, 20/min
)

// ParsePlan reads a plan name: none, pro, business (or business+).
func ParsePlan(s string) (Plan, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none":
		return PlanNone, nil
	case "pro":
		return PlanPro, nil
	case "business", "business+", "enterprise":
		return PlanBusiness, nil
	}
	return "", fmt.Errorf("unknown plan %q: want none, pro or business", s)
}

// planRates are Zoom's per-second limits per category (Zoom's rate-limits
// page, 2026). Resource-intensive is per minute at Zoom.
var planRates = map[Plan]map[zoom.Category]float64{
	PlanPro:      {zoom.Light: 30, zoom.Medium: 20, zoom.Heavy: 10, zoom.ResourceIntensive: 10.0 / 60},
	PlanBusiness: {zoom.Light: 80, zoom.Medium: 60, zoom.Heavy: 40, zoom.ResourceIntensive: 20.0 / 60},
}

// Limits are the request rates one Zoom account allows, in requests per
// second; 0 means no limit for that line.
type Limits struct {
	// PerSecond is the account-wide limit shared by every worker (ZOOMW_RATE_LIMIT).
	PerSecond float64
	// Per Zoom category, on top of PerSecond (ZOOMW_RATE_LIMIT_LIGHT,
	// ZOOMW_RATE_LIMIT_MEDIUM). A 0 takes Plan's figure; Heavy and
	// Resource-intensive always do (the worker's calls are Light and Medium).
	Light, Medium float64
	// Plan fills the categories left at 0 (ZOOMW_ZOOM_PLAN). With none,
	// a category gets a line once Zoom's X-RateLimit-Limit names one.
	Plan Plan
	// Burst is how many requests may go at once after a quiet spell; 0 means 1
	// (an even pace, which keeps Zoom's per-second window from ever seeing more
	// than the limit).
	Burst int
	// MaxWait is the longest Wait sleeps; a longer wait returns a *WaitError
	// without taking a slot, so the job can go back to the queue. 0 means 5s.
	MaxWait time.Duration
}

func (l Limits) rate(c zoom.Category) float64 {
	var r float64
	switch c {
	case zoom.Light:
		r = l.Light
	case zoom.Medium:
		r = l.Medium
	}
	if r == 0 {
		r = planRates[l.Plan][c]
	}
	return r
}

// Limiter is a GCRA rate limiter kept in Redis and shared by every process:
// one round trip per request, atomic in a Lua script that reads Redis's
// clock. It implements zoom.Limiter and zoom.QuotaObserver, so it owns both
// the wait before a request and what Zoom's answer says afterwards:
//
//   - A 429 of the account's per-second quota pauses the category for
//     every process until Retry-After, and halves its learned rate.
//   - X-RateLimit-Remaining against X-RateLimit-Limit is how full Zoom's
//     bucket is. Below half, another app is spending the quota too (or the
//     configured rate is too high): the category's rate, shared by the
//     fleet, is cut by a fifth (at most every 100 ms); above 80% it grows
//     back by 2% of its ceiling (every 200 ms), up to the configured rate
//     or Zoom's Limit. So the fleet slows before Zoom says 429 and takes
//     what the other apps leave.
//   - A daily pool used up (Heavy and Resource-intensive share one; a 429
//     of type Daily-limit, or Remaining 0 of one) is marked until Zoom's
//     Retry-After or Reset: until then Wait returns a *DailyLimitError for
//     that category at once, which the worker defers like the per-host limit.
type Limiter struct {
	rdb    redis.UniversalClient
	base   string
	keys   [5]string // account, light, medium, heavy, pause (the console reads these)
	limits Limits
	// OnWait, if set, is told how long each request waited.
	OnWait func(d time.Duration)
	// refreshed is when this process last refreshed a learned rate's
	// expiry without changing it (Unix ns).
	refreshed atomic.Int64
}

var (
	_ zoom.Limiter       = (*Limiter)(nil)
	_ zoom.QuotaObserver = (*Limiter)(nil)
)

// NewLimiter returns the limiter of one account.
func (s *Store) NewLimiter(account string, l Limits) *Limiter {
	defaults.Set(&l.Burst, 1)
	if l.MaxWait <= 0 {
		l.MaxWait = 5 * time.Second
	}
	// The scripts read the account line, a category's lines and the pauses
	// together, so in Redis Cluster they share the account as hash tag: each
	// account's limiter is one slot, and accounts spread over the shards.
	base := s.opts.Prefix + ":" + s.tag(acct(account)) + ":rl"
	return &Limiter{rdb: s.rdb, base: base, limits: l, keys: [5]string{
		base, base + ":light", base + ":medium", base + ":heavy", base + ":pause"}}
}

func (l *Limiter) catKey(c zoom.Category, suffix string) string {
	if c == "" {
		c = zoom.Light
	}
	return l.base + ":" + string(c) + suffix
}

// pool is the daily pool a category draws from: Heavy and
// Resource-intensive share one.
func pool(c zoom.Category) string {
	if c == zoom.ResourceIntensive {
		return string(zoom.Heavy)
	}
	return string(c)
}

func (l *Limiter) poolKey(c zoom.Category) string { return l.base + ":daily:" + pool(c) }

// WaitError says the limiter would have to wait past its MaxWait (or Zoom
// asked everyone to pause): the request did not go; retry at Until. It is
// a zoom.Held.
type WaitError struct{ Until time.Time }

func (e *WaitError) Error() string {
	return "rate limit: next slot at " + e.Until.UTC().Format(time.RFC3339Nano)
}

// RetryAt lets the worker's error classification find the time.
func (e *WaitError) RetryAt() time.Time { return e.Until }

// DailyLimitError says the account's daily pool for Category is used up
// until Until (Zoom's reset, usually 00:00 UTC): the request did not go. It
// is a zoom.Held (RetryAt), and its DeferUntil and Reason let the worker
// defer the job with a job.deferred event, as for a host's daily limit.
type DailyLimitError struct {
	Category zoom.Category
	Until    time.Time
}

func (e *DailyLimitError) Error() string {
	return "rate limit: " + e.Reason() + " until " + e.Until.UTC().Format(time.RFC3339)
}

// RetryAt implements zoom.Held.
func (e *DailyLimitError) RetryAt() time.Time { return e.Until }

// DeferUntil is when the job may run again.
func (e *DailyLimitError) DeferUntil() time.Time { return e.Until }

// Reason is the deferral's reason, for the job.deferred event.
func (e *DailyLimitError) Reason() string {
	if pool(e.Category) == string(zoom.Heavy) {
		return "the account's daily quota of Heavy and Resource-intensive requests is used up"
	}
	return "the account's daily quota of " + string(e.Category) + " requests is used up"
}

// gcraScript reserves one slot on the account line and one category line at
// once. KEYS: account line, category line, account pause, category pause,
// category learned rate, category daily pool. ARGV: interval µs of the
// account line, interval µs of the category's configured rate (0: none),
// burst - 1, max wait µs, the category line's own max wait µs (learnHorizon).
// An interval of 0 disables a line; a learned rate
// slows the category line (never speeds it past the configured rate).
// Answer: {delay µs, 1 reserved / 0 too long / 2 daily pool used up}.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local d = tonumber(redis.call('GET', KEYS[6]) or '0')
if d > now then return {d - now, 2} end
local allow = now
for i = 3, 4 do
  local p = tonumber(redis.call('GET', KEYS[i]) or '0')
  if p > allow then allow = p end
end
local ivs = {tonumber(ARGV[1]), tonumber(ARGV[2])}
local learned = redis.call('GET', KEYS[5])
if learned then
  local r = tonumber(string.match(learned, '^([%d.]+)'))
  if r and r > 0 then
    local iv = math.floor(1000000 / r)
    if iv > ivs[2] then ivs[2] = iv end
  end
end
local burst = tonumber(ARGV[3])
local tats = {0, 0}
for i = 1, 2 do
  if ivs[i] > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then tat = now end
    tats[i] = tat
    local a = tat - ivs[i] * burst
    if a > allow then allow = a end
  end
end
local delay = allow - now
local maxWait = tonumber(ARGV[4])
if ivs[2] > 0 and tonumber(ARGV[5]) < maxWait then maxWait = tonumber(ARGV[5]) end
if delay > maxWait then return {delay, 0} end
for i = 1, 2 do
  if ivs[i] > 0 then
    local tat = tats[i]
    if allow > tat then tat = allow end
    tat = tat + ivs[i]
    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
  end
end
return {delay, 1}
`)

// pauseScript moves a pause mark later, never earlier. KEYS: pause. ARGV: until µs.
var pauseScript = redis.NewScript(`
local p = tonumber(redis.call('GET', KEYS[1]) or '0')
local u = tonumber(ARGV[1])
if u > p then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if u > now then
    redis.call('SET', KEYS[1], string.format('%.0f', u), 'PX', math.ceil((u - now) / 1000) + 1)
  end
end
return 0
`)

// Learning constants (see Limiter).
const (
	learnLow      = 0.3  // Remaining/Limit below this: slow down
	learnHigh     = 0.6  // above this: speed up
	learnCut      = 0.85 // times the rate on a low reading
	learnGrow     = 0.03 // of the ceiling, added on a high reading
	learnCutEvery = 100 * time.Millisecond
	learnUpEvery  = 200 * time.Millisecond
	learnCut429   = 0.7              // times the rate on a 429 (once per learnCutEvery)
	learnTTL      = 10 * time.Minute // a learned rate not refreshed is forgotten
	// learnHorizon caps how far ahead a category slot is reserved: slots
	// taken at the old rate still go after a cut, so the fleet may only
	// run that far ahead of what Zoom's headers say. A longer wait is a
	// WaitError (the job goes back to the queue until its slot).
	learnHorizon = 500 * time.Millisecond
)

// observeScript learns from one answer. KEYS: category learned rate,
// category pause, daily pool. ARGV: mode (qps429, daily, headers), Limit,
// Remaining, until µs (Retry-After or Reset; 0: none), configured rate
// (0: none), then the learning constants. The learned rate is kept as
// "rate|last change µs".
var observeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local mode, limit, rem, untl, cfg = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local low, high, cut, grow = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local cutEvery, upEvery, ttl, cut429 = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
if mode == 'daily' then
  if untl > now then
    redis.call('SET', KEYS[3], string.format('%.0f', untl), 'PX', math.ceil((untl - now) / 1000) + 1)
  end
  return 1
end
local ceil = limit
if cfg > 0 and (ceil <= 0 or cfg < ceil) then ceil = cfg end
local v = redis.call('GET', KEYS[1])
local rate, last = nil, 0
if v then
  local a, b = string.match(v, '^([%d.]+)|(%d+)')
  rate, last = tonumber(a), tonumber(b) or 0
end
if mode == 'qps429' then
  if untl <= now then untl = now + 1000000 end
  local p = tonumber(redis.call('GET', KEYS[2]) or '0')
  if untl > p then
    redis.call('SET', KEYS[2], string.format('%.0f', untl), 'PX', math.ceil((untl - now) / 1000) + 1)
  end
  -- One cut per cutEvery: the 429s of one burst are one piece of news.
  -- Without a rate of its own (none configured, none learned from
  -- Remaining readings) the pause is all: a rate learned from 429s alone
  -- could never grow back where Zoom sends no Remaining.
  if not rate and cfg > 0 then rate = cfg end
  if rate and rate > 0 and now - last >= cutEvery then
    rate = math.max(rate * cut429, ceil * 0.05)
    local keep = ttl
    if not v then keep = math.min(ttl, 60000) end
    redis.call('SET', KEYS[1], string.format('%.4f|%.0f', rate, now), 'PX', keep)
  end
  return 1
end
if ceil <= 0 or limit <= 0 or rem < 0 then return 0 end
if not rate then rate = ceil end
local frac = rem / limit
local nr = rate
if frac < low and now - last >= cutEvery then
  nr = math.max(rate * cut, ceil * 0.05)
elseif frac > high and rate < ceil and now - last >= upEvery then
  nr = math.min(ceil, rate + ceil * grow)
end
if nr ~= rate or not v then
  redis.call('SET', KEYS[1], string.format('%.4f|%.0f', nr, now), 'PX', ttl)
else
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`)

func interval(rate float64) int64 {
	if rate <= 0 {
		return 0
	}
	return int64(1e6 / rate)
}

// Wait implements zoom.Limiter: it reserves a slot for one request of
// category cat and sleeps until it comes. It returns a *WaitError when the
// slot is further than MaxWait, and a *DailyLimitError when the category's
// daily pool is used up; neither takes a slot.
func (l *Limiter) Wait(ctx context.Context, cat zoom.Category) error {
	if l == nil {
		return nil
	}
	if cat == "" {
		cat = zoom.Light
	}
	keys := []string{l.keys[0], l.catKey(cat, ""), l.keys[4], l.catKey(cat, ":pause"), l.catKey(cat, ":rate"), l.poolKey(cat)}
	res, err := gcraScript.Run(ctx, l.rdb, keys, interval(l.limits.PerSecond), interval(l.limits.rate(cat)),
		l.limits.Burst-1, l.limits.MaxWait.Microseconds(), learnHorizon.Microseconds()).Int64Slice()
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	delay := time.Duration(res[0]) * time.Microsecond
	switch res[1] {
	case 2:
		return &DailyLimitError{Category: cat, Until: time.Now().Add(delay)}
	case 0:
		return &WaitError{Until: time.Now().Add(delay)}
	}
	if delay <= 0 {
		return nil
	}
	if l.OnWait != nil {
		l.OnWait(delay)
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ObserveQuota implements zoom.QuotaObserver (see Limiter). A Redis error
// is dropped: the next answer tells the same again.
func (l *Limiter) ObserveQuota(ctx context.Context, q zoom.Quota) {
	if l == nil || q.UserBusy || q.PerUser {
		return // those hold for one user or one meeting, not the account
	}
	cat := q.Category
	if cat == "" {
		cat = q.ZoomCategory
	}
	if cat == "" {
		cat = zoom.Light
	}
	mode := "headers"
	until := q.Reset
	switch {
	case q.Daily() && (q.Limited || q.Remaining == 0):
		mode = "daily"
		if !q.RetryAfter.IsZero() {
			until = q.RetryAfter
		}
		if until.IsZero() {
			until = time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		}
	case q.Daily():
		return // a daily count with room left: nothing to pace
	case q.Limited:
		mode = "qps429"
		until = q.RetryAfter
	case q.Limit <= 0 || q.Remaining < 0:
		return // no reading to learn from: save the round trip
	default:
		// Between the thresholds nothing changes but the learned rate's
		// expiry: refresh that once in a while, not on every answer.
		frac := float64(q.Remaining) / float64(q.Limit)
		if frac >= learnLow && frac <= learnHigh {
			now := time.Now().UnixNano()
			if last := l.refreshed.Load(); now-last < int64(learnTTL/4) || !l.refreshed.CompareAndSwap(last, now) {
				return
			}
		}
	}
	var untilUS int64
	if !until.IsZero() {
		untilUS = until.UnixMicro()
	}
	keys := []string{l.catKey(cat, ":rate"), l.catKey(cat, ":pause"), l.poolKey(cat)}
	_ = observeScript.Run(ctx, l.rdb, keys, mode, q.Limit, q.Remaining, untilUS, l.limits.rate(cat),
		learnLow, learnHigh, learnCut, learnGrow, learnCutEvery.Microseconds(), learnUpEvery.Microseconds(),
		learnTTL.Milliseconds(), learnCut429).Err()
}

// PauseUntil stops every process's requests for this account, in every
// category, until until. An earlier until than one already set changes
// nothing. ObserveQuota pauses only the category Zoom limited; this is for
// callers that know no category.
func (l *Limiter) PauseUntil(ctx context.Context, until time.Time) error {
	if l == nil {
		return nil
	}
	return pauseScript.Run(ctx, l.rdb, []string{l.keys[4]}, strconv.FormatInt(until.UnixMicro(), 10)).Err()
}
