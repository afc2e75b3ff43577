package readside

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

// Consumers of the worker's own streams that keep JobNotes.
const (
	// DeferralsConsumer reads job.deferred events from ZOOM_EVENTS.
	DeferralsConsumer = "zoom-worker-deferrals"
	// DeadLettersConsumer indexes ZOOM_DLQ by job id.
	DeadLettersConsumer = "zoom-worker-dlq-index"
)

// StateDeferred is the state job.status reports for a job the worker
// deferred (its host reached Zoom's daily limit): it waits in ZOOM_JOBS
// until JobStatus.Until and is not a failure. It is the record state
// worker.StateDeferred.
const StateDeferred = string(worker.StateDeferred)

// NoteJobs keeps notes the store's job records lack, so that job.status
// can answer them: that a job is deferred and until when (from the
// job.deferred events in ZOOM_EVENTS), and where a failed job sits in
// ZOOM_DLQ (an invalid job has no record at all, only its dead letter). It
// binds two durable consumers shared by the fleet, waiting for the streams
// to exist, and returns when ctx ends.
func NoteJobs(ctx context.Context, js jetstream.JetStream, notes JobNotes, deadLetterTTL time.Duration, log *slog.Logger) error {
	if js == nil || notes == nil {
		return errors.New("readside: NoteJobs needs JetStream and JobNotes")
	}
	defaults.Set(&deadLetterTTL, worker.DefaultDeadLetterMaxAge)
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "job-notes")
	deferrals, ok := bindConsumer(ctx, js, messages.StreamEvents, jetstream.ConsumerConfig{
		Durable: DeferralsConsumer, Description: "zoom-worker notes deferred jobs for zoom.svc.job.status",
		// All: a deferral published while no process was bound yet is noted
		// too; those already over are skipped.
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: messages.SubjectJobDeferred, MaxDeliver: 10,
	}, log)
	if !ok {
		return nil
	}
	dlq, ok := bindConsumer(ctx, js, messages.StreamDeadLetters, jetstream.ConsumerConfig{
		Durable: DeadLettersConsumer, Description: "zoom-worker indexes dead letters by job id for zoom.svc.job.status",
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy, MaxDeliver: 10,
	}, log)
	if !ok {
		return nil
	}
	noted := func(msg jetstream.Msg, err error) {
		if err != nil {
			log.Warn("job note not kept; retrying", "subject", msg.Subject(), "err", err)
			_ = msg.NakWithDelay(time.Second)
			return
		}
		_ = msg.Ack()
	}
	c1, err := deferrals.Consume(func(msg jetstream.Msg) {
		var ev messages.JobDeferred
		if json.Unmarshal(msg.Data(), &ev) != nil || ev.JobID == "" {
			_ = msg.Ack()
			return
		}
		until, err := time.Parse(time.RFC3339, ev.Until)
		if err != nil {
			_ = msg.Ack()
			return
		}
		noted(msg, notes.NoteDeferred(ctx, accountOr(ev.Account), ev.JobID, until))
	})
	if err != nil {
		return fmt.Errorf("readside: consume %s: %w", DeferralsConsumer, err)
	}
	defer c1.Stop()
	c2, err := dlq.Consume(func(msg jetstream.Msg) {
		h := msg.Headers()
		meta, merr := msg.Metadata()
		if h.Get(worker.HeaderJobID) == "" || merr != nil {
			_ = msg.Ack()
			return
		}
		ttl := deadLetterTTL - time.Since(meta.Timestamp)
		if ttl <= 0 {
			_ = msg.Ack()
			return
		}
		noted(msg, notes.NoteDeadLetter(ctx, accountOr(h.Get(worker.HeaderAccount)), h.Get(worker.HeaderJobID), meta.Sequence.Stream, ttl))
	})
	if err != nil {
		return fmt.Errorf("readside: consume %s: %w", DeadLettersConsumer, err)
	}
	defer c2.Stop()
	<-ctx.Done()
	return nil
}

func accountOr(a string) string {
	if a == "" {
		return worker.DefaultAccount
	}
	return a
}

// bindConsumer creates or updates a durable consumer, retrying while the
// stream does not exist yet (another part of the process creates it) or
// NATS is away. It reports false when ctx ended first.
func bindConsumer(ctx context.Context, js jetstream.JetStream, stream string, cc jetstream.ConsumerConfig, log *slog.Logger) (jetstream.Consumer, bool) {
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		cons, err := js.CreateOrUpdateConsumer(ctx, stream, cc)
		if err == nil {
			return cons, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		// The stream not made yet is expected at start; anything else (a
		// consumer made with settings that cannot change) is said.
		level := slog.LevelDebug
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "bind "+cc.Durable+"; retrying", "stream", stream, "err", err)
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(delay):
		}
	}
}
