// Package redisstore keeps zoom-worker's shared state in Redis: the job
// records that make jobs idempotent, the user and meeting cache, the per-host
// daily-limit marks, the account-wide rate limiter (GCRA, one round trip per
// request) and the shared OAuth token. Every worker process that points at the
// same Redis shares all of it. NewClient builds the client of a REDIS_URL:
// one server, Sentinel, or Redis Cluster.
//
// # Key layout
//
// Every key starts with the prefix (default "zw") and the account name
// ("default" for jobs without one); <...> are placeholders:
//
//	zw:<acct>:job:<job_id>          hash   job record: state, attempts, lease, event  (result TTL)
//	zw:<acct>:user:<id>             string user JSON as Zoom answered              (cache TTL)
//	zw:<acct>:user:email:<email>    string user id for a lower-cased email          (cache TTL)
//	zw:<acct>:meeting:<id>          string meeting JSON, start_url removed unless events carry it (cache TTL)
//	zw:<acct>:meeting:<id>:job      string the job that made the meeting           (result TTL)
//	zw:<acct>:daily:<host>          string Unix ms until which host may create no meeting (expires then)
//	zw:<acct>:rl                    string GCRA theoretical arrival time, account-wide
//	zw:<acct>:rl:<category>         string GCRA time for one Zoom rate-limit category
//	zw:<acct>:rl:pause              string Unix µs before which nobody may call Zoom (a 429's Retry-After)
//	zw:<acct>:oauth:<client>        string "expiry_ms|token", the shared access token (expires with it)
//
// # Redis Cluster
//
// A Lua script may only touch keys of one hash slot, so on a
// *redis.ClusterClient two kinds of key carry a hash tag (the part in
// braces decides the slot):
//
//	zw:<acct>:job:{<job_id>}        each job its own slot: one account's jobs spread over every shard
//	zw:<acct>:user:{<id>}...        each cached object its own slot, shared with its ":rs" and ":404"
//	zw:<acct>:meeting:{<id>}...     companions of the read cache (and a meeting's ":job" claim)
//	zw:{<acct>}:rl...               one account's limiter keys share a slot (one script reads them together)
//
// Every other key is read and written alone, so its slot does not matter.
// The one script that needed two slots, Begin reading the host's daily
// mark beside the job, reads the mark with its own GET first (see Begin).
// On one server and behind Sentinel the keys keep the layout above without
// tags, so existing data stays readable after an upgrade; moving data from
// one server to a cluster means starting the cluster empty (job records are
// idempotency keys for ZOOMW_RESULT_TTL: drain the queue first).
package redisstore
