package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

// Defaults for Options.
const (
	DefaultPrefix    = "zw"
	DefaultResultTTL = 7 * 24 * time.Hour
	DefaultCacheTTL  = 24 * time.Hour
)

// Options configures a Store. Zero values take the defaults above.
type Options struct {
	Prefix string
	// ResultTTL is how long job records (the idempotency keys) are kept.
	ResultTTL time.Duration
	// CacheTTL is how long users and meetings are cached.
	CacheTTL time.Duration
}

// Store implements worker.Store and worker.Cache on Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
}

var (
	_ worker.Store = (*Store)(nil)
	_ worker.Cache = (*Store)(nil)
)

// New returns a Store on rdb. It does not contact Redis.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.ResultTTL <= 0 {
		opts.ResultTTL = DefaultResultTTL
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	return &Store{rdb: rdb, opts: opts}
}

func acct(a string) string {
	if a == "" {
		return "default"
	}
	return a
}

func (s *Store) key(account string, parts ...string) string {
	return s.opts.Prefix + ":" + acct(account) + ":" + strings.Join(parts, ":")
}

func (s *Store) jobKey(account, jobID string) string { return s.key(account, "job", jobID) }
func (s *Store) userKey(account, id string) string   { return s.key(account, "user", id) }
func (s *Store) emailKey(account, email string) string {
	return s.key(account, "user", "email", strings.ToLower(email))
}
func (s *Store) meetingKey(account string, id int64) string {
	return s.key(account, "meeting", strconv.FormatInt(id, 10))
}
func (s *Store) meetingJobKey(account string, id int64) string {
	return s.meetingKey(account, id) + ":job"
}
func (s *Store) dailyKey(account, host string) string {
	return s.key(account, "daily", strings.ToLower(host))
}

// Ping implements worker.Store.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// The store's scripts get the words of worker.State and worker.ClaimState
// as arguments (stateArgs first, then each script's own), so the record
// states have one spelling, in the worker package.
var stateArgs = []any{string(worker.StateRunning), string(worker.StateSucceeded),
	string(worker.Started), string(worker.Succeeded), string(worker.Busy), string(worker.HostLimited)}

// stateWords is the Lua that names stateArgs; a script's own ARGV start at 7.
const stateWords = `
local RUNNING, SUCCEEDED = ARGV[1], ARGV[2]
local C_STARTED, C_SUCCEEDED, C_BUSY, C_LIMITED = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
`

// beginScript claims a job for one attempt. KEYS: job hash, daily-limit key.
// ARGV after stateArgs: owner, lease ms, ttl s, subject, job id, account,
// check daily (0/1).
// Answer: {claim state, attempts, uncertain, first ms, until ms, event subject, event}.
var beginScript = redis.NewScript(stateWords + `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'owner', 'lease', 'uncertain', 'first', 'esub', 'event')
local state = f[1]
local attempts = tonumber(f[2] or '0')
local lease = tonumber(f[4] or '0')
local first = f[6] or tostring(now)
if state == SUCCEEDED then
  return {C_SUCCEEDED, tostring(attempts), '0', first, '0', f[7] or '', f[8] or ''}
end
if state == RUNNING and lease > now and f[3] ~= ARGV[7] then
  return {C_BUSY, tostring(attempts), '0', first, tostring(lease), '', ''}
end
if ARGV[13] == '1' then
  local d = tonumber(redis.call('GET', KEYS[2]) or '0')
  if d > now then
    return {C_LIMITED, tostring(attempts), '0', first, tostring(d), '', ''}
  end
end
local uncertain = '0'
if f[5] == '1' or state == RUNNING then uncertain = '1' end
attempts = attempts + 1
redis.call('HSET', KEYS[1], 'state', RUNNING, 'attempts', attempts, 'owner', ARGV[7],
  'lease', now + tonumber(ARGV[8]), 'uncertain', uncertain, 'first', first,
  'subject', ARGV[10], 'job_id', ARGV[11], 'account', ARGV[12], 'updated', now)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[9]))
return {C_STARTED, tostring(attempts), uncertain, first, '0', '', ''}
`)

