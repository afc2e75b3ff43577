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

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

// Defaults for Options.
const (
	DefaultPrefix    = "zw"
	DefaultResultTTL = 7 * 24 * time.Hour
	DefaultCacheTTL  = 24 * time.Hour
	// DefaultWaitTimeout is how long a write waits for its replicas.
	DefaultWaitTimeout = time.Second
)

// Options configures a Store. Zero values take the defaults above.
type Options struct {
	// Prefix starts every key. It must hold no '{' or '}': in Redis Cluster
	// those would change which keys share a slot.
	Prefix string
	// ResultTTL is how long job records (the idempotency keys) are kept.
	ResultTTL time.Duration
	// CacheTTL is how long users and meetings are cached.
	CacheTTL time.Duration
	// WaitReplicas, if above 0, makes every job-record write wait until
	// that many replicas have it (Redis WAIT), so a failover never loses
	// a record the worker acted on (ZOOMW_REDIS_WAIT_REPLICAS). 0 means
	// no waiting. It does not apply in Redis Cluster, whose WAIT cannot be
	// sent to the node that took the write in the same pipeline; there
	// CLUSTER FAILOVER (coordinated) loses nothing.
	WaitReplicas int
	// WaitTimeout bounds that wait; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
}

// Store implements worker.Store and worker.Cache on Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
	// cluster is set on a *redis.ClusterClient: keys that one Lua script
	// touches together carry a hash tag, and a script never reads a key
	// of another slot (see doc.go, "Redis Cluster").
	cluster bool
	// reads gathers the read side's concurrent cache reads (Read) into
	// pipelines, writes the worker's concurrent Begin and Finish calls.
	reads, writes batch
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
	defaults.Set(&opts.ResultTTL, DefaultResultTTL)
	defaults.Set(&opts.CacheTTL, DefaultCacheTTL)
	defaults.Set(&opts.WaitTimeout, DefaultWaitTimeout)
	_, cluster := rdb.(*redis.ClusterClient)
	if cluster {
		opts.WaitReplicas = 0
	}
	s := &Store{rdb: rdb, opts: opts, cluster: cluster,
		reads:  batch{senders: readBatches, most: maxReadBatch},
		writes: batch{senders: writeBatches, most: maxWriteBatch}}
	if n := int64(opts.WaitReplicas); n > 0 {
		// One WAIT ends each pipeline: it waits for every write before it.
		s.writes.after = func(ctx context.Context, p redis.Pipeliner) func() error {
			wait := p.Do(ctx, "WAIT", n, opts.WaitTimeout.Milliseconds())
			return func() error {
				if got, _ := wait.Int64(); got < n {
					return ErrNotReplicated
				}
				return nil
			}
		}
	}
	return s
}

// writeBatches is how many pipelines of job-record writes (Begin, Finish)
// run at once; the calls that arrive meanwhile go out together in the next.
const writeBatches = 4

// maxWriteBatch bounds the calls of one such pipeline.
const maxWriteBatch = 64

func acct(a string) string {
	if a == "" {
		return "default"
	}
	return a
}

func (s *Store) key(account string, parts ...string) string {
	return s.opts.Prefix + ":" + acct(account) + ":" + strings.Join(parts, ":")
}

// tag makes part a Redis Cluster hash tag, in cluster mode only: on one
// server or Sentinel the keys keep the layout they always had, so an
// upgrade finds its existing job records.
func (s *Store) tag(part string) string {
	if s.cluster {
		return "{" + part + "}"
	}
	return part
}

// jobKey is tagged by the job id: the job scripts touch only this key, and
// one account's jobs spread over every shard.
func (s *Store) jobKey(account, jobID string) string { return s.key(account, "job", s.tag(jobID)) }

// Cached objects are tagged by their id: the read cache's scripts touch an
// object's copy with its ":rs" and ":404" companions, which share the tag.
func (s *Store) userKey(account, id string) string { return s.key(account, "user", s.tag(id)) }
func (s *Store) emailKey(account, email string) string {
	return s.key(account, "user", "email", s.tag(strings.ToLower(email)))
}
func (s *Store) meetingKey(account string, id int64) string {
	return s.key(account, "meeting", s.tag(strconv.FormatInt(id, 10)))
}
func (s *Store) meetingJobKey(account string, id int64) string {
	return s.meetingKey(account, id) + ":job"
}
func (s *Store) dailyKey(account, host string) string {
	return s.key(account, "daily", strings.ToLower(host))
}

// Ping implements worker.Store.
func (s *Store) Ping(ctx context.Context) error { return authError(s.rdb.Ping(ctx).Err()) }

