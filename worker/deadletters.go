package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// DeadLetterFilter narrows ScanDeadLetters. Zero fields match everything.
type DeadLetterFilter struct {
	// Subject is a job subject ("zoom.jobs.meeting.create"); only its dead
	// letters are read (the server filters, by their zoom.dlq.* subject).
	Subject string
	// Since skips dead letters kept before it (the server starts there).
	Since time.Time
	// FromSeq skips dead letters below this stream sequence (for paging).
	FromSeq uint64
}

// ScanDeadLetters reads the dead letters that f selects, oldest first, and
// calls fn with each until fn returns false. Unlike ListDeadLetters it
// lets the caller stop early, so a page of a large ZOOM_DLQ reads only
// that page.
func ScanDeadLetters(ctx context.Context, js jetstream.JetStream, f DeadLetterFilter, fn func(DeadLetter) bool) error {
	s, err := js.Stream(ctx, messages.StreamDeadLetters)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	cc := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	switch {
	case f.FromSeq > 0:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, f.FromSeq
	case !f.Since.IsZero():
		since := f.Since
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	if f.Subject != "" {
		cc.FilterSubjects = []string{messages.DeadLetterSubject(f.Subject)}
	}
	// Nothing to read is answered from stream info, without a consumer.
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	if info.State.Msgs == 0 || (f.FromSeq > 0 && f.FromSeq > info.State.LastSeq) {
		return nil
	}
	cons, err := s.OrderedConsumer(ctx, cc)
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	for {
		// No wait: the consumer knows what is there, so a short stream is
		// read at once instead of after a fetch's timeout.
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		n, stop := 0, false
		var left uint64
		for msg := range batch.Messages() {
			if stop {
				continue // drain the batch
			}
			n++
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			left = meta.NumPending
			if f.Since.IsZero() || !meta.Timestamp.Before(f.Since) {
				if !fn(deadLetterOf(meta.Sequence.Stream, meta.Timestamp, msg.Headers(), msg.Data())) {
					stop = true
				}
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("dead letters: %w", err)
		}
		if stop || n == 0 || left == 0 {
			return nil
		}
	}
}

// DeadLetterAt reads the one dead letter at stream sequence seq.
func DeadLetterAt(ctx context.Context, js jetstream.JetStream, seq uint64) (DeadLetter, error) {
	_, raw, err := deadLetterMsg(ctx, js, seq)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", seq, err)
	}
	return deadLetterOf(seq, raw.Time, raw.Header, raw.Data), nil
}

// deadLetterMsg reads the message at stream sequence seq of ZOOM_DLQ, and
// the stream, which a replay deletes it from.
func deadLetterMsg(ctx context.Context, js jetstream.JetStream, seq uint64) (jetstream.Stream, *jetstream.RawStreamMsg, error) {
	s, err := js.Stream(ctx, messages.StreamDeadLetters)
	if err != nil {
		return nil, nil, err
	}
	raw, err := s.GetMsg(ctx, seq)
	if err != nil {
		return nil, nil, err
	}
	return s, raw, nil
}

// DeleteDeadLetter removes dead letter seq from ZOOM_DLQ for good (its
// job.failed event stays in ZOOM_EVENTS) and returns what it was.
func DeleteDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) (DeadLetter, error) {
	dl, err := DeadLetterAt(ctx, js, seq)
	if err != nil {
		return dl, err
	}
	s, err := js.Stream(ctx, messages.StreamDeadLetters)
	if err != nil {
		return dl, fmt.Errorf("delete dead letter %d: %w", seq, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return dl, fmt.Errorf("delete dead letter %d: %w", seq, err)
	}
	return dl, nil
}
