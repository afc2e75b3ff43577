package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
)

// Outcome is what happens to a delivered job. Its values are the "outcome"
// label of zoomworker_jobs_total and of the "job ..." log lines.
type Outcome string

// Job outcomes.
const (
	OutcomeSucceeded  Outcome = "succeeded"   // Zoom was called and the job is done
	OutcomeRepeated   Outcome = "repeated"    // an earlier attempt had done it; the event was sent again
	OutcomeRetried    Outcome = "retried"     // handed back to the stream with a delay
	OutcomeDeferred   Outcome = "deferred"    // waits for the host's daily limit to reset
	OutcomeFailed     Outcome = "failed"      // job.failed, dead-lettered
	OutcomeHandedBack Outcome = "handed_back" // shutdown, a busy lease, an earlier job first: NAK without an attempt
	OutcomeConflict   Outcome = "conflict"    // the job id was used before by another body: job.conflict, not run
)

// result is what a job's kind answers when it succeeded: the event to
// publish and what to cache.
type result struct {
	eventSubject string
	event        any
	users        []messages.User
	meetings     []MeetingJSON
	claimMeeting int64
	dropMeetings []int64
	dropUsers    []string
}

// outcome is everything settle needs to carry out what decide chose.
type outcome struct {
	kind Outcome
	// delay is the NAK delay (retried, handed back, deferred).
	delay time.Duration
	// until is when a deferral ends.
	until time.Time
	// fail is the job.failed error (failed).
	fail *messages.FailError
	// err is what went wrong, for the log line.
	err error
	// record says the attempt began in the store, so settle finishes it
	// there with finish (Account, JobID and Owner are settle's to fill).
	record bool
	finish Finish
	// accountFault: the account's credentials were rejected; settle closes
	// its gate.
	accountFault bool
	// event is published before the ack (succeeded, repeated), with the
	// job.failed of a failure, or beside the NAK of a deferral.
	event *event
}

// event is one event to publish.
type event struct {
	subject string
	body    []byte
	// msgID is its Nats-Msg-Id; "" means the contract's <job_id>:<event name>.
	msgID string
}

// facts are what decide knows of an attempt besides its kind's answer.
type facts struct {
	jobID, subject string
	// seq is the job's stream sequence (0 when unknown).
	seq uint64
	// account is the account as events name it ("" for the default).
	account string
	// body is the job as delivered (job.failed carries it).
	body []byte
	// host is the host whose daily limit the job counts against ("").
	host string
	// claim is what Store.Begin found; zero when the attempt stopped before.
	claim Claim
	// tried is what the kind's tries left (uncertain, applied).
	tried try
	// cancelled: the worker is shutting down and cancelled the attempt.
	cancelled bool
	// panicked is what the attempt panicked with (nil if it did not).
	panicked any
	now      time.Time
}

// ref names the job in its events.
func (f facts) ref() messages.JobRef { return messages.JobRef{JobID: f.jobID, Account: f.account} }

// Errors of the steps before a job's kind runs.
type (
	// invalidJob: the job cannot run (bad body, bad id, unknown account).
	invalidJob struct{ err error }
	// handBack: the job cannot run yet (the store is down, an earlier job
	// of the same meeting is pending); it goes back without an attempt.
	handBack struct {
		delay time.Duration
		err   error
	}
)

func (e invalidJob) Error() string { return e.err.Error() }
func (e invalidJob) Unwrap() error { return e.err }
func (e handBack) Error() string   { return e.err.Error() }
func (e handBack) Unwrap() error   { return e.err }

// changed wraps an error a kind met after Zoom may have applied (sure:
// has applied) the job's change, so the next try knows.
type changed struct {
	err  error
	sure bool
}

func (e *changed) Error() string { return e.err.Error() }
func (e *changed) Unwrap() error { return e.err }

// mayHaveChanged marks err as changed when the failed call might still have
// changed something at Zoom.
func mayHaveChanged(err error) error {
	if mayHaveTakenEffect(err) {
		return &changed{err: err}
	}
	return err
}

// policy is the part of Config decide reads.
type policy struct {
	maxAttempts                         int
	dailyLimit                          string
	redeliveryDelay, redeliveryMaxDelay time.Duration
	// jitter returns a random duration in [0, n]; rand in production.
	jitter func(n time.Duration) time.Duration
}

func policyOf(c Config) policy {
	return policy{maxAttempts: c.MaxAttempts, dailyLimit: c.DailyLimit,
		redeliveryDelay: c.RedeliveryDelay, redeliveryMaxDelay: c.RedeliveryMaxDelay,
		jitter: func(n time.Duration) time.Duration { return rand.N(n + 1) }}
}