// authError marks Redis refusing the client's credentials as
// worker.ErrStoreAuth, so readiness says that rather than "unreachable".
// Redis's answer names no password.
func authError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, p := range []string{"WRONGPASS", "NOAUTH", "ERR AUTH", "ERR invalid password", "ERR Client sent AUTH"} {
		if strings.HasPrefix(msg, p) {
			return fmt.Errorf("%w: %v", worker.ErrStoreAuth, err)
		}
	}
	return err
}

// The store's scripts get the words of worker.State and worker.ClaimState
// as their last arguments (stateArgs, after each script's own), so the
// record states have one spelling, in the worker package, and a script's
// own ARGV keep their places when a word is added.
var stateArgs = []any{string(worker.StateRunning), string(worker.StateSucceeded),
	string(worker.Started), string(worker.Succeeded), string(worker.Busy), string(worker.HostLimited),
	string(worker.Conflict)}

// stateWords is the Lua that names stateArgs.
const stateWords = `
local W = #ARGV - 7
local RUNNING, SUCCEEDED = ARGV[W + 1], ARGV[W + 2]
local C_STARTED, C_SUCCEEDED, C_BUSY, C_LIMITED, C_CONFLICT = ARGV[W + 3], ARGV[W + 4], ARGV[W + 5], ARGV[W + 6], ARGV[W + 7]
`

// withWords appends stateArgs to a script's own arguments.
func withWords(args ...any) []any { return append(args, stateArgs...) }

// beginScript claims a job for one attempt. KEYS: job hash, then the
// daily-limit key (when ARGV[7] is 1), then the epoch key (when ARGV[10] is 1).
// ARGV: owner, lease ms, ttl s, subject, job id, account, check daily (0:
// no, 1: read its key, 2: the mark was read before and is ARGV[8], Unix ms),
// mark, body hash ("" for none), epoch (1: read its key, 2: read before and
// is ARGV[11], "" when there is none), epoch value.
// Answer: {claim state, attempts, uncertain, first ms, until ms, event
// subject, event, fresh (1: no record was there), the record's state,
// epoch ("" when there is none)}.
var beginScript = redis.NewScript(stateWords + `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'owner', 'lease', 'uncertain', 'first', 'esub', 'event', 'hash')
local state = f[1]
local attempts = tonumber(f[2] or '0')
local lease = tonumber(f[4] or '0')
local first = f[6] or tostring(now)
local fresh = '0'
if not state then fresh = '1' end
local epoch = ARGV[11]
if ARGV[10] == '1' then epoch = redis.call('GET', KEYS[#KEYS]) or '' end
local function answer(cs, unc, untl, esub, ev)
  return {cs, tostring(attempts), unc, first, untl, esub, ev, fresh, state or '', epoch}
end
if f[9] and f[9] ~= '' and ARGV[9] ~= '' and f[9] ~= ARGV[9] then
  return answer(C_CONFLICT, '0', '0', f[7] or '', '')
end
if state == SUCCEEDED then
  return answer(C_SUCCEEDED, '0', '0', f[7] or '', f[8] or '')
end
if state == RUNNING and lease > now and f[3] ~= ARGV[1] then
  return answer(C_BUSY, '0', tostring(lease), '', '')
end
if ARGV[7] ~= '0' then
  local d
  if ARGV[7] == '1' then d = tonumber(redis.call('GET', KEYS[2]) or '0') else d = tonumber(ARGV[8]) end
  if d > now then
    return answer(C_LIMITED, '0', tostring(d), '', '')
  end
end
local uncertain = '0'
if f[5] == '1' or state == RUNNING then uncertain = '1' end
attempts = attempts + 1
local fields = {'state', RUNNING, 'attempts', attempts, 'owner', ARGV[1],
  'lease', now + tonumber(ARGV[2]), 'uncertain', uncertain, 'first', first,
  'subject', ARGV[4], 'job_id', ARGV[5], 'account', ARGV[6], 'updated', now}
if (not f[9] or f[9] == '') and ARGV[9] ~= '' then
  fields[#fields + 1] = 'hash'
  fields[#fields + 1] = ARGV[9]
end
redis.call('HSET', KEYS[1], unpack(fields)) -- one HSET, the body hash included
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return answer(C_STARTED, uncertain, '0', '', '')
`)

