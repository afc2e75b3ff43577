// Package console is the operator console that `zoom-worker console` (and
// `zoom-worker dev`) serves: a few server-rendered pages over the same NATS
// and Redis the workers use.
//
//   - Overview: the streams, the shared consumer (pending, ack pending,
//     redelivered, the oldest waiting job), the workers alive (from the
//     zoom-worker micro service's $SRV.STATS) and, per account, jobs done,
//     failed and deferred per minute over the last hour.
//   - Find a job by id, meeting id or user email: its record and where it is.
//   - Dead letters: filter, select, replay or delete (with a confirmation and
//     a summary that follows the replayed jobs' state).
//   - Waiting: hosts at their daily limit, deferred jobs, the shared rate
//     limiter of each account.
//
// Everything it reads is bounded: stream and consumer info and one message
// lookup for the overview, never a read of every message. The per-minute
// counts come from one ordered consumer on ZOOM_EVENTS that the console
// follows from an hour back (activity.go); the workers write nothing extra.
//
// Pages are html/template with embedded CSS and no JavaScript. Every state
// change is a POST with a CSRF token; with Config.Token set every request
// must carry it (a Bearer header or the login cookie). Nothing shown carries
// a secret, a token or a start_url (redact.go).
package console
