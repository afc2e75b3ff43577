package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/zoom"
)

// Limits are the request rates one Zoom account allows, in requests per
// second; 0 means no limit for that line.
type Limits struct {
	// PerSecond is the account-wide limit shared by every worker (ZOOMW_RATE_LIMIT).
	PerSecond float64
	// Per Zoom category (Light, Medium, Heavy), on top of PerSecond.
	Light, Medium, Heavy float64
	// Burst is how many requests may go at once after a quiet spell; 0 means 1
	// (an even pace, which keeps Zoom's per-second window from ever seeing more
	// than the limit).
	Burst int
	// MaxWait is the longest Wait sleeps; a longer wait returns a *WaitError
	// without taking a slot, so the job can go back to the queue. 0 means 5s.
	MaxWait time.Duration
}

// Limiter is a GCRA rate limiter kept in Redis and shared by every process:
// one round trip per request, atomic in a Lua script that reads Redis's clock.
// It implements zoom.Limiter.
type Limiter struct {
	rdb    redis.UniversalClient
	keys   [5]string // account, light, medium, heavy, pause
	limits Limits
	// OnWait, if set, is told how long each request waited.
	OnWait func(d time.Duration)
}

var (
	_ zoom.Limiter = (*Limiter)(nil)
	_ zoom.Held    = (*WaitError)(nil)
)

// NewLimiter returns the limiter of one account. A nil *Limiter from a zero
// Limits is not returned: a Limiter with no limits lets everything pass
// without a round trip.
func (s *Store) NewLimiter(account string, l Limits) *Limiter {
	if l.Burst <= 0 {
		l.Burst = 1
	}
	if l.MaxWait <= 0 {
		l.MaxWait = 5 * time.Second
	}
	// One script reads the account line, the category line and the pause
	// together, so in Redis Cluster they share the account as hash tag: each
	// account's limiter is one slot, and accounts spread over the shards.
	base := s.opts.Prefix + ":" + s.tag(acct(account)) + ":rl"
	return &Limiter{rdb: s.rdb, limits: l, keys: [5]string{
		base, base + ":light", base + ":medium", base + ":heavy", base + ":pause"}}
}

// WaitError says the limiter would have to wait past its MaxWait (or Zoom
// asked everyone to pause): the request did not go; retry at Until.
type WaitError struct{ Until time.Time }

func (e *WaitError) Error() string {
	return "rate limit: next slot at " + e.Until.UTC().Format(time.RFC3339Nano)
}

// RetryAt makes a WaitError a zoom.Held: the worker hands the job back
// until then without counting an attempt.
func (e *WaitError) RetryAt() time.Time { return e.Until }

// gcraScript reserves one slot on up to two GCRA lines at once.
// KEYS: line A, line B, pause. ARGV: interval µs A, tolerance µs A, interval µs B,
// tolerance µs B, max wait µs. An interval of 0 disables a line.
// Answer: {delay µs, reserved (1/0)}.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local allow = now
local p = tonumber(redis.call('GET', KEYS[3]) or '0')
if p > allow then allow = p end
local tats = {0, 0}
for i = 1, 2 do
  local iv = tonumber(ARGV[2*i-1])
  if iv > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then tat = now end
    tats[i] = tat
    local a = tat - tonumber(ARGV[2*i])
    if a > allow then allow = a end
  end
end
local delay = allow - now
if delay > tonumber(ARGV[5]) then return {delay, 0} end
for i = 1, 2 do
  local iv = tonumber(ARGV[2*i-1])
  if iv > 0 then
    local tat = tats[i]
    if allow > tat then tat = allow end
    tat = tat + iv
    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
  end
end
return {delay, 1}
`)

// pauseScript moves the pause mark later, never earlier. KEYS: pause. ARGV: until µs.
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

func interval(rate float64) int64 {
	if rate <= 0 {
		return 0
	}
	return int64(1e6 / rate)
}

// Wait implements zoom.Limiter: it reserves a slot for one request of
// category cat and sleeps until it comes.
func (l *Limiter) Wait(ctx context.Context, cat zoom.Category) error {
	if l == nil {
		return nil
	}
	catRate, catKey := 0.0, l.keys[1]
	switch cat {
	case zoom.Light:
		catRate, catKey = l.limits.Light, l.keys[1]
	case zoom.Medium:
		catRate, catKey = l.limits.Medium, l.keys[2]
	case zoom.Heavy:
		catRate, catKey = l.limits.Heavy, l.keys[3]
	}
	ia, ib := interval(l.limits.PerSecond), interval(catRate)
	burst := int64(l.limits.Burst - 1)
	res, err := gcraScript.Run(ctx, l.rdb, []string{l.keys[0], catKey, l.keys[4]},
		ia, ia*burst, ib, ib*burst, l.limits.MaxWait.Microseconds()).Int64Slice()
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	delay := time.Duration(res[0]) * time.Microsecond
	if res[1] == 0 {
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

// PauseUntil stops every process's requests for this account until until
// (Zoom's Retry-After). An earlier until than one already set changes nothing.
func (l *Limiter) PauseUntil(ctx context.Context, until time.Time) error {
	if l == nil {
		return nil
	}
	return pauseScript.Run(ctx, l.rdb, []string{l.keys[4]}, strconv.FormatInt(until.UnixMicro(), 10)).Err()
}
