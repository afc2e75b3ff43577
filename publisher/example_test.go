package publisher_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/publisher"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

// A system written in Go publishes a create-meeting job and waits for the
// meeting's join URL.
func Example() {
	natsURL, stop := startDemo() // a NATS server with a worker and a Zoom simulator behind it
	defer stop()

	nc, err := nats.Connect(natsURL)
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	pub, err := publisher.New(nc)
	if err != nil {
		panic(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := pub.PublishAndWait(ctx, &messages.CreateMeetingJob{
		JobHeader: messages.JobHeader{JobID: "class-2026-12-05-math"},
		UserID:    "james@bond.com",
		Meeting: messages.MeetingSpec{
			Topic: "Maths, year 9", Type: 2, StartTime: "2026-12-05T09:00:00Z", Duration: 50,
		},
	})
	if err != nil {
		panic(err)
	}
	if ev.Failed() {
		fmt.Println("failed:", string(ev.Body))
		return
	}
	var created messages.MeetingCreated
	if err := ev.Decode(&created); err != nil {
		panic(err)
	}
	fmt.Println(ev.Subject)
	fmt.Println(created.JobID, created.Meeting.Topic, created.Meeting.JoinURL != "")
	// Output:
	// zoom.events.meeting.created
	// class-2026-12-05-math Maths, year 9 true
}

// A booking system registers an attendee for a meeting that takes
// registration and hands on the attendee's own join URL.
func Example_registrant() {
	pub, stop := demoPublisher() // connected as in Example
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	ev, err := pub.PublishAndWait(ctx, &messages.CreateMeetingJob{JobHeader: messages.JobHeader{JobID: "open-day"}, UserID: "james@bond.com",
		Meeting: messages.MeetingSpec{Topic: "Open day", Type: 2, StartTime: "2026-12-05T09:00:00Z", Duration: 90,
			Settings: json.RawMessage(`{"approval_type":0}`)}})
	if err != nil || ev.Failed() {
		panic(fmt.Sprint(err, ev))
	}
	var created messages.MeetingCreated
	if err := ev.Decode(&created); err != nil {
		panic(err)
	}

	ev, err = pub.PublishAndWait(ctx, &messages.AddRegistrantJob{JobHeader: messages.JobHeader{JobID: "open-day-jill"}, MeetingID: created.Meeting.ID,
		Registrant: messages.RegistrantSpec{Email: "jill@example.com", FirstName: "Jill", LastName: "Valentine"}})
	if err != nil {
		panic(err)
	}
	var added messages.RegistrantAdded
	if err := ev.Decode(&added); err != nil {
		panic(err)
	}
	fmt.Println(ev.Subject)
	fmt.Println(added.JobID, added.Registrant.Email, added.Registrant.RegistrantID != "", strings.Contains(added.Registrant.JoinURL, "tk="))
	// Output:
	// zoom.events.meeting.registrant.added
	// open-day-jill jill@example.com true true
}

// demoPublisher is Example's start: a publisher on the demo's NATS.
func demoPublisher() (pub *publisher.Publisher, stop func()) {
	natsURL, stopDemo := startDemo()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		panic(err)
	}
	if pub, err = publisher.New(nc); err != nil {
		panic(err)
	}
	return pub, func() { nc.Close(); stopDemo() }
}

// startDemo runs what a real deployment runs elsewhere: NATS with
// JetStream, Redis, a worker and (here) a simulated Zoom: testenv's stack.
func startDemo() (natsURL string, stop func()) {
	dir, _ := os.MkdirTemp("", "publisher-example-*")
	st, err := testenv.NewStack(dir, testenv.Options{})
	if err != nil {
		panic(err)
	}
	acct, err := st.Account(redisstore.Limits{})
	if err != nil {
		panic(err)
	}
	w, err := worker.New(worker.Config{Concurrency: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		worker.Deps{NATS: st.NC, Store: st.Store, Cache: st.Store, Accounts: map[string]worker.Account{worker.DefaultAccount: acct}})
	if err != nil {
		panic(err)
	}
	run, err := testenv.RunWorker(w, 30*time.Second)
	if err != nil {
		panic(err)
	}
	return st.NATS.URL, func() {
		_ = run.Stop(30 * time.Second)
		st.Close()
		os.RemoveAll(dir)
	}
}