// Begin implements worker.Store: one EVALSHA.
func (s *Store) Begin(ctx context.Context, b worker.Begin) (worker.Claim, error) {
	daily, check := s.key(b.Account, "daily", "-"), "0"
	if b.HostLimitKey != "" {
		daily, check = s.dailyKey(b.Account, b.HostLimitKey), "1"
	}
	args := append(append([]any{}, stateArgs...),
		b.Owner, b.Lease.Milliseconds(), int64(s.opts.ResultTTL/time.Second), b.Subject, b.JobID, acct(b.Account), check)
	res, err := beginScript.Run(ctx, s.rdb, []string{s.jobKey(b.Account, b.JobID), daily}, args...).StringSlice()
	if err != nil {
		return worker.Claim{}, fmt.Errorf("redis: begin job %s: %w", b.JobID, err)
	}
	if len(res) != 7 {
		return worker.Claim{}, fmt.Errorf("redis: begin job %s: unexpected answer %q", b.JobID, res)
	}
	attempts, _ := strconv.Atoi(res[1])
	c := worker.Claim{
		State:        worker.ClaimState(res[0]),
		Attempts:     attempts,
		Uncertain:    res[2] == "1",
		FirstStarted: msTime(res[3]),
		Until:        msTime(res[4]),
	}
	switch c.State {
	case worker.Succeeded:
		c.Record = &worker.Record{JobID: b.JobID, Account: b.Account, Subject: b.Subject, State: worker.StateSucceeded,
			Attempts: attempts, FirstStarted: c.FirstStarted, EventSubject: res[5], Event: json.RawMessage(res[6])}
	case worker.Started, worker.Busy, worker.HostLimited:
	default:
		return worker.Claim{}, fmt.Errorf("redis: begin job %s: unexpected state %q", b.JobID, res[0])
	}
	return c, nil
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// finishScript records the end of an attempt. KEYS: job hash.
// ARGV after stateArgs: owner, state, uncertain (0/1), event subject, event,
// error JSON, ttl s, refund (0/1: give the attempt back).
// A job that already succeeded is never changed.
var finishScript = redis.NewScript(stateWords + `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state')
if state == SUCCEEDED then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[8], 'owner', '', 'lease', 0, 'updated', now)
if ARGV[8] == SUCCEEDED then
  redis.call('HSET', KEYS[1], 'uncertain', '0', 'esub', ARGV[10], 'event', ARGV[11])
  redis.call('HDEL', KEYS[1], 'error')
elseif ARGV[9] == '1' then
  redis.call('HSET', KEYS[1], 'uncertain', '1')
end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[12]) end
if ARGV[14] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[13]))
return 1
`)

// Finish implements worker.Store: the record and the cache in one pipeline.
func (s *Store) Finish(ctx context.Context, f worker.Finish) error {
	var errJSON []byte
	if f.Error != nil {
		errJSON, _ = json.Marshal(f.Error)
	}
	unc, refund := "0", "0"
	if f.Uncertain {
		unc = "1"
	}
	if f.Refund {
		refund = "1"
	}
	run := func() error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			finishScript.EvalSha(ctx, p, []string{s.jobKey(f.Account, f.JobID)}, append(append([]any{}, stateArgs...),
				f.Owner, string(f.State), unc, f.EventSubject, f.Event, errJSON, int64(s.opts.ResultTTL/time.Second), refund)...)
			s.cacheObjects(ctx, p, f.Account, f.Users, f.Meetings)
			if f.ClaimMeeting != 0 {
				p.Set(ctx, s.meetingJobKey(f.Account, f.ClaimMeeting), f.JobID, s.opts.ResultTTL)
			}
			for _, id := range f.DropMeetings {
				p.Del(ctx, s.meetingKey(f.Account, id))
			}
			for _, u := range f.DropUsers {
				s.dropUser(ctx, p, f.Account, u)
			}
			if f.HostLimit != "" {
				s.markHostLimited(ctx, p, f.Account, f.HostLimit, f.HostLimitedUntil)
			}
			return nil
		})
		return err
	}
	err := run()
	if isNoScript(err) {
		if err = finishScript.Load(ctx, s.rdb).Err(); err == nil {
			err = run()
		}
	}
	if err != nil {
		return fmt.Errorf("redis: finish job %s: %w", f.JobID, err)
	}
	return nil
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

func (s *Store) cacheObjects(ctx context.Context, p redis.Pipeliner, account string, users []messages.User, meetings []worker.MeetingJSON) {
	for _, u := range users {
		b, err := json.Marshal(u)
		if err != nil || u.ID == "" {
			continue
		}
		p.Set(ctx, s.userKey(account, u.ID), b, s.opts.CacheTTL)
		if u.Email != "" {
			p.Set(ctx, s.emailKey(account, u.Email), u.ID, s.opts.CacheTTL)
		}
	}
	for _, m := range meetings {
		if m.ID != 0 && len(m.JSON) > 0 {
			p.Set(ctx, s.meetingKey(account, m.ID), []byte(m.JSON), s.opts.CacheTTL)
		}
	}
}

