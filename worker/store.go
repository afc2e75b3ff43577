package worker

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
)

// Store is the worker's memory of jobs, kept in Redis and shared by every
// worker process. It is the idempotency record: what an attempt began, what
// it ended with, and the users and meetings it made.
type Store interface {
	// Begin claims job j for one attempt and reports what earlier attempts
	// left. It is one round trip on the happy path.
	Begin(ctx context.Context, b Begin) (Claim, error)
	// Finish records how an attempt ended and, for a success, caches the
	// objects it made, all in one round trip.
	Finish(ctx context.Context, f Finish) error
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

// Cache looks up users and meetings the worker has seen, and remembers the
// per-host daily limit. Misses are (nil, nil).
type Cache interface {
	CachedUser(ctx context.Context, account, idOrEmail string) (*messages.User, error)
	CachedMeeting(ctx context.Context, account string, meetingID int64) (*messages.Meeting, error)
	// ClaimedMeetings returns, for each of ids, the job id that already owns
	// that meeting ("" for none): reconciliation must not adopt those.
	ClaimedMeetings(ctx context.Context, account string, ids []int64) ([]string, error)
	// SetHostLimited records that host may create no meeting before until.
	SetHostLimited(ctx context.Context, account, host string, until time.Time) error
	// JobRecord returns what is known of a job (nil when nothing).
	JobRecord(ctx context.Context, account, jobID string) (*Record, error)
}

// Begin is the start of an attempt at a job.
type Begin struct {
	Account string
	JobID   string
	Subject string
	// Owner names this attempt (process and delivery), for the lease.
	Owner string
	// Lease is how long this attempt may hold the job before another
	// delivery may take over.
	Lease time.Duration
	// HostLimitKey, when set, is the host whose daily-limit mark Begin also
	// reads (create-meeting jobs).
	HostLimitKey string
}

// ClaimState is what Begin found.
type ClaimState int

const (
	// Started: this attempt holds the job now.
	Started ClaimState = iota
	// Succeeded: an earlier attempt finished the job; Claim.Record holds its event.
	Succeeded
	// Busy: another attempt holds a live lease until Claim.Until.
	Busy
	// HostLimited: the host reached its daily limit until Claim.Until; no attempt began.
	HostLimited
)

// Claim is Begin's answer.
type Claim struct {
	State ClaimState
	// Attempts counts attempts begun so far, this one included.
	Attempts int
	// Uncertain is true when an earlier attempt may have reached Zoom with an
	// outcome nobody recorded: the job must reconcile before creating again.
	Uncertain bool
	// FirstStarted is when the first attempt began (Redis time).
	FirstStarted time.Time
	// Until is the end of a Busy lease or of a HostLimited day.
	Until  time.Time
	Record *Record
}

// Record is what the store keeps of a job.
type Record struct {
	JobID        string              `json:"job_id"`
	Account      string              `json:"account,omitempty"`
	Subject      string              `json:"subject"`
	State        string              `json:"state"` // running, retrying, succeeded, failed
	Attempts     int                 `json:"attempts"`
	FirstStarted time.Time           `json:"first_started"`
	UpdatedAt    time.Time           `json:"updated_at"`
	EventSubject string              `json:"event_subject,omitempty"`
	Event        json.RawMessage     `json:"event,omitempty"`
	Error        *messages.FailError `json:"error,omitempty"`
}

// MeetingJSON is a meeting to cache, already encoded (as events carry it).
type MeetingJSON struct {
	ID   int64
	JSON json.RawMessage
}

// Record states.
const (
	StateRunning   = "running"
	StateRetrying  = "retrying"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
)

// Finish is how an attempt ended.
type Finish struct {
	Account string
	JobID   string
	Owner   string
	// State is StateSucceeded, StateFailed or StateRetrying.
	State string
	// Uncertain marks a retrying attempt whose Zoom call may have taken effect.
	Uncertain bool
	// Refund gives a retrying attempt back: it never got to call Zoom (the
	// shared rate limiter held it), so it does not count against MaxAttempts.
	Refund bool
	// EventSubject and Event are the success event, kept to publish again.
	EventSubject string
	Event        []byte
	Error        *messages.FailError
	// Objects to cache with a success.
	Users    []messages.User
	Meetings []MeetingJSON
	// ClaimMeeting marks a meeting as made by this job (for reconciliation).
	ClaimMeeting int64
	// DropMeetings and DropUsers are cache entries to invalidate.
	DropMeetings []int64
	DropUsers    []string
}
