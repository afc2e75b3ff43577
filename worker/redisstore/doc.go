// Package redisstore keeps zoom-worker's shared state in Redis: the job
// records that make jobs idempotent, the user and meeting cache, the per-host
// daily-limit marks, the account-wide rate limiter (GCRA, one round trip per
// request) and the shared OAuth token. Every worker process that points at the
// same Redis shares all of it.
//
// # Key layout
//
// Every key starts with the prefix (default "zw") and the account name:
//
//	zw:{acct}:job:{job_id}          hash   job record: state, attempts, lease, event  (result TTL)
//	zw:{acct}:user:{id}             string user JSON as Zoom answered              (cache TTL)
//	zw:{acct}:user:email:{email}    string user id for a lower-cased email          (cache TTL)
//	zw:{acct}:meeting:{id}          string meeting JSON, start_url removed unless events carry it (cache TTL)
//	zw:{acct}:meeting:{id}:job      string the job that made the meeting           (result TTL)
//	zw:{acct}:daily:{host}          string Unix ms until which host may create no meeting (expires then)
//	zw:{acct}:order:{key}           string the newest sequence finished for an ordering key
//	zw:{acct}:rl                    string GCRA theoretical arrival time, account-wide
//	zw:{acct}:rl:{category}         string GCRA time for one Zoom rate-limit category
//	zw:{acct}:rl:pause              string Unix µs before which nobody may call Zoom (a 429's Retry-After)
//	zw:{acct}:oauth:{client}        string "expiry_ms|token", the shared access token (expires with it)
//
// The {acct} is the job's account name ("default" without one).
package redisstore
