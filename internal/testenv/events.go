package testenv

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// ContractMeetingJob is CONTRACT.md's create-meeting example (job id "m-7").
const ContractMeetingJob = `{"job_id": "m-7", "user_id": "james@bond.com",
 "meeting": {"topic": "Demo Meeting 1", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 45,
             "timezone": "America/Los_Angeles", "password": "Hey123", "agenda": "This is the meeting description",
             "settings": {"host_video": false, "participant_video": false, "join_before_host": false,
                          "mute_upon_entry": true, "use_pmi": false, "approval_type": 0}}}`

// MeetingJob is ContractMeetingJob with job id id and a topic naming it
// ("Demo Meeting <id>"): two jobs asking for the very same meeting are the
// one case reconciliation after a lost record cannot tell apart
// (docs/guarantees.md). The worker's tests and the end-to-end tests publish
// it.
func MeetingJob(id string) string {
	j := strings.Replace(ContractMeetingJob, `"m-7"`, strconv.Quote(id), 1)
	return strings.Replace(j, "Demo Meeting 1", "Demo Meeting "+id, 1)
}

// PublishJob publishes a job body with JetStream and waits for the server's
// ack; msgID "" sends no Nats-Msg-Id.
func PublishJob(tb testing.TB, js jetstream.JetStream, subject, body, msgID string) {
	tb.Helper()
	msg := nats.NewMsg(subject)
	msg.Data = []byte(body)
	if msgID != "" {
		msg.Header.Set(messages.HeaderMsgID, msgID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		tb.Fatalf("publish %s: %v", subject, err)
	}
}

// Events records every message on zoom.events.> as a subscriber sees it.
type Events struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

// RecordEvents subscribes to zoom.events.> on nc until the test ends.
func RecordEvents(tb testing.TB, nc *nats.Conn) *Events {
	tb.Helper()
	ev := &Events{}
	sub, err := nc.Subscribe(messages.SubjectEventsAll, func(m *nats.Msg) {
		ev.mu.Lock()
		ev.msgs = append(ev.msgs, m)
		ev.mu.Unlock()
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		tb.Fatal(err)
	}
	return ev
}

// All returns the events seen so far.
func (ev *Events) All() []*nats.Msg {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return append([]*nats.Msg(nil), ev.msgs...)
}

// For returns the events seen so far whose Nats-Msg-Id starts with "<jobID>:".
func (ev *Events) For(jobID string) []*nats.Msg {
	var out []*nats.Msg
	for _, m := range ev.All() {
		if strings.HasPrefix(m.Header.Get(messages.HeaderMsgID), jobID+":") {
			out = append(out, m)
		}
	}
	return out
}

// Wait waits up to limit for the n-th event (from 1) of a job on subject.
func (ev *Events) Wait(tb testing.TB, jobID, subject string, n int, limit time.Duration) *nats.Msg {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		var got []*nats.Msg
		for _, m := range ev.For(jobID) {
			if m.Subject == subject {
				got = append(got, m)
			}
		}
		if len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, m := range ev.For(jobID) {
				seen = append(seen, m.Subject+" "+string(m.Data))
			}
			tb.Fatalf("no event %d on %s for job %s within %s; its events: %v", n, subject, jobID, limit, seen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StreamCount is how many messages stream holds on subject ("": on every
// subject).
func StreamCount(tb testing.TB, js jetstream.JetStream, stream, subject string) uint64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatal(err)
	}
	if subject == "" {
		return s.CachedInfo().State.Msgs
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Subjects[subject]
}