func (s *Store) dropUser(ctx context.Context, p redis.Pipeliner, account, idOrEmail string) {
	if strings.Contains(idOrEmail, "@") {
		p.Del(ctx, s.emailKey(account, idOrEmail))
		return
	}
	p.Del(ctx, s.userKey(account, idOrEmail))
}

// CachedUser implements worker.Cache: by id, or by email through the email index.
func (s *Store) CachedUser(ctx context.Context, account, idOrEmail string) (*messages.User, error) {
	id := idOrEmail
	if strings.Contains(idOrEmail, "@") {
		v, err := s.rdb.Get(ctx, s.emailKey(account, idOrEmail)).Result()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("redis: get user %s: %w", idOrEmail, err)
		}
		id = v
	}
	b, err := s.rdb.Get(ctx, s.userKey(account, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get user %s: %w", id, err)
	}
	var u messages.User
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, nil // a cache entry we cannot read is a miss
	}
	return &u, nil
}

// CachedMeeting returns a cached meeting (nil on a miss), for the service.
func (s *Store) CachedMeeting(ctx context.Context, account string, id int64) (*messages.Meeting, error) {
	b, err := s.rdb.Get(ctx, s.meetingKey(account, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get meeting %d: %w", id, err)
	}
	var m messages.Meeting
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil
	}
	return &m, nil
}

// ClaimedMeetings implements worker.Cache.
func (s *Store) ClaimedMeetings(ctx context.Context, account string, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.meetingJobKey(account, id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: claimed meetings: %w", err)
	}
	out := make([]string, len(ids))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			out[i] = str
		}
	}
	return out, nil
}

// SetHostLimited records that host may create no meeting before until (the
// worker does it with Finish.HostLimit); the mark expires at until.
func (s *Store) SetHostLimited(ctx context.Context, account, host string, until time.Time) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		s.markHostLimited(ctx, p, account, host, until)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: mark host %s limited: %w", host, err)
	}
	return nil
}

func (s *Store) markHostLimited(ctx context.Context, p redis.Pipeliner, account, host string, until time.Time) {
	p.Set(ctx, s.dailyKey(account, host), until.UnixMilli(), 0)
	p.PExpireAt(ctx, s.dailyKey(account, host), until)
}

// JobRecord returns what is known of a job (nil when nothing), for the service.
func (s *Store) JobRecord(ctx context.Context, account, jobID string) (*worker.Record, error) {
	m, err := s.rdb.HGetAll(ctx, s.jobKey(account, jobID)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: get job %s: %w", jobID, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	r := &worker.Record{
		JobID: jobID, Account: m["account"], Subject: m["subject"], State: worker.State(m["state"]),
		FirstStarted: msTime(m["first"]), UpdatedAt: msTime(m["updated"]),
		EventSubject: m["esub"],
	}
	r.Attempts, _ = strconv.Atoi(m["attempts"])
	if ev := m["event"]; ev != "" {
		r.Event = json.RawMessage(ev)
	}
	if e := m["error"]; e != "" {
		var fe messages.FailError
		if json.Unmarshal([]byte(e), &fe) == nil {
			r.Error = &fe
		}
	}
	return r, nil
}

// Connection defaults of ClientOptions.
const (
	DefaultPoolSize   = 32
	DefaultBufferSize = 8 << 10
)

// ClientOptions parses a redis:// or rediss:// URL into go-redis options
// sized for a worker: each job makes two or three Redis calls of well under
// a millisecond, so even thousands of jobs in flight keep only a few
// connections busy. go-redis otherwise sizes its pool by GOMAXPROCS and gives
// each connection 32 KiB buffers each way; a fixed pool of DefaultPoolSize
// with DefaultBufferSize buffers keeps a worker's memory flat. A pool_size
// in the URL wins.
func ClientOptions(url string) (*redis.Options, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(url, "pool_size=") {
		opts.PoolSize = DefaultPoolSize
	}
	opts.ReadBufferSize, opts.WriteBufferSize = DefaultBufferSize, DefaultBufferSize
	opts.PipelineReadBufferSize, opts.PipelineWriteBufferSize = DefaultBufferSize, DefaultBufferSize
	opts.MaxRetries = 2
	return opts, nil
}