// Begin implements worker.Store: one EVALSHA, in a pipeline shared with
// concurrent Begin and Finish calls (see durable; more round trips in Redis
// Cluster, see below).
//
// The host's daily-limit mark is keyed by host, the job record by job id, so
// in Redis Cluster the two are in different slots and one script cannot
// read both. Tagging the job key by host instead would put each host's jobs
// on one shard and make a record unreachable by its job id alone (the read
// side looks jobs up by id). So in cluster mode the mark is read first with
// its own GET and its value handed to the script. The gap between the two is
// harmless: a mark set in it is the same as one set just after Begin, and
// the job's Zoom call then meets the limit itself and is deferred. The
// account's epoch (see Epoch) is read the same way.
func (s *Store) Begin(ctx context.Context, b worker.Begin) (worker.Claim, error) {
	keys := []string{s.jobKey(b.Account, b.JobID)}
	check, mark := "0", "0"
	epochMode, epoch := "1", ""
	var before []string // keys read ahead in cluster mode
	if b.HostLimitKey != "" {
		daily := s.dailyKey(b.Account, b.HostLimitKey)
		if !s.cluster {
			keys, check = append(keys, daily), "1"
		} else {
			before = append(before, daily)
		}
	}
	if !s.cluster {
		keys = append(keys, s.epochKey(b.Account))
	} else {
		before = append(before, s.epochKey(b.Account))
	}
	if len(before) > 0 {
		vals := make([]string, len(before))
		for i, k := range before {
			v, err := s.rdb.Get(ctx, k).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return worker.Claim{}, fmt.Errorf("redis: begin job %s: read %s: %w", b.JobID, k, err)
			}
			vals[i] = v
		}
		if b.HostLimitKey != "" && vals[0] != "" {
			check, mark = "2", vals[0]
		}
		epochMode, epoch = "2", vals[len(vals)-1]
	}
	args := withWords(b.Owner, b.Lease.Milliseconds(), int64(s.opts.ResultTTL/time.Second), b.Subject, b.JobID,
		acct(b.Account), check, mark, b.BodyHash, epochMode, epoch)
	var cmd *redis.Cmd
	err := s.durable(ctx, beginScript, func(p redis.Pipeliner) {
		cmd = beginScript.EvalSha(ctx, p, keys, args...)
	})
	var res []string
	if err == nil {
		res, err = cmd.StringSlice()
	}
	if err != nil {
		return worker.Claim{}, fmt.Errorf("redis: begin job %s: %w", b.JobID, err)
	}
	if len(res) != 10 {
		return worker.Claim{}, fmt.Errorf("redis: begin job %s: unexpected answer %q", b.JobID, res)
	}
	attempts, _ := strconv.Atoi(res[1])
	c := worker.Claim{
		State:        worker.ClaimState(res[0]),
		Attempts:     attempts,
		Uncertain:    res[2] == "1",
		FirstStarted: msTime(res[3]),
		Until:        msTime(res[4]),
		Fresh:        res[7] == "1",
		Prior:        worker.State(res[8]),
	}
	if ep, err := strconv.ParseUint(res[9], 10, 64); err == nil {
		c.Epoch, c.HasEpoch = ep, true
	}
	switch c.State {
	case worker.Succeeded:
		c.Record = &worker.Record{JobID: b.JobID, Account: b.Account, Subject: b.Subject, State: worker.StateSucceeded,
			Attempts: attempts, FirstStarted: c.FirstStarted, EventSubject: res[5], Event: json.RawMessage(res[6])}
	case worker.Conflict:
		c.Record = &worker.Record{JobID: b.JobID, Account: b.Account, State: c.Prior,
			Attempts: attempts, FirstStarted: c.FirstStarted, EventSubject: res[5]}
	case worker.Started, worker.Busy, worker.HostLimited:
	default:
		return worker.Claim{}, fmt.Errorf("redis: begin job %s: unexpected state %q", b.JobID, res[0])
	}
	return c, nil
}

func (s *Store) epochKey(account string) string { return s.key(account, "epoch") }

// Epoch implements worker.Store: SET NX and GET of the account's epoch key,
// which has no expiry, so it goes only with the data (a flush, a failover
// that lost writes, a restart without persistence).
func (s *Store) Epoch(ctx context.Context, account string, seq uint64) (uint64, error) {
	k := s.epochKey(account)
	var get *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, k, seq, 0)
		get = p.Get(ctx, k)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redis: epoch of %s: %w", acct(account), err)
	}
	return get.Uint64()
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// finishScript records the end of an attempt. KEYS: job hash.
// ARGV: owner, state, uncertain (0/1), event subject, event,
// error JSON, ttl s, refund (0/1: give the attempt back).
// A job that already succeeded is never changed.
var finishScript = redis.NewScript(stateWords + `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state')
if state == SUCCEEDED then return 0 end
if ARGV[9] == '1' and state then return 0 end
-- One HSET with all the attempt's end writes, and at most one HDEL.
local fields = {'state', ARGV[2], 'owner', '', 'lease', 0, 'updated', now}
local function add(k, v)
  fields[#fields + 1] = k
  fields[#fields + 1] = v
end
if not state then
  add('first', now)
  add('attempts', 0)
  if ARGV[10] ~= '' then add('subject', ARGV[10]); add('job_id', ARGV[11]); add('account', ARGV[12]) end
end
if ARGV[2] == SUCCEEDED then
  add('uncertain', '0'); add('esub', ARGV[4]); add('event', ARGV[5])
elseif ARGV[3] == '1' then
  add('uncertain', '1')
end
if ARGV[6] ~= '' then add('error', ARGV[6]) end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[6] == '' then redis.call('HDEL', KEYS[1], 'error') end
if ARGV[8] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
return 1
`)

