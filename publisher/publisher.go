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
	_, err := p.PublishReceipt(ctx, job)
	return err
}

// Receipt is what a publish hands back: the server's ack and when the job
// was sent. Give it to WaitFor.
type Receipt struct {
	// PubAck is the server's ack. Duplicate is set when the server dropped
	// the job because a job with the same job id (Nats-Msg-Id) was
	// published within the stream's duplicate window (2 minutes): this
	// body was not stored, whatever it says.
	*jetstream.PubAck
	// Sent is the publishing host's time just before the publish.
	Sent time.Time
}

// PublishReceipt is Publish that also hands back the server's ack.
func (p *Publisher) PublishReceipt(ctx context.Context, job messages.Job) (*Receipt, error) {
	if job.ID() == "" {
		return nil, &messages.ValidationError{Field: "job_id", Reason: "required by the publisher: it is the idempotency key"}
	}
	if err := job.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("publisher: encode job: %w", err)
	}
	return p.PublishRawReceipt(ctx, job.Subject(), job.ID(), body, nil)
}

// PublishRaw publishes a job body as it is, for callers that already have
// JSON. header may carry extra headers (such as traceparent).
func (p *Publisher) PublishRaw(ctx context.Context, subject, jobID string, body []byte, header nats.Header) error {
	_, err := p.PublishRawReceipt(ctx, subject, jobID, body, header)
	return err
}

// PublishRawReceipt is PublishRaw that also hands back the server's ack.
func (p *Publisher) PublishRawReceipt(ctx context.Context, subject, jobID string, body []byte, header nats.Header) (*Receipt, error) {
	msg := nats.NewMsg(subject)
	for k, v := range header {
		msg.Header[k] = v
	}
	if jobID != "" {
		msg.Header.Set(messages.HeaderMsgID, jobID)
	}
	msg.Data = body
	sent := time.Now()
	ack, err := p.js.PublishMsg(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("publisher: publish %s: %w", subject, err)
	}
	return &Receipt{PubAck: ack, Sent: sent}, nil
}

// Event is an event a job caused.
type Event struct {
	Subject string
	Body    json.RawMessage
}

// Failed reports whether the event is a job.failed.
func (e *Event) Failed() bool { return e.Subject == messages.SubjectJobFailed }

// Conflict reports whether the event is a job.conflict: the job id was used
// before by a different job, and this job was not run.
func (e *Event) Conflict() bool { return e.Subject == messages.SubjectJobConflict }

// Decode unmarshals the body into v (a *messages.MeetingCreated, say).
func (e *Event) Decode(v any) error { return json.Unmarshal(e.Body, v) }

// lookBack is how far before the publish Wait looks for the event, so an
// event published again for a job done earlier (and dropped as a duplicate)
// is found too.
const lookBack = 3 * time.Minute

// Wait waits for the event that ends job jobID: its success event,
// job.failed or job.conflict (job.deferred does not end a job). It reads
// ZOOM_EVENTS from a few minutes before now, so it may return the event of
// an earlier job with the same id; after a publish, use WaitFor.
func (p *Publisher) Wait(ctx context.Context, jobID string) (*Event, error) {
	return p.waitFrom(ctx, jobID, time.Now().Add(-lookBack))
}

// WaitFor waits for the event that ends the job published with receipt r.
// It reads ZOOM_EVENTS from the publish on, so an earlier job's event under
// the same job id is not taken for this one's. When the server dropped the
// publish as a duplicate (r.Duplicate), it looks back as Wait does: the
// event is then the earlier job's (the worker sends a repeated job's event
// again).
func (p *Publisher) WaitFor(ctx context.Context, jobID string, r *Receipt) (*Event, error) {
	if r == nil || r.PubAck == nil || r.Duplicate {
		return p.Wait(ctx, jobID)
	}
	return p.waitFrom(ctx, jobID, r.Sent)
}

func (p *Publisher) waitFrom(ctx context.Context, jobID string, from time.Time) (*Event, error) {
	cons, err := p.js.OrderedConsumer(ctx, messages.StreamEvents, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  ptr(from),
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
	r, err := p.PublishReceipt(ctx, job)
	if err != nil {
		return nil, err
	}
	return p.WaitFor(ctx, job.ID(), r)
}

func ptr[T any](v T) *T { return &v }
