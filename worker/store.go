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
	// Epoch returns the account's epoch, first setting it to seq when the
	// store has none. The epoch is a sequence of ZOOM_JOBS: the store holds
	// the records of every job published after it. It goes only with the
	// store's data, and the worker sets it again to the stream's last
	// sequence at start and after a loss, so a job at a sequence up to the
	// epoch may have had a record the store lost.
	Epoch(ctx context.Context, account string, seq uint64) (uint64, error)
}

// Cache is what the worker reads of the users and meetings it has seen.
// Misses are (nil, nil). Other readers (the service) declare their own.
type Cache interface {
	CachedUser(ctx context.Context, account, idOrEmail string) (*messages.User, error)
	// ClaimedMeetings returns, for each of ids, the job id that already owns
	// that meeting ("" for none): reconciliation must not adopt those.
	ClaimedMeetings(ctx context.Context, account string, ids []int64) ([]string, error)
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
	// BodyHash identifies the job's body. The first Begin of a job keeps
	// it; a later one with another hash gets Conflict. "" skips the check.
	BodyHash string
}

// ClaimState is what Begin found. Its values are the words the store's
// scripts answer with (they get them as arguments, so the words live here).
type ClaimState string

const (
	// Started: this attempt holds the job now.
	Started ClaimState = "started"
	// Succeeded: an earlier attempt finished the job; Claim.Record holds its event.
	Succeeded ClaimState = "succeeded"
	// Busy: another attempt holds a live lease until Claim.Until.
	Busy ClaimState = "busy"
	// HostLimited: the host reached its daily limit until Claim.Until; no attempt began.
	HostLimited ClaimState = "limited"
	// Conflict: the job id was first used by a job with another body
	// (Begin.BodyHash); Claim.Record says what became of that one. No
	// attempt began.
	Conflict ClaimState = "conflict"
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
	Until time.Time
	// Fresh is true when the store had no record of the job before this
	// Begin. For a job JetStream delivers again that was published up to
	// the epoch, the record may have been lost (Redis failed over, restarted
	// empty, was flushed): the job is then as uncertain as a running one.
	Fresh bool
	// Epoch is the account's epoch (see Store.Epoch); HasEpoch is false when
	// the store has none: it lost its data just now.
	Epoch    uint64
	HasEpoch bool
	// Prior is the record's state before this Begin ("" when Fresh).
	Prior State
	// Record is the finished job's record (Succeeded), or what is known of
	// the first job with this id (Conflict).
	Record *Record
}

// Record is what the store keeps of a job. It is no JSON shape of its own:
// the store keeps its fields apart (a Redis hash), and readers answer with
// their own.
type Record struct {
	JobID, Account, Subject string
	State                   State
	// Attempts counts the attempts begun so far.
	Attempts int
	// FirstStarted is when the first attempt began; UpdatedAt when the
	// record last changed.
	FirstStarted, UpdatedAt time.Time
	// EventSubject and Event are the success event, kept to publish again.
	EventSubject string
	Event        json.RawMessage
	// Error is why the job failed, where it did.
	Error *messages.FailError
}

// MeetingJSON is a meeting to cache, already encoded (as events carry it).
type MeetingJSON struct {
	ID   int64
	JSON json.RawMessage
}

// State is a job record's state. The store's scripts get these words as
// arguments; the service reports them as a job's "state".
type State string

// Record states.
const (
	// StateRunning: an attempt holds the job (until its lease ends).
	StateRunning State = "running"
	// StateRetrying: the last attempt ended and the job waits in the stream
	// (a retry, a hand-back or a deferral).
	StateRetrying State = "retrying"
	// StateSucceeded: done; the record keeps the event to publish again.
	StateSucceeded State = "succeeded"
	// StateFailed: failed for good (dead-lettered).
	StateFailed State = "failed"
	// StateDeferred: the job waits in the stream for its host's daily
	// limit to reset; it is not a failure.
	StateDeferred State = "deferred"
)

// Finish is how an attempt ended.
type Finish struct {
	Account string
	JobID   string
	Owner   string
	// State is StateSucceeded, StateFailed, StateRetrying or StateDeferred.
	State State
	// Subject names the job's subject where Finish makes the record (OnlyNew).
	Subject string
	// OnlyNew writes the record only where there is none: an invalid job's
	// failure, recorded so that its job id can be looked up, never
	// overwrites the record of a job that uses the same id.
	OnlyNew bool
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
	// HostLimit, when set, is a host Zoom refused for the day: no job may
	// create a meeting for it before HostLimitedUntil (Begin reads the mark).
	HostLimit        string
	HostLimitedUntil time.Time
}
