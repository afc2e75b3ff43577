package worker_test

// These tests read the worker's events with the CloudEvents Go SDK and its
// NATS JetStream protocol binding (github.com/cloudevents/sdk-go/protocol/
// nats_jetstream/v2), as a consumer that knows nothing of zoom-worker would.
// The binding's v3 module (on nats.go's newer jetstream API) has no release on
// the module proxy; v2 works with nats.go v1.55 through its legacy JetStream
// API.

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	cejs "github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// sdkConsumer subscribes to subject on ZOOM_EVENTS with the SDK's JetStream
// consumer, replaying the stream from its start. It stops when the test ends.
func sdkConsumer(t *testing.T, e *testEnv, subject string) *cejs.Consumer {
	t.Helper()
	c, err := cejs.NewConsumerFromConn(e.NC, messages.StreamEvents, subject, nil,
		[]nats.SubOpt{nats.DeliverAll(), nats.AckNone()})
	if err != nil {
		t.Fatalf("CloudEvents SDK consumer on %s: %v", subject, err)
	}
	return c
}

// receiveWithClient runs a stock SDK client on subject and hands over every
// event it understood.
func receiveWithClient(t *testing.T, e *testEnv, subject string) <-chan cloudevents.Event {
	t.Helper()
	client, err := cloudevents.NewClient(sdkConsumer(t, e, subject))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan cloudevents.Event, 64)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := client.StartReceiver(ctx, func(ev cloudevents.Event) {
			select {
			case out <- ev:
			case <-ctx.Done():
			}
		}); err != nil {
			t.Errorf("StartReceiver: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return out
}

// waitCloudEvent returns the first event from events whose subject is jobID.
func waitCloudEvent(t *testing.T, events <-chan cloudevents.Event, jobID string) cloudevents.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Subject() == jobID {
				return ev
			}
		case <-timeout:
			t.Fatalf("the CloudEvents SDK received no event for job %s within 20s", jobID)
		}
	}
}

func TestCloudEventsSDKReadsMeetingCreated(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	events := receiveWithClient(t, e, messages.SubjectMeetingCreated)

	const jobID = "ce-m-1"
	e.publish(messages.SubjectMeetingCreate, `{"job_id": "`+jobID+`", "user_id": "james@bond.com",
		"meeting": {"topic": "CloudEvents", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 30}}`, jobID)
	ev := waitCloudEvent(t, events, jobID)

	if err := ev.Validate(); err != nil {
		t.Errorf("the SDK finds the event invalid: %v", err)
	}
	wantSource := e.cfg.EventSource
	if wantSource == "" {
		wantSource = worker.DefaultEventSource
	}
	for _, c := range []struct{ attr, got, want string }{
		{"specversion", ev.SpecVersion(), "1.0"},
		{"type", ev.Type(), "us.zoom.worker.meeting.created"},
		{"source", ev.Source(), wantSource},
		{"id", ev.ID(), jobID + ":meeting.created"},
		{"subject", ev.Subject(), jobID},
		// The SDK reads datacontenttype from the NATS header "content-type",
		// exactly so spelt (NATS headers are case-sensitive).
		{"datacontenttype", ev.DataContentType(), "application/json"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.attr, c.got, c.want)
		}
	}
	if age := time.Since(ev.Time()); ev.Time().IsZero() || age < 0 || age > time.Minute {
		t.Errorf("time = %v, want the publish time", ev.Time())
	}

	var body messages.MeetingCreated
	if err := ev.DataAs(&body); err != nil {
		t.Fatalf("DataAs(MeetingCreated): %v", err)
	}
	if body.JobID != jobID || body.UserID != "james@bond.com" || body.Meeting.ID == 0 || body.Meeting.Topic != "CloudEvents" {
		t.Errorf("data = %+v", body)
	}
	// The data is the contract's event body, byte for byte.
	if raw := e.waitEvent(jobID, messages.SubjectMeetingCreated, 1).Data; !bytes.Equal(ev.Data(), raw) {
		t.Errorf("SDK data %s\n differs from the NATS body %s", ev.Data(), raw)
	}
}

func TestCloudEventsCarryTraceparent(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()

	consumer := sdkConsumer(t, e, messages.SubjectEventsAll)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = consumer.OpenInbound(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	tests := []struct {
		name, jobID, subject, body, event, traceparent string
	}{
		{"meeting created", "ce-t-1", messages.SubjectMeetingCreate,
			`{"job_id": "ce-t-1", "user_id": "james@bond.com", "meeting": {"topic": "Traced", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 30}}`,
			messages.SubjectMeetingCreated, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"job failed", "ce-t-2", messages.SubjectMeetingCreate,
			`{"job_id": "ce-t-2", "meeting": {"topic": "no host"}}`,
			messages.SubjectJobFailed, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	}
	for _, tt := range tests {
		msg := nats.NewMsg(tt.subject)
		msg.Data = []byte(tt.body)
		msg.Header.Set(messages.HeaderMsgID, tt.jobID)
		msg.Header.Set("traceparent", tt.traceparent)
		msg.Header.Set("tracestate", "zw=test")
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := e.JS.PublishMsg(pctx, msg); err != nil {
			t.Fatalf("publish %s: %v", tt.jobID, err)
		}
		pcancel()
	}

	// What the SDK received, by job id.
	type received struct {
		ev  *cloudevents.Event
		msg *nats.Msg
	}
	got := map[string]received{}
	deadline, dcancel := context.WithTimeout(ctx, 20*time.Second)
	defer dcancel()
	for len(got) < len(tests) {
		m, err := consumer.Receive(deadline)
		if err != nil {
			t.Fatalf("receive: %v; received so far: %v", err, got)
		}
		ev, err := binding.ToEvent(deadline, m)
		if err != nil {
			t.Fatalf("the SDK cannot read an event: %v", err)
		}
		got[ev.Subject()] = received{ev, m.(*cejs.Message).Msg}
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := got[tt.jobID]
			if !ok {
				t.Fatalf("no event for %s", tt.jobID)
			}
			if r.msg.Subject != tt.event {
				t.Errorf("event on %s, want %s", r.msg.Subject, tt.event)
			}
			if err := r.ev.Validate(); err != nil {
				t.Errorf("invalid CloudEvent: %v", err)
			}
			if h := r.msg.Header.Get("traceparent"); h != tt.traceparent {
				t.Errorf("traceparent %q, want the job's %q", h, tt.traceparent)
			}
			if h := r.msg.Header.Get("tracestate"); h != "zw=test" {
				t.Errorf("tracestate %q, want the job's", h)
			}
			// The CloudEvents SDK sees it as the distributed tracing extension.
			if v, _ := r.ev.Extensions()["traceparent"].(string); v != tt.traceparent {
				t.Errorf("CloudEvents extension traceparent = %v, want the job's %q", r.ev.Extensions()["traceparent"], tt.traceparent)
			}
		})
	}
}
