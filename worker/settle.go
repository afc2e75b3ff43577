package worker

import (
	"context"
	"fmt"
	"log/slog"
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
	// HeaderZoomTrackingID is Zoom's x-zm-trackingid of the failed answer.
	HeaderZoomTrackingID = "Zoomw-Zoom-Tracking-Id"
)

// settle carries out an outcome: record it in the store, publish, then
// ack, nak or term. It changes the plan only to hand the job back when what
// decide chose cannot be recorded or published.
func (w *Worker) settle(ctx context.Context, a *attempt, out outcome) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	took := w.cfg.Now().Sub(a.received)
	log := &jobLog{l: a.log, attrs: [...]any{"attempt", a.claim.Attempts, "took_ms", took.Milliseconds()}}
	handBackAfter := func(what string, err error) {
		log.Warn(what+"; job handed back", "outcome", OutcomeHandedBack, "err", err)
		w.nak(a, time.Second)
		w.m.job(a.subject, OutcomeHandedBack, took)
	}
	switch out.kind {
	case OutcomeSucceeded, OutcomeRepeated:
		if out.kind == OutcomeSucceeded {
			if err := w.finish(pctx, a, out.finish); err != nil {
				// Zoom did it but we could not record it: the record says
				// running or uncertain, so the next attempt reconciles.
				_ = w.finish(pctx, a, Finish{State: StateRetrying, Uncertain: true})
				handBackAfter("record job state failed", err)
				return
			}
			w.cfg.failpoint("after_record", a.jobID)
		}
		if err := w.publish(pctx, a, out.event); err != nil {
			handBackAfter("publish event failed", err)
			return
		}
		w.cfg.failpoint("after_publish", a.jobID)
		w.ack(a, log)
		log.Info("job done", "outcome", out.kind, "event", out.event.subject)

	case OutcomeRetried, OutcomeHandedBack:
		if out.accountFault {
			w.creds.rejected(a.account.Name, out.err)
		}
		if out.record {
			w.finishQuietly(pctx, a, out.finish)
		}
		w.nak(a, out.delay)
		if out.kind == OutcomeRetried {
			log.Warn("job will be retried", "outcome", out.kind, "err", out.err, "retry_in", out.delay.Round(time.Millisecond).String())
			if w.m != nil {
				w.m.Retries.WithLabelValues(a.subject, "redelivery").Inc()
			}
		} else {
			log.Info("job handed back", "outcome", out.kind, "err", out.err, "retry_in", out.delay.Round(time.Millisecond).String())
		}

	case OutcomeDeferred:
		if out.record {
			w.finishQuietly(pctx, a, out.finish)
		}
		if err := w.publish(pctx, a, out.event); err != nil {
			log.Warn("publish job.deferred", "err", err)
		}
		w.nak(a, out.delay)
		log.Info("job deferred", "outcome", out.kind, "until", out.until.UTC().Format(time.RFC3339))

	case OutcomeConflict:
		// The publisher is told; the message is not run, retried or kept.
		if err := w.publish(pctx, a, out.event); err != nil {
			handBackAfter("publish job.conflict failed", err)
			return
		}
		if err := a.msg.TermWithReason(string(OutcomeConflict)); err != nil {
			log.Warn("term job", "err", err)
		}
		log.Warn("job id reused with a different body: job refused, the first job's outcome stands",
			"outcome", out.kind, "first_state", a.claim.Prior)

	case OutcomeFailed:
		err := w.deadLetter(pctx, a, out.fail)
		if err == nil {
			err = w.publish(pctx, a, out.event)
		}
		if err != nil {
			log.Error("dead-letter failed; job handed back", "err", err)
			w.nak(a, time.Second)
			w.m.job(a.subject, OutcomeHandedBack, took)
			return
		}
		if out.record {
			w.finishQuietly(pctx, a, out.finish)
		}
		if err := a.msg.TermWithReason(out.fail.Kind); err != nil {
			log.Warn("term job", "err", err)
		}
		log.Warn("job failed", "outcome", out.kind, "kind", out.fail.Kind, "reason", out.fail.Message,
			"http_status", out.fail.HTTPStatus, "zoom_code", out.fail.ZoomCode, "zoom_tracking_id", out.fail.ZoomTrackingID)
		if w.m != nil {
			w.m.DeadLettered.WithLabelValues(a.subject, out.fail.Kind).Inc()
		}
	}
	w.m.job(a.subject, out.kind, took)
}

// jobLog is a.log with the attempt's number and duration after its own
// attributes, the line as a.log.With(attrs...) writes it; With would format
// them at once, for the one line most jobs write.
type jobLog struct {
	l     *slog.Logger
	attrs [4]any
}

func (j *jobLog) with(args []any) []any { return append(j.attrs[:len(j.attrs):len(j.attrs)], args...) }

func (j *jobLog) Info(msg string, args ...any)  { j.l.Info(msg, j.with(args)...) }
func (j *jobLog) Warn(msg string, args ...any)  { j.l.Warn(msg, j.with(args)...) }
func (j *jobLog) Error(msg string, args ...any) { j.l.Error(msg, j.with(args)...) }

func (w *Worker) ack(a *attempt, log *jobLog) {
	if err := a.msg.Ack(); err != nil {
		// The job is done and recorded: a redelivery repeats its event.
		log.Warn("ack job", "err", err)
	}
}

func (w *Worker) nak(a *attempt, d time.Duration) {
	var err error
	if d <= 0 {
		err = a.msg.Nak()
	} else {
		err = a.msg.NakWithDelay(d)
	}
	if err != nil {
		// JetStream redelivers it after AckWait anyway.
		a.log.Warn("nak job", "err", err)
	}
}

// finish records how a's attempt ended; f carries the outcome's part.
func (w *Worker) finish(ctx context.Context, a *attempt, f Finish) error {
	f.Account, f.JobID, f.Owner = a.account.Name, a.jobID, a.owner
	err := w.store.Finish(ctx, f)
	if err != nil {
		w.health.failed()
	}
	return err
}

// finishQuietly records a non-success end; a store error only makes the
// next attempt more careful (it reconciles), so it is logged, not fatal.
func (w *Worker) finishQuietly(ctx context.Context, a *attempt, f Finish) {
	if err := w.finish(ctx, a, f); err != nil {
		a.log.Warn("record job state", "state", f.State, "err", err)
	}
}

// deadLetter keeps the failed job in ZOOM_DLQ (settle then publishes job.failed).
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
	dl.Header.Set(HeaderError, messages.Truncate(fe.Message, 1024, ""))
	dl.Header.Set(HeaderAttempts, strconv.Itoa(max(a.claim.Attempts, 1)))
	dl.Header.Set(HeaderFailedAt, w.cfg.Now().UTC().Format(time.RFC3339))
	if a.account.Name != "" {
		dl.Header.Set(HeaderAccount, a.account.Name)
	}
	if fe.ZoomTrackingID != "" {
		dl.Header.Set(HeaderZoomTrackingID, fe.ZoomTrackingID)
	}
	dl.Data = a.body
	if _, err := w.js.PublishMsg(ctx, dl); err != nil {
		return fmt.Errorf("publish to %s: %w", dl.Subject, err)
	}

	return nil
}

// ref names the attempt's job in its events.
func (a *attempt) ref() messages.JobRef {
	return messages.JobRef{JobID: a.jobID, Account: accountLabel(a)}
}

// accountLabel is the account as events name it: "" for the default.
func accountLabel(a *attempt) string {
	if a.account.Name == DefaultAccount {
		return ""
	}
	return a.account.Name
}
