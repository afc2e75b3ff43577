package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
)

// attempt is one try at one job.
type attempt struct {
	msg      jetstream.Msg
	subject  string
	body     []byte
	job      messages.Job
	jobID    string
	account  Account
	claim    Claim
	owner    string
	log      *slog.Logger
	received time.Time
	// seq is the job's stream sequence in ZOOM_JOBS (0 when unknown).
	seq uint64
	// uncertain is true once a call that creates something may have taken
	// effect at Zoom without an answer: the next try must reconcile first.
	uncertain bool
	// repeated is true when an earlier attempt had finished the job.
	repeated bool
	// begun is true once Begin started an attempt that must be finished in the store.
	begun bool
	// applied is true once this attempt's change (an update) reached Zoom.
	applied bool
}

// result is what a successful attempt publishes and records.
type result struct {
	eventSubject string
	event        any
	users        []messages.User
	meetings     []MeetingJSON
	claimMeeting int64
	dropMeetings []int64
	dropUsers    []string
}

// outcome is what happens to the message. Errors are mapped to outcomes in
// one place: decide.
type outcome struct {
	kind  outcomeKind
	delay time.Duration // for retry and deferral
	until time.Time     // for deferral
	fail  *messages.FailError
	err   error
	// refund gives the attempt back: the job did not get to call Zoom.
	refund bool
}

type outcomeKind int

const (
	outAck outcomeKind = iota
	outRetry
	outDefer
	outFail
	outHandBack
)

// orderWait is how long a job waits for an earlier job of the same meeting.
const orderWait = 200 * time.Millisecond

var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// handle runs one delivered message to its end: ack, nak or term.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	w.inFlight.Add(1)
	if w.m != nil {
		w.m.InFlight.Inc()
	}
	defer func() {
		w.inFlight.Add(-1)
		if w.m != nil {
			w.m.InFlight.Dec()
		}
	}()
	stop := keepAlive(msg, w.cfg.AckWait/3)
	defer stop()

	a := &attempt{msg: msg, subject: msg.Subject(), body: msg.Data(), owner: w.owner, received: w.cfg.Now()}
	delivered := uint64(1)
	if meta, _ := msg.Metadata(); meta != nil {
		a.seq, delivered = meta.Sequence.Stream, meta.NumDelivered
		a.owner = w.owner + ":" + strconv.FormatUint(a.seq, 10)
	}
	job, derr := messages.DecodeJob(a.subject, a.body)
	a.job = job
	a.jobID = jobIDOf(job, a.body, msg.Headers().Get(messages.HeaderMsgID), a.seq)
	a.log = w.log.With("job_id", a.jobID, "subject", a.subject, "delivery", delivered)

	var out outcome
	func() {
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("job handler panicked", "panic", fmt.Sprint(p))
				out = outcome{kind: outRetry, delay: w.cfg.RedeliveryDelay, err: fmt.Errorf("handler panic: %v", p)}
				if a.begun {
					out = w.retryOrExhaust(a, out.err, time.Time{})
				}
			}
		}()
		out = w.run(ctx, a, derr)
	}()
	w.settle(ctx, a, out)
}

// run decides the outcome of one delivery.
func (w *Worker) run(ctx context.Context, a *attempt, derr error) outcome {
	if derr != nil {
		return failInvalid(derr)
	}
	if !jobIDPattern.MatchString(a.jobID) {
		return failInvalid(&messages.ValidationError{Field: messages.HeaderMsgID,
			Reason: "job id must be 1-128 characters of A-Z a-z 0-9 . _ : -"})
	}
	name := a.job.AccountName()
	if name == "" {
		name = DefaultAccount
	}
	acct, ok := w.accounts[name]
	if !ok {
		return failInvalid(&messages.ValidationError{Field: "account", Reason: fmt.Sprintf("no Zoom account named %q is configured", name)})
	}
	a.account = acct

	if key := orderKey(a.job); key != "" && w.seq != nil && a.seq != 0 {
		prev, err := w.seq.earlier(ctx, key, a.seq)
		if err != nil {
			return outcome{kind: outHandBack, delay: time.Second, err: fmt.Errorf("check order: %w", err)}
		}
		if prev != 0 {
			return outcome{kind: outHandBack, delay: orderWait,
				err: fmt.Errorf("waits for job at sequence %d of the same meeting", prev)}
		}
	}

	claim, err := w.store.Begin(ctx, Begin{
		Account: acct.Name, JobID: a.jobID, Subject: a.subject, Owner: a.owner,
		Lease: w.cfg.lease(), HostLimitKey: hostLimitKey(a.job),
	})
	if err != nil {
		w.health.failed()
		return outcome{kind: outHandBack, delay: time.Second, err: err}
	}
	a.claim, a.uncertain = claim, claim.Uncertain
	switch claim.State {
	case Succeeded:
		a.repeated = true
		return outcome{kind: outAck}
	case Busy:
		return outcome{kind: outHandBack, delay: time.Until(claim.Until) + 100*time.Millisecond}
	case HostLimited:
		return w.hostLimited(a, claim.Until)
	}
	a.begun = true
	if claim.Attempts > w.cfg.MaxAttempts {
		return outcome{kind: outFail, fail: &messages.FailError{Kind: messages.KindRetriesExhausted,
			Message: fmt.Sprintf("gave up after %d attempts", claim.Attempts-1)}}
	}

	actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
	defer cancel()
	w.cfg.failpoint("before_zoom", a.jobID)
	res, err := w.retry(actx, a)
	if err == nil {
		w.cfg.failpoint("after_zoom", a.jobID)
		return w.succeed(ctx, a, res)
	}
	return w.decide(ctx, a, err)
}

