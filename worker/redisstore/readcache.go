package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/readside"
)

// The read side's cache (readside.ReadCache) keeps, beside each cached
// user and meeting (the keys the worker's jobs write), two small keys:
//
//	{object key}:rs   "version|fetched ms|stale|sum": the event_ts of the newest webhook
//	                  applied, when the read side fetched the copy, whether a webhook
//	                  said it changed since, and a hash of the copy it wrote (a copy
//	                  a job wrote since is fetched again); cache TTL, so it outlives
//	                  a deletion and an older webhook arriving later changes nothing
//	{object key}:404  Zoom answered 404 (or a webhook said deleted): the negative cache
//
// Every change is a Lua compare-and-set on the version, so a copy fetched
// before a newer webhook was applied is never written over it.

var _ readside.ReadCache = (*Store)(nil)

// objectKey is the key of the cached object k. A user by email is read
// through the email index; its rs and 404 keys hang off the index key.
func (s *Store) objectKey(account string, k readside.Key) string {
	if k.Kind == readside.KindMeeting {
		return s.key(account, "meeting", s.tag(k.ID))
	}
	if strings.Contains(k.ID, "@") {
		return s.emailKey(account, k.ID)
	}
	return s.userKey(account, k.ID)
}

func readState(v any) (ver int64, fetched time.Time, stale bool, sum string) {
	str, _ := v.(string)
	parts := strings.Split(str, "|")
	if len(parts) < 3 {
		return 0, time.Time{}, false, ""
	}
	ver, _ = strconv.ParseInt(parts[0], 10, 64)
	if len(parts) > 3 {
		sum = parts[3]
	}
	return ver, msTime(parts[1]), parts[2] == "1", sum
}

// copySum identifies the copy the read side wrote back, so that Read can
// tell when someone else (a job's Finish) wrote the object since.
func copySum(data []byte) string {
	h := fnv.New64a()
	h.Write(data)
	return strconv.FormatUint(h.Sum64(), 36)
}

// Read implements readside.ReadCache: one MGET (two for a user by email:
// the index, then the user), sent in a pipeline with the concurrent reads.
func (s *Store) Read(ctx context.Context, account string, k readside.Key) (readside.Entry, error) {
	key := s.objectKey(account, k)
	vals, err := s.mget(ctx, key, key+":rs", key+":404")
	if err != nil {
		return readside.Entry{}, fmt.Errorf("redis: read %s %s: %w", k.Kind, k.ID, err)
	}
	var e readside.Entry
	var sum string
	e.Version, e.Fetched, e.Stale, sum = readState(vals[1])
	e.Gone = vals[2] != nil
	data, _ := vals[0].(string)
	if sum != "" && data != "" && copySum([]byte(data)) != sum {
		// A job wrote this copy after the read side last fetched one. Its
		// age is unknown, and after a webhook it may predate that change:
		// fetch it again before trusting it.
		e.Fetched = time.Time{}
		e.Stale = e.Stale || e.Version > 0
	}
	if k.Kind == readside.KindUser && strings.Contains(k.ID, "@") && data != "" {
		// The index holds the user id: read the user itself.
		id := readside.UserKey(data)
		byID, err := s.Read(ctx, account, id)
		if err != nil {
			return readside.Entry{}, err
		}
		byID.Gone = byID.Gone || e.Gone
		return byID, nil
	}
	if data != "" {
		e.JSON = []byte(data)
	}
	return e, nil
}

// writeBackScript stores a fetched copy unless the version moved.
// KEYS: object, rs, 404. ARGV: version, JSON, fetched ms, ttl ms, copy sum.
var writeBackScript = redis.NewScript(`
local rs = redis.call('GET', KEYS[2])
local cur = 0
if rs then cur = tonumber(string.match(rs, '^(%d+)')) or 0 end
if cur ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. ARGV[3] .. '|0|' .. ARGV[5], 'PX', ARGV[4])
redis.call('DEL', KEYS[3])
return 1
`)

// WriteBack implements readside.ReadCache. A user is stored by its id and
// indexed by its email, however it was asked for.
func (s *Store) WriteBack(ctx context.Context, account string, k readside.Key, ver int64, data []byte, fetched time.Time) (bool, error) {
	target, email := k, ""
	if k.Kind == readside.KindUser {
		var u struct{ ID, Email string }
		if json.Unmarshal(data, &u) != nil || u.ID == "" {
			return false, fmt.Errorf("redis: write back user %s: no id in the copy", k.ID)
		}
		target, email = readside.UserKey(u.ID), u.Email
	}
	key := s.objectKey(account, target)
	ttl := s.opts.CacheTTL.Milliseconds()
	n, err := runScript(ctx, s.rdb, writeBackScript, []string{key, key + ":rs", key + ":404"},
		ver, string(data), fetched.UnixMilli(), ttl, copySum(data))
	if err != nil {
		return false, fmt.Errorf("redis: write back %s %s: %w", k.Kind, k.ID, err)
	}
	if n == 1 && email != "" {
		// Index it by email, and forget a 404 remembered for the email.
		idx := s.emailKey(account, email)
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, idx, target.ID, s.opts.CacheTTL)
			p.Del(ctx, idx+":404")
			return nil
		})
		if err != nil {
			return true, fmt.Errorf("redis: index user %s: %w", k.ID, err)
		}
	}
	return n == 1, nil
}

