package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/messages"
)

// Headers the worker sets on dead-lettered jobs.
const (
	HeaderJobSubject = "Zoomw-Job-Subject"
	HeaderJobID      = "Zoomw-Job-Id"
	HeaderErrorKind  = "Zoomw-Error-Kind"
	HeaderError      = "Zoomw-Error"
	HeaderAttempts   = "Zoomw-Attempts"
	HeaderFailedAt   = "Zoomw-Failed-At"
	HeaderAccount    = "Zoomw-Account"
)

// succeed records a success and builds the event; settle publishes it.
func (w *Worker) succeed(ctx context.Context, a *attempt, res *result) outcome {
	// Zoom has done the job: should anything below fail, the next attempt
	// must reconcile, not create again.
	a.uncertain = true
	body, err := json.Marshal(res.event)
	if err != nil {
		return outcome{kind: outRetry, delay: time.Second, err: fmt.Errorf("encode event: %w", err)}
	}
	err = w.store.Finish(ctx, Finish{
		Account: a.account.Name, JobID: a.jobID, Owner: a.owner, State: StateSucceeded,
		EventSubject: res.eventSubject, Event: body,
		Users: res.users, Meetings: res.meetings, ClaimMeeting: res.claimMeeting,
		DropMeetings: res.dropMeetings, DropUsers: res.dropUsers,
	})
	if err != nil {
		// Zoom did it but we could not record it: the next attempt
		// reconciles (the record says running or uncertain).
		w.health.failed()
		return outcome{kind: outHandBack, delay: time.Second, err: err}
	}
	w.cfg.failpoint("after_record", a.jobID)
	a.claim.Record = &Record{EventSubject: res.eventSubject, Event: body}
	a.claim.State = Succeeded
	return outcome{kind: outAck}
}

// settle carries out an outcome: publish, then ack, nak or term.
func (w *Worker) settle(ctx context.Context, a *attempt, out outcome) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	took := w.cfg.Now().Sub(a.received)
	log := a.log.With("attempt", a.claim.Attempts, "took_ms", took.Milliseconds())
	switch out.kind {
	case outAck:
		rec := a.claim.Record
		if err := w.publish(pctx, a, rec.EventSubject, rec.Event); err != nil {
			log.Warn("publish event failed; job handed back", "err", err)
			w.nak(a, time.Second)
			w.m.job(a.subject, OutcomeHandedBack, took)
			return
		}
		w.cfg.failpoint("after_publish", a.jobID)
		_ = a.msg.Ack()
		outcomeName := OutcomeSucceeded
		if a.repeated {
			outcomeName = OutcomeRepeated
		}
		log.Info("job done", "outcome", outcomeName, "event", rec.EventSubject)
		w.m.job(a.subject, outcomeName, took)

	case outRetry:
		if a.begun {
			w.finishQuietly(pctx, a, StateRetrying, nil)
		}
		w.nak(a, out.delay)
		log.Warn("job will be retried", "outcome", OutcomeRetried, "err", out.err, "retry_in", out.delay.Round(time.Millisecond).String())
		if w.m != nil {
			w.m.Retries.WithLabelValues(a.subject, "redelivery").Inc()
		}
		w.m.job(a.subject, OutcomeRetried, took)

	case outHandBack:
		if a.begun {
			w.finishStore(pctx, a, Finish{State: StateRetrying, Refund: out.refund})
		}
		w.nak(a, out.delay)
		log.Info("job handed back", "outcome", OutcomeHandedBack, "err", out.err, "retry_in", out.delay.Round(time.Millisecond).String())
		w.m.job(a.subject, OutcomeHandedBack, took)

	case outDefer:
		if a.begun {
			// Zoom refused the call for the day: the attempt is given back.
			w.finishStore(pctx, a, Finish{State: StateRetrying, Refund: true})
		}
		ev := messages.JobDeferred{JobID: a.jobID, Account: accountLabel(a), Subject: a.subject,
			Until: out.until.UTC().Format(time.RFC3339), Reason: out.fail.Message}
		body, _ := json.Marshal(ev)
		msgID := messages.EventMsgID(a.jobID, messages.SubjectJobDeferred) + ":" + strconv.FormatInt(out.until.Unix(), 10)
		if err := w.publishWithID(pctx, a, messages.SubjectJobDeferred, body, msgID); err != nil {
			log.Warn("publish job.deferred", "err", err)
		}
		w.nak(a, out.delay)
		log.Info("job deferred", "outcome", OutcomeDeferred, "until", ev.Until)
		w.m.job(a.subject, OutcomeDeferred, took)

	case outFail:
		if err := w.deadLetter(pctx, a, out.fail); err != nil {
			log.Error("dead-letter failed; job handed back", "err", err)
			w.nak(a, time.Second)
			w.m.job(a.subject, OutcomeHandedBack, took)
			return
		}
		if a.begun {
			w.finishQuietly(pctx, a, StateFailed, out.fail)
		}
		_ = a.msg.Term()
		log.Warn("job failed", "outcome", OutcomeFailed, "kind", out.fail.Kind, "reason", out.fail.Message,
			"http_status", out.fail.HTTPStatus, "zoom_code", out.fail.ZoomCode)
		if w.m != nil {
			w.m.DeadLettered.WithLabelValues(a.subject, out.fail.Kind).Inc()
		}
		w.m.job(a.subject, OutcomeFailed, took)
	}
}