// decide maps what an attempt came to (the kind's result or error, and the
// facts around it) to what happens to the message. It is the one place
// that does; it calls nothing and changes nothing.
func (p policy) decide(res *result, err error, f facts) outcome {
	begun := f.claim.State == Started
	var inv invalidJob
	var hb handBack
	var ae *zoom.APIError
	isAPI := errors.As(err, &ae)
	switch {
	case f.panicked != nil:
		if begun {
			return p.retryOrExhaust(f, err, time.Time{})
		}
		return outcome{kind: OutcomeRetried, delay: p.redeliveryDelay, err: err}
	case errors.As(err, &inv):
		fe := &messages.FailError{Kind: messages.KindInvalidJob, Message: inv.err.Error()}
		var ve *messages.ValidationError
		if errors.As(inv.err, &ve) {
			fe.Field = ve.Field
		}
		out := p.failed(f, fe, err)
		// No attempt began, but the job id can still be looked up: the
		// record is made where the id has none.
		out.record, out.finish.OnlyNew, out.finish.Subject = messages.IsJobID(f.jobID), true, f.subject
		return out
	case errors.As(err, &hb):
		return outcome{kind: OutcomeHandedBack, delay: hb.delay, err: hb.err}
	case f.claim.State == Succeeded:
		rec := f.claim.Record
		return outcome{kind: OutcomeRepeated, event: &event{subject: rec.EventSubject, body: rec.Event}}
	case f.claim.State == Conflict:
		return p.conflict(f)
	case f.claim.State == Busy:
		return outcome{kind: OutcomeHandedBack, delay: f.claim.Until.Sub(f.now) + 100*time.Millisecond}
	case f.claim.State == HostLimited:
		return p.hostLimited(f, f.claim.Until)
	case begun && err == nil && res == nil:
		// Begin counted one attempt more than the job may have: the last
		// one ended without recording why (its process died, say).
		return p.failed(f, &messages.FailError{Kind: messages.KindRetriesExhausted,
			Message: fmt.Sprintf("gave up after %d attempts", f.claim.Attempts-1)}, nil)
	case err == nil:
		return p.succeeded(f, res)
	}
	var dl deferral
	if !isAPI && errors.As(err, &dl) {
		// The shared limiter knows one of the account's daily pools is
		// used up: nothing reached Zoom; the job waits for the reset.
		return p.deferUntil(f, dl.DeferUntil(), dl.Reason())
	}
	if held, ok := zoom.AsHeld(err); ok && !isAPI {
		// The shared rate limiter held the request back: nothing reached
		// Zoom, so the job goes back until its slot without using an attempt.
		delay := held.RetryAt().Sub(f.now)
		delay += p.jitter(max(delay/4, 0))
		return p.retrying(f, OutcomeHandedBack, delay, err, true)
	}
	if isAPI && ae.DailyLimit {
		out := p.hostLimited(f, ae.RetryAfter)
		if f.host != "" {
			out.finish.HostLimit, out.finish.HostLimitedUntil = f.host, ae.RetryAfter
		}
		return out
	}
	if isAPI && ae.RegistrantLimit {
		return p.deferUntil(f, ae.RetryAfter, "Zoom's daily limit of 3 registrations of the same registrant for the meeting is reached")
	}
	class, at := zoom.Classify(err)
	if class == zoom.AccountFault {
		// The account's credentials, not this job: it goes back without
		// using an attempt, and the account waits for its probe.
		out := p.retrying(f, OutcomeHandedBack, credentialsWait, err, true)
		out.accountFault = true
		return out
	}
	if class == zoom.Permanent {
		fe := &messages.FailError{Kind: messages.KindZoomRejected, Message: err.Error()}
		if isAPI {
			fe.Message, fe.HTTPStatus, fe.ZoomCode, fe.ZoomTrackingID = ae.Message, ae.StatusCode, ae.Code, ae.TrackingID
			if len(ae.Errors) > 0 {
				fe.Field = ae.Errors[0].Field
				if fe.Message == "" {
					fe.Message = ae.Errors[0].Message
				}
			}
		}
		return p.failed(f, fe, err)
	}
	if f.cancelled {
		// Shutdown cancelled the attempt: hand it back at once.
		return p.retrying(f, OutcomeHandedBack, 0, err, false)
	}
	return p.retryOrExhaust(f, err, at)
}

// succeeded records the result and publishes its event.
func (p policy) succeeded(f facts, res *result) outcome {
	body, err := encodeEvent(res.event)
	if err != nil {
		return p.retrying(f, OutcomeRetried, time.Second, fmt.Errorf("encode event: %w", err), false)
	}
	return outcome{kind: OutcomeSucceeded, record: true,
		// Uncertain: should the record fail, Zoom has done the job and
		// the next attempt must reconcile, not create again.
		finish: Finish{State: StateSucceeded, Uncertain: true, EventSubject: res.eventSubject, Event: body,
			Users: res.users, Meetings: res.meetings, ClaimMeeting: res.claimMeeting,
			DropMeetings: res.dropMeetings, DropUsers: res.dropUsers},
		event: &event{subject: res.eventSubject, body: body}}
}

// retrying sends the job back to the stream; refund gives the attempt back.
func (p policy) retrying(f facts, kind Outcome, delay time.Duration, err error, refund bool) outcome {
	return outcome{kind: kind, delay: delay, err: err, record: f.claim.State == Started,
		finish: Finish{State: StateRetrying, Uncertain: f.claim.Uncertain || f.tried.uncertain, Refund: refund}}
}

