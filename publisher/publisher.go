package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// Publisher publishes jobs. It is safe for concurrent use.
type Publisher struct {
	js jetstream.JetStream
}

// New returns a Publisher on nc.
func New(nc *nats.Conn) (*Publisher, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	return &Publisher{js: js}, nil
}

// Publish validates job, then publishes it with JetStream and waits for the
// server's ack. The job must have a job_id: it is the idempotency key.
// A *messages.ValidationError says what is wrong with the job.
func (p *Publisher) Publish(ctx context.Context, job messages.Job) error {
	if job.ID() == "" {
		return &messages.ValidationError{Field: "job_id", Reason: "required by the publisher: it is the idempotency key"}
	}
	if err := job.Validate(); err != nil {
		return err
	}
	body, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("publisher: encode job: %w", err)
	}
	return p.PublishRaw(ctx, job.Subject(), job.ID(), body, nil)
}

// PublishRaw publishes a job body as it is, for callers that already have
// JSON. header may carry extra headers (such as traceparent).
func (p *Publisher) PublishRaw(ctx context.Context, subject, jobID string, body []byte, header nats.Header) error {
	msg := nats.NewMsg(subject)
	for k, v := range header {
		msg.Header[k] = v
	}
	if jobID != "" {
		msg.Header.Set(messages.HeaderMsgID, jobID)
	}
	msg.Data = body
	if _, err := p.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publisher: publish %s: %w", subject, err)
	}
	return nil
}

// Event is an event a job caused.
type Event struct {
	Subject string
	Body    json.RawMessage
}

// Failed reports whether the event is a job.failed.
func (e *Event) Failed() bool { return e.Subject == messages.SubjectJobFailed }

// Decode unmarshals the body into v (a *messages.MeetingCreated, say).
func (e *Event) Decode(v any) error { return json.Unmarshal(e.Body, v) }

// lookBack is how far before the publish Wait looks for the event, so an
// event published again for a job done earlier (and dropped as a duplicate)
// is found too.
const lookBack = 3 * time.Minute

// Wait waits for the event that ends job jobID: its success event or
// job.failed (job.deferred does not end a job). It reads ZOOM_EVENTS from a
// little before now, so call it right after Publish.
func (p *Publisher) Wait(ctx context.Context, jobID string) (*Event, error) {
	cons, err := p.js.OrderedConsumer(ctx, messages.StreamEvents, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  ptr(time.Now().Add(-lookBack)),
	})
	if err != nil {
		return nil, fmt.Errorf("publisher: wait for %s: %w", jobID, err)
	}
	prefix := jobID + ":"
	for {
		msg, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("publisher: wait for %s: %w", jobID, ctx.Err())
			}
			if errors.Is(err, nats.ErrTimeout) {
				continue
			}
			return nil, fmt.Errorf("publisher: wait for %s: %w", jobID, err)
		}
		id := msg.Headers().Get(messages.HeaderMsgID)
		if !strings.HasPrefix(id, prefix) || msg.Subject() == messages.SubjectJobDeferred {
			continue
		}
		return &Event{Subject: msg.Subject(), Body: json.RawMessage(msg.Data())}, nil
	}
}

// PublishAndWait publishes job and waits for its event.
func (p *Publisher) PublishAndWait(ctx context.Context, job messages.Job) (*Event, error) {
	if err := p.Publish(ctx, job); err != nil {
		return nil, err
	}
	return p.Wait(ctx, job.ID())
}

func ptr[T any](v T) *T { return &v }
