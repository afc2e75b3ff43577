package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

// fill publishes n messages that make(i) builds, with async publishes.
func fill(b testing.TB, js jetstream.JetStream, n int, make func(i int) *nats.Msg) {
	b.Helper()
	for i := 0; i < n; i++ {
		if _, err := js.PublishMsgAsync(make(i)); err != nil {
			b.Fatal(err)
		}
		if i%5000 == 4999 {
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(60 * time.Second):
				b.Fatal("publishes not acknowledged in 60s")
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		b.Fatal("publishes not acknowledged in 60s")
	}
}

// BenchmarkOverview renders the overview with 100,000 jobs waiting in
// ZOOM_JOBS, 100,000 events of the last hour in ZOOM_EVENTS and 10,000 dead
// letters: it reads stream and consumer info and one message, never every
// message, so its time does not grow with the streams.
//
//	go test -run '^$' -bench Overview -benchtime 50x ./console/
func BenchmarkOverview(b *testing.B) {
	e := newConsoleEnv(b, nil)
	const jobs, events, dead = 100_000, 100_000, 10_000
	start := time.Now()
	fill(b, e.JS, jobs, func(i int) *nats.Msg {
		m := nats.NewMsg(messages.SubjectMeetingCreate)
		m.Data = fmt.Appendf(nil, `{"job_id":"m-%d","user_id":"james@bond.com","meeting":{"topic":"t"}}`, i)
		return m
	})
	fill(b, e.JS, events, func(i int) *nats.Msg {
		m := nats.NewMsg(messages.SubjectMeetingCreated)
		m.Data = fmt.Appendf(nil, `{"job_id":"e-%d","meeting":{"id":%d}}`, i, 80000000000+i)
		return m
	})
	fill(b, e.JS, dead, func(i int) *nats.Msg {
		m := nats.NewMsg(messages.DeadLetterSubject(messages.SubjectMeetingCreate))
		m.Data = fmt.Appendf(nil, `{"job_id":"d-%d"}`, i)
		m.Header.Set(worker.HeaderJobSubject, messages.SubjectMeetingCreate)
		m.Header.Set(worker.HeaderJobID, fmt.Sprintf("d-%d", i))
		m.Header.Set(worker.HeaderErrorKind, messages.KindZoomRejected)
		m.Header.Set(worker.HeaderError, "User does not exist")
		return m
	})
	b.Logf("filled the streams in %s", time.Since(start).Round(time.Millisecond))
	c := e.client()
	// Wait for the activity follower to read the hour of events.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, page := c.get("/")
		if strings.Contains(page, "100,000 done") {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the activity follower did not read the 100,000 events within 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Logf("the activity follower read 100,000 events %s after the fill began", time.Since(start).Round(time.Millisecond))

	for _, path := range []string{"/", "/dlq", "/waiting"} {
		b.Run("GET "+path, func(b *testing.B) {
			var worst time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				code, page := c.get(path)
				if d := time.Since(t0); d > worst {
					worst = d
				}
				if code != http.StatusOK || !strings.Contains(page, "</html>") {
					b.Fatalf("GET %s: %d", path, code)
				}
				if path == "/" && !strings.Contains(page, "100,000") {
					b.Fatal("the overview does not count the 100,000 jobs")
				}
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
}
