// Package readside is zoom-worker's read side: it answers operators' and
// other systems' questions about zoom-worker's jobs, users and meetings over
// NATS request-reply, as a NATS micro service
// (github.com/nats-io/nats.go/micro), from what the worker stored, so that
// they need not call Zoom. It declares the small interfaces it reads through
// (Jobs, JobNotes, ReadCache, Zoom); cmd/zoom-worker hands it the Redis store
// and the accounts' Zoom read clients (their own share of the rate limit).
// [Follow] keeps the read cache true to Zoom from Zoom's webhooks (package
// webhook stores them), and [NoteJobs] notes deferrals and dead letters.
//
// Every `zoom-worker run` process starts one instance with [Start]. All
// instances share the micro queue group, so each request is answered by one
// of them, and the standard discovery subjects work as for any micro service:
//
//	nats micro ls                          # $SRV.INFO: every instance, its version and endpoints
//	nats micro info zoom-worker
//	nats micro stats zoom-worker           # requests, errors and processing time per endpoint
//
// # Endpoints
//
// The endpoints sit under the subject prefix "zoom.svc" ([SubjectPrefix]).
// Requests and answers are JSON objects; "account" may name one of the
// configured Zoom accounts and defaults to "default".
//
//	zoom.svc.job.status   {"job_id": "m-7", "account"?: "..."}
//	                      → {"source": "store", "job": {"job_id", "state", "attempts", "first_started",
//	                         "updated_at", "event_subject", "event", "error", "until", "dead_letter"}}
//	zoom.svc.meeting.get  {"meeting_id": 85746065432, "account"?: "..."}
//	                      → {"source": "cache" | "zoom", "stale"?: true, "meeting": {...}}
//	zoom.svc.user.get     {"user_id": "james@bond.com", "account"?: "..."}   (a Zoom user id or an email)
//	                      → {"source": "cache" | "zoom", "stale"?: true, "user": {...}}
//	zoom.svc.meeting.sdk_signature {"meeting_id": 85746065432, "role": 0, "expires_in"?: 7200}
//	                      → {"signature", "sdk_key", "meeting_id", "role", "expires_at"}
//
// job.status reads what the shared store records of a job ([Jobs]), with
// what [NoteJobs] noted: "deferred" and until for a deferred job, and the
// dead letter of a failed one (an invalid job has only that). meeting.get and
// user.get answer from the read cache ([ReadCache]); on a miss, one Zoom call
// serves every concurrent read of the object and is written back (a
// compare-and-set on the webhook version), and a 404 is remembered for
// Config.NotFoundTTL. A copy a webhook marked stale is answered with
// "stale": true when Zoom does not answer within Config.StaleWait.
//
// For example, with the nats CLI:
//
//	nats req zoom.svc.job.status '{"job_id":"m-7"}'
//	nats req zoom.svc.meeting.get '{"meeting_id":85746065432}'
//
// # Errors
//
// Errors are micro service errors: the Nats-Service-Error-Code header holds
// an HTTP-like code and Nats-Service-Error a description; the body repeats
// them as {"error": {"code": 404, "description": "..."}} for readers that
// only look at the body.
//
//	400  the request is not JSON, misses a field or names an unknown account
//	404  no such job, or neither the cache nor Zoom knows the meeting or user
//	500  the service failed (a bug; the description says what)
//	502  Zoom answered with an error (its HTTP status and code are in the
//	     description) or could not be reached
//	503  Redis, where the store and cache live, cannot be reached
//	504  the answer took longer than the request timeout (Config.Timeout)
//
// # Secrets
//
// A meeting's start_url carries the host's ZAK token. Answers leave it out of
// meetings, and out of the events that job.status returns, unless
// Config.IncludeStartURL is set (as ZOOMW_EVENTS_INCLUDE_START_URL=true sets it
// for events). Nothing a request asks for is written to the log beyond ids.
//
// # Concurrency
//
// The micro framework calls each endpoint's handler from that endpoint's
// subscription, one request at a time per process; every request is bounded
// by Config.Timeout, and running more worker processes spreads requests over
// them through the queue group.
package readside