// retry runs the job, retrying transient errors in process with exponential
// backoff and jitter for up to RetryBudget.
func (w *Worker) retry(ctx context.Context, a *attempt) (*result, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = w.cfg.RetryInitial, w.cfg.RetryMax
	b.MaxElapsedTime = w.cfg.RetryBudget
	b.Reset()
	for {
		res, err := w.perform(ctx, a)
		if err == nil {
			return res, nil
		}
		class, at := classify(err)
		if class == zoom.Permanent || ctx.Err() != nil {
			return nil, err
		}
		w.noteRateLimit(ctx, a, err)
		next := b.NextBackOff()
		if class == zoom.RetryLater {
			if wait := time.Until(at); wait > next {
				next = wait
			}
		}
		if next == backoff.Stop || b.GetElapsedTime()+next > w.cfg.RetryBudget {
			return nil, err
		}
		a.log.Debug("retrying", "err", err, "in", next)
		if w.m != nil {
			w.m.Retries.WithLabelValues(a.subject, "in_process").Inc()
		}
		t := time.NewTimer(next)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

// perform runs the job once against Zoom.
func (w *Worker) perform(ctx context.Context, a *attempt) (*result, error) {
	switch j := a.job.(type) {
	case *messages.CreateUserJob:
		return w.createUser(ctx, a, j)
	case *messages.CreateMeetingJob:
		return w.createMeeting(ctx, a, j)
	case *messages.UpdateMeetingJob:
		return w.updateMeeting(ctx, a, j)
	case *messages.DeleteMeetingJob:
		return w.deleteMeeting(ctx, a, j)
	case *messages.DeleteUserJob:
		return w.deleteUser(ctx, a, j)
	}
	return nil, fmt.Errorf("no handler for %s", a.subject)
}

// decide maps a failed attempt's error to the message's outcome.
func (w *Worker) decide(ctx context.Context, a *attempt, err error) outcome {
	class, at := classify(err)
	var ae *zoom.APIError
	isAPI := errors.As(err, &ae)
	var held interface{ RetryAt() time.Time }
	if !isAPI && errors.As(err, &held) {
		// The shared rate limiter held the request back: nothing reached
		// Zoom, so the job goes back until its slot without using an attempt.
		delay := time.Until(held.RetryAt())
		delay += time.Duration(rand.N(int64(delay/4) + 1))
		return outcome{kind: outHandBack, delay: delay, refund: true, err: err}
	}
	if isAPI && ae.DailyLimit {
		if host := hostLimitKey(a.job); host != "" {
			if serr := w.cache.SetHostLimited(ctx, a.account.Name, host, ae.RetryAfter); serr != nil {
				w.health.failed()
			}
		}
		return w.hostLimited(a, ae.RetryAfter)
	}
	if class == zoom.Permanent {
		fe := &messages.FailError{Kind: messages.KindZoomRejected, Message: err.Error()}
		if isAPI {
			fe.Message, fe.HTTPStatus, fe.ZoomCode = ae.Message, ae.StatusCode, ae.Code
			if len(ae.Errors) > 0 {
				fe.Field = ae.Errors[0].Field
				if fe.Message == "" {
					fe.Message = ae.Errors[0].Message
				}
			}
		}
		return outcome{kind: outFail, fail: fe, err: err}
	}
	if ctx.Err() != nil {
		// Shutdown cancelled the attempt: hand it back without using an attempt's delay.
		return outcome{kind: outHandBack, delay: 0, err: err}
	}
	return w.retryOrExhaust(a, err, at)
}

// retryOrExhaust sends a transiently failed job back to the stream with a
// delay, or fails it once it has used all its attempts.
func (w *Worker) retryOrExhaust(a *attempt, err error, at time.Time) outcome {
	if a.claim.Attempts >= w.cfg.MaxAttempts {
		fe := &messages.FailError{Kind: messages.KindRetriesExhausted,
			Message: fmt.Sprintf("gave up after %d attempts: %v", a.claim.Attempts, err)}
		var ae *zoom.APIError
		if errors.As(err, &ae) {
			fe.HTTPStatus, fe.ZoomCode = ae.StatusCode, ae.Code
		}
		return outcome{kind: outFail, fail: fe, err: err}
	}
	delay := w.cfg.RedeliveryDelay << max(a.claim.Attempts-1, 0)
	if delay > w.cfg.RedeliveryMaxDelay || delay <= 0 {
		delay = w.cfg.RedeliveryMaxDelay
	}
	delay = delay/2 + rand.N(delay/2+1) // jitter: spread a burst of failures
	if wait := time.Until(at); wait > delay {
		delay = wait
	}
	return outcome{kind: outRetry, delay: delay, err: err}
}

// hostLimited defers a job until the host's daily limit resets, or fails it.
func (w *Worker) hostLimited(a *attempt, until time.Time) outcome {
	reason := "daily meeting create/update limit reached for the meeting's host"
	if host := hostLimitKey(a.job); host != "" {
		reason = "daily meeting create/update limit reached for host " + host
	}
	if w.cfg.DailyLimit == DailyLimitFail {
		return outcome{kind: outFail, fail: &messages.FailError{Kind: messages.KindZoomRejected,
			Message: reason, HTTPStatus: 429}}
	}
	return outcome{kind: outDefer, until: until, delay: time.Until(until) + time.Duration(rand.N(int64(30*time.Second))),
		fail: &messages.FailError{Message: reason}}
}

// noteRateLimit slows every process down after a 429 with a Retry-After.
func (w *Worker) noteRateLimit(ctx context.Context, a *attempt, err error) {
	var ae *zoom.APIError
	if a.account.Limiter == nil || !errors.As(err, &ae) || ae.StatusCode != 429 || ae.DailyLimit {
		return
	}
	until := ae.RetryAfter
	if until.IsZero() {
		until = time.Now().Add(time.Second)
	}
	if perr := a.account.Limiter.PauseUntil(ctx, until); perr != nil {
		a.log.Warn("share rate-limit pause", "err", perr)
	}
}

// classify extends zoom.Classify with the worker's own retry-at errors (the
// shared limiter's "no slot soon").
func classify(err error) (zoom.Class, time.Time) {
	var ra interface{ RetryAt() time.Time }
	if errors.As(err, &ra) {
		return zoom.RetryLater, ra.RetryAt()
	}
	return zoom.Classify(err)
}

func failInvalid(err error) outcome {
	fe := &messages.FailError{Kind: messages.KindInvalidJob, Message: err.Error()}
	var ve *messages.ValidationError
	if errors.As(err, &ve) {
		fe.Field = ve.Field
	}
	return outcome{kind: outFail, fail: fe, err: err}
}

// jobIDOf finds a job's id: the body's job_id, else the Nats-Msg-Id header,
// else one derived from the stream sequence. It reads job_id from a body
// that failed validation too, so its job.failed event names it.
func jobIDOf(job messages.Job, body []byte, header string, seq uint64) string {
	if job != nil && job.ID() != "" {
		return job.ID()
	}
	if job == nil && len(body) <= messages.MaxJobBytes {
		var probe struct {
			JobID string `json:"job_id"`
		}
		if json.Unmarshal(body, &probe) == nil && jobIDPattern.MatchString(probe.JobID) {
			return probe.JobID
		}
	}
	if header != "" {
		return header
	}
	return messages.StreamJobs + "-" + strconv.FormatUint(seq, 10)
}

// hostLimitKey is the host whose daily limit a job counts against ("" for none).
func hostLimitKey(j messages.Job) string {
	switch j := j.(type) {
	case *messages.CreateMeetingJob:
		return j.UserID
	}
	return ""
}

// keepAlive tells JetStream the job is still being worked on every period,
// so a long Zoom call is not redelivered under a running attempt. It uses a
// timer, not a goroutine, per job: a worker may hold thousands of jobs.
func keepAlive(msg jetstream.Msg, period time.Duration) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock() // the callback uses t: it must see it assigned
	defer mu.Unlock()
	t = time.AfterFunc(period, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		_ = msg.InProgress()
		t.Reset(period)
	})
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
}