// Finish implements worker.Store: the record and the cache in one pipeline,
// shared with concurrent Begin and Finish calls (see durable).
func (s *Store) Finish(ctx context.Context, f worker.Finish) error {
	var errJSON []byte
	if f.Error != nil {
		errJSON, _ = json.Marshal(f.Error)
	}
	unc, refund, onlyNew := "0", "0", "0"
	if f.Uncertain {
		unc = "1"
	}
	if f.OnlyNew {
		onlyNew = "1"
	}
	if f.Refund {
		refund = "1"
	}
	err := s.durable(ctx, finishScript, func(p redis.Pipeliner) {
		finishScript.EvalSha(ctx, p, []string{s.jobKey(f.Account, f.JobID)}, withWords(
			f.Owner, string(f.State), unc, f.EventSubject, f.Event, errJSON, int64(s.opts.ResultTTL/time.Second), refund,
			onlyNew, f.Subject, f.JobID, acct(f.Account)))
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
	})
	if err != nil {
		return fmt.Errorf("redis: finish job %s: %w", f.JobID, err)
	}
	return nil
}

// ErrNotReplicated is returned by Begin and Finish when Options.WaitReplicas
// is set and fewer replicas than that confirmed the write in time: the
// write may be lost in a failover, so the caller must treat it as not done.
var ErrNotReplicated = errors.New("redis: write not confirmed by the replicas in time")

// durable runs the commands fill adds, which use script, in a pipeline
// shared with concurrent Begin and Finish calls (see batch), loading the
// script where a node lacks it (a fresh or promoted server). With
// Options.WaitReplicas the pipeline ends with WAIT, and a call fails unless
// enough replicas have the writes: during a Sentinel failover the old master
// takes writes until the client learns of the switch, and those writes are
// thrown away when it becomes a replica.
func (s *Store) durable(ctx context.Context, script *redis.Script, fill func(p redis.Pipeliner)) error {
	err := s.writes.do(ctx, s.rdb, fill)
	if isNoScript(err) {
		if err = script.Load(ctx, s.rdb).Err(); err == nil {
			err = s.writes.do(ctx, s.rdb, fill)
		}
	}
	return err
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
	return cached[messages.User](ctx, s, s.userKey(account, id), "user "+id)
}

// CachedMeeting returns a cached meeting (nil on a miss), for the service.
func (s *Store) CachedMeeting(ctx context.Context, account string, id int64) (*messages.Meeting, error) {
	return cached[messages.Meeting](ctx, s, s.meetingKey(account, id), "meeting "+strconv.FormatInt(id, 10))
}

// cached reads the cache entry at key (what names it in errors): nil on a
// miss, and on an entry it cannot read, which is a miss too.
func cached[T any](ctx context.Context, s *Store, key, what string) (*T, error) {
	b, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get %s: %w", what, err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, nil
	}
	return &v, nil
}

// ClaimedMeetings implements worker.Cache.
func (s *Store) ClaimedMeetings(ctx context.Context, account string, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// GETs in one pipeline rather than one MGET: in Redis Cluster the keys
	// are in different slots, and go-redis sends each GET to its shard.
	cmds := make([]*redis.StringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, s.meetingJobKey(account, id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redis: claimed meetings: %w", err)
	}
	out := make([]string, len(ids))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// SetHostLimited records that host may create no meeting before until (the
// worker does it with Finish.HostLimit); the mark expires at until.
func (s *Store) SetHostLimited(ctx context.Context, account, host string, until time.Time) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		s.markHostLimited(ctx, p, account, host, until)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: mark host %s limited: %w", host, err)
	}
	return nil
}

func (s *Store) markHostLimited(ctx context.Context, p redis.Pipeliner, account, host string, until time.Time) {
	// One SET with PXAT: the mark and its expiry can never be apart.
	p.SetArgs(ctx, s.dailyKey(account, host), until.UnixMilli(), redis.SetArgs{ExpireAt: until})
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