func (w *Worker) nak(a *attempt, d time.Duration) {
	if d <= 0 {
		_ = a.msg.Nak()
		return
	}
	_ = a.msg.NakWithDelay(d)
}

// finishQuietly records a non-success end; a store error only makes the
// next attempt more careful (it reconciles), so it is logged, not fatal.
func (w *Worker) finishQuietly(ctx context.Context, a *attempt, state string, fe *messages.FailError) {
	w.finishStore(ctx, a, Finish{State: state, Error: fe})
}

// finishStore records a non-success end of a's attempt; f needs only its
// state, error and refund.
func (w *Worker) finishStore(ctx context.Context, a *attempt, f Finish) {
	f.Account, f.JobID, f.Owner, f.Uncertain = a.account.Name, a.jobID, a.owner, a.uncertain
	if err := w.store.Finish(ctx, f); err != nil {
		w.health.failed()
		a.log.Warn("record job state", "state", f.State, "err", err)
	}
}

// deadLetter keeps the failed job in ZOOM_DLQ, then publishes job.failed.
func (w *Worker) deadLetter(ctx context.Context, a *attempt, fe *messages.FailError) error {
	dl := nats.NewMsg(messages.DeadLetterSubject(a.subject))
	for k, v := range a.msg.Headers() {
		if k != messages.HeaderMsgID {
			dl.Header[k] = v
		}
	}
	dl.Header.Set(messages.HeaderMsgID, a.jobID+":dlq:"+strconv.FormatUint(a.seq, 10))
	dl.Header.Set(HeaderJobSubject, a.subject)
	dl.Header.Set(HeaderJobID, a.jobID)
	dl.Header.Set(HeaderErrorKind, fe.Kind)
	dl.Header.Set(HeaderError, truncate(fe.Message, 1024))
	dl.Header.Set(HeaderAttempts, strconv.Itoa(max(a.claim.Attempts, 1)))
	dl.Header.Set(HeaderFailedAt, w.cfg.Now().UTC().Format(time.RFC3339))
	if a.account.Name != "" {
		dl.Header.Set(HeaderAccount, a.account.Name)
	}
	dl.Data = a.body
	if _, err := w.js.PublishMsg(ctx, dl); err != nil {
		return fmt.Errorf("publish to %s: %w", dl.Subject, err)
	}

	ev := messages.JobFailed{JobID: a.jobID, Account: accountLabel(a), Subject: a.subject,
		Attempts: max(a.claim.Attempts, 1), Error: *fe}
	ev.Job, ev.JobRaw, ev.JobTruncated = messages.FailedJobBody(a.body)
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode job.failed: %w", err)
	}
	return w.publish(ctx, a, messages.SubjectJobFailed, body)
}

func accountLabel(a *attempt) string {
	if a.account.Name == DefaultAccount {
		return ""
	}
	return a.account.Name
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
