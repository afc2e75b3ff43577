package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/messages"
)

// CloudEvents 1.0 attributes in binary content mode for NATS: each
// attribute is a header with the "ce-" prefix; the body is the event as the
// contract defines it, unchanged.
const (
	HeaderCESpecVersion = "ce-specversion"
	HeaderCEID          = "ce-id"
	HeaderCEType        = "ce-type"
	HeaderCESource      = "ce-source"
	HeaderCETime        = "ce-time"
	HeaderCESubject     = "ce-subject"
	HeaderContentType   = "Content-Type"
	// HeaderCEContentType is the header the CloudEvents NATS binding (and
	// its Go SDK) reads datacontenttype from; NATS headers are
	// case-sensitive, so the worker sets both spellings.
	HeaderCEContentType = "content-type"
)

// CETypePrefix starts every event's ce-type, followed by the event name
// ("us.zoom.worker.meeting.created").
const CETypePrefix = "us.zoom.worker."

// publish publishes an event caused by a's job, with the contract's
// Nats-Msg-Id unless the event names its own, and waits for the server's ack.
func (w *Worker) publish(ctx context.Context, a *attempt, ev *event) error {
	subject, msgID := ev.subject, ev.msgID
	if msgID == "" {
		msgID = messages.EventMsgID(a.jobID, subject)
	}
	msg := nats.NewMsg(subject)
	msg.Data = ev.body
	h := msg.Header
	h.Set(messages.HeaderMsgID, msgID)
	h.Set(HeaderCESpecVersion, "1.0")
	h.Set(HeaderCEID, msgID)
	h.Set(HeaderCEType, CETypePrefix+messages.EventName(subject))
	h.Set(HeaderCESource, w.cfg.EventSource)
	h.Set(HeaderCETime, w.cfg.Now().UTC().Format(time.RFC3339Nano))
	h.Set(HeaderCESubject, a.jobID)
	h.Set(HeaderContentType, "application/json")
	h[HeaderCEContentType] = []string{"application/json"}
	// W3C trace context flows from the job to the events it causes: as
	// plain headers for NATS tooling, and as the CloudEvents distributed
	// tracing extension (ce-traceparent, ce-tracestate) for CloudEvents SDKs.
	if jh := a.msg.Headers(); jh != nil {
		for _, k := range []string{"traceparent", "tracestate"} {
			if v := jh.Get(k); v != "" {
				h.Set(k, v)
				h.Set("ce-"+k, v)
			}
		}
	}
	if _, err := w.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	if w.m != nil {
		w.m.Events.WithLabelValues(subject).Inc()
	}
	return nil
}