// forgetScript drops a copy unless the version moved, and remembers a 404.
// KEYS: object, rs, 404. ARGV: version, not-found ttl ms (0: none).
var forgetScript = redis.NewScript(`
local rs = redis.call('GET', KEYS[2])
local cur = 0
if rs then cur = tonumber(string.match(rs, '^(%d+)')) or 0 end
if cur ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[3], '1', 'PX', ARGV[2]) end
return 1
`)

// Forget implements readside.ReadCache.
func (s *Store) Forget(ctx context.Context, account string, k readside.Key, ver int64, notFoundTTL time.Duration) (bool, error) {
	key := s.objectKey(account, k)
	n, err := runScript(ctx, s.rdb, forgetScript, []string{key, key + ":rs", key + ":404"}, ver, notFoundTTL.Milliseconds())
	if err != nil {
		return false, fmt.Errorf("redis: forget %s %s: %w", k.Kind, k.ID, err)
	}
	return n == 1, nil
}

// applyScript records a webhook. KEYS: object, rs, 404. ARGV: event ts,
// drop (0/1), ttl ms, create (0/1), not-found ttl ms.
// Answer: {applied, refresh}. A change as new as the newest applied is
// applied again (two changes in one millisecond carry the same event_ts;
// fetching again costs one call and cannot be wrong); a deletion is not.
var applyScript = redis.NewScript(`
local rs = redis.call('GET', KEYS[2])
local cur, fetched, stale, sum = 0, '0', '0', ''
if rs then
  local a, b, c, d = string.match(rs, '^(%d+)|(%d+)|(%d)|?(.*)$')
  cur, fetched, stale, sum = tonumber(a) or 0, b or '0', c or '0', d or ''
end
local ts = tonumber(ARGV[1])
if ts < cur then return {0, 0} end
if ts == cur and ARGV[2] == '1' then return {0, 0} end
local cached = redis.call('EXISTS', KEYS[1])
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[1] .. '|0|0', 'PX', ARGV[3])
  if tonumber(ARGV[5]) > 0 then redis.call('SET', KEYS[3], '1', 'PX', ARGV[5]) end
  return {1, 0}
end
local mark = 0
if cached == 1 or ARGV[4] == '1' then mark = 1 end
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. fetched .. '|' .. mark .. '|' .. sum, 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
return {1, mark}
`)

// Apply implements readside.ReadCache.
func (s *Store) Apply(ctx context.Context, account string, k readside.Key, ts int64, drop, create bool, notFoundTTL time.Duration) (bool, bool, error) {
	key := s.objectKey(account, k)
	res, err := runScriptSlice(ctx, s.rdb, applyScript, []string{key, key + ":rs", key + ":404"},
		ts, b01(drop), s.opts.CacheTTL.Milliseconds(), b01(create), notFoundTTL.Milliseconds())
	if err != nil {
		return false, false, fmt.Errorf("redis: apply webhook to %s %s: %w", k.Kind, k.ID, err)
	}
	if len(res) != 2 {
		return false, false, fmt.Errorf("redis: apply webhook to %s %s: unexpected answer %v", k.Kind, k.ID, res)
	}
	return res[0] == 1, res[1] == 1, nil
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func runScript(ctx context.Context, rdb redis.UniversalClient, sc *redis.Script, keys []string, args ...any) (int64, error) {
	n, err := sc.Run(ctx, rdb, keys, args...).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

func runScriptSlice(ctx context.Context, rdb redis.UniversalClient, sc *redis.Script, keys []string, args ...any) ([]int64, error) {
	return sc.Run(ctx, rdb, keys, args...).Int64Slice()
}

// What the read side notes of jobs beside their records (readside.JobNotes):
//
//	zw:{acct}:deferred:{job_id}  string Unix ms the job is deferred until (expires then)
//	zw:{acct}:dlq:{job_id}       string the job's sequence in ZOOM_DLQ (expires with the dead letter)

var _ readside.JobNotes = (*Store)(nil)

func (s *Store) deferredKey(account, jobID string) string { return s.key(account, "deferred", jobID) }
func (s *Store) dlqKey(account, jobID string) string      { return s.key(account, "dlq", jobID) }

// NoteDeferred implements readside.JobNotes.
func (s *Store) NoteDeferred(ctx context.Context, account, jobID string, until time.Time) error {
	if !until.After(time.Now()) {
		return nil
	}
	if err := s.rdb.Set(ctx, s.deferredKey(account, jobID), until.UnixMilli(), time.Until(until)).Err(); err != nil {
		return fmt.Errorf("redis: note job %s deferred: %w", jobID, err)
	}
	return nil
}

// NoteDeadLetter implements readside.JobNotes.
func (s *Store) NoteDeadLetter(ctx context.Context, account, jobID string, seq uint64, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.dlqKey(account, jobID), seq, ttl).Err(); err != nil {
		return fmt.Errorf("redis: note job %s dead-lettered: %w", jobID, err)
	}
	return nil
}

// JobNotes implements readside.JobNotes: one MGET.
func (s *Store) JobNotes(ctx context.Context, account, jobID string) (time.Time, uint64, error) {
	vals, err := s.rdb.MGet(ctx, s.deferredKey(account, jobID), s.dlqKey(account, jobID)).Result()
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("redis: notes of job %s: %w", jobID, err)
	}
	var until time.Time
	if v, ok := vals[0].(string); ok {
		until = msTime(v)
	}
	var seq uint64
	if v, ok := vals[1].(string); ok {
		seq, _ = strconv.ParseUint(v, 10, 64)
	}
	return until, seq, nil
}