// failed dead-letters the job and publishes job.failed.
func (p policy) failed(f facts, fe *messages.FailError, err error) outcome {
	attempts := max(f.claim.Attempts, 1)
	ev := messages.JobFailed{JobRef: f.ref(), Subject: f.subject, Attempts: attempts, Error: *fe}
	ev.JobBody = messages.FailedJobBody(f.body)
	body, merr := json.Marshal(ev)
	if merr != nil {
		// Only a body that cannot be carried as JSON gets here; keep the job.
		return outcome{kind: OutcomeHandedBack, delay: time.Second, err: fmt.Errorf("encode job.failed: %w", merr)}
	}
	return outcome{kind: OutcomeFailed, fail: fe, err: err, record: f.claim.State == Started,
		finish: Finish{State: StateFailed, Uncertain: f.claim.Uncertain || f.tried.uncertain, Error: fe},
		event:  &event{subject: messages.SubjectJobFailed, body: body}}
}

// retryOrExhaust sends a transiently failed job back to the stream with a
// delay, or fails it once it has used all its attempts.
func (p policy) retryOrExhaust(f facts, err error, at time.Time) outcome {
	attempts := f.claim.Attempts
	if attempts >= p.maxAttempts {
		fe := &messages.FailError{Kind: messages.KindRetriesExhausted,
			Message: fmt.Sprintf("gave up after %d attempts: %v", attempts, err)}
		var ae *zoom.APIError
		if errors.As(err, &ae) {
			fe.HTTPStatus, fe.ZoomCode, fe.ZoomTrackingID = ae.StatusCode, ae.Code, ae.TrackingID
		}
		return p.failed(f, fe, err)
	}
	delay := p.redeliveryDelay << max(attempts-1, 0)
	if delay > p.redeliveryMaxDelay || delay <= 0 {
		delay = p.redeliveryMaxDelay
	}
	delay = delay/2 + p.jitter(delay/2) // spread a burst of failures
	if wait := at.Sub(f.now); wait > delay {
		delay = wait
	}
	return p.retrying(f, OutcomeRetried, delay, err, false)
}

// conflict refuses a job whose id an earlier job with another body used:
// the first job keeps its outcome; this one is not run.
func (p policy) conflict(f facts) outcome {
	ev := messages.JobConflict{JobRef: f.ref(), Subject: f.subject,
		Reason: "job id already used by a job with a different body; the first job is kept, this one was not run"}
	if rec := f.claim.Record; rec != nil {
		ev.FirstState, ev.FirstEvent = string(rec.State), rec.EventSubject
	}
	ev.JobBody = messages.FailedJobBody(f.body)
	body, err := json.Marshal(ev)
	if err != nil {
		return outcome{kind: OutcomeHandedBack, delay: time.Second, err: fmt.Errorf("encode job.conflict: %w", err)}
	}
	return outcome{kind: OutcomeConflict, err: errors.New(ev.Reason), event: &event{subject: messages.SubjectJobConflict, body: body,
		msgID: messages.EventMsgID(f.jobID, messages.SubjectJobConflict) + ":" + strconv.FormatUint(f.seq, 10)}}
}

// deferral is an error saying a job cannot run before a time: the shared
// limiter's answer when a daily pool of the account is used up
// (redisstore.DailyLimitError).
type deferral interface {
	error
	DeferUntil() time.Time
	Reason() string
}

// hostLimited defers a job until the host's daily limit resets, or fails it.
func (p policy) hostLimited(f facts, until time.Time) outcome {
	reason := "daily meeting create/update limit reached for the meeting's host"
	if f.host != "" {
		reason = "daily meeting create/update limit reached for host " + f.host
	}
	return p.deferUntil(f, until, reason)
}

// deferUntil defers a job that met one of Zoom's daily limits until it
// resets, or fails it (ZOOMW_DAILY_LIMIT=fail).
func (p policy) deferUntil(f facts, until time.Time, reason string) outcome {
	if p.dailyLimit == DailyLimitFail {
		return p.failed(f, &messages.FailError{Kind: messages.KindZoomRejected, Message: reason, HTTPStatus: 429}, nil)
	}
	ev := messages.JobDeferred{JobRef: f.ref(), Subject: f.subject,
		Until: until.UTC().Format(time.RFC3339), Reason: reason}
	body, _ := json.Marshal(ev) // strings only: cannot fail
	// Zoom refused the call for the day: the attempt is given back.
	out := p.retrying(f, OutcomeDeferred, until.Sub(f.now)+p.jitter(30*time.Second), nil, true)
	out.finish.State = StateDeferred
	out.until = until
	out.event = &event{subject: messages.SubjectJobDeferred, body: body,
		msgID: messages.EventMsgID(f.jobID, messages.SubjectJobDeferred) + ":" + strconv.FormatInt(until.Unix(), 10)}
	return out
}
