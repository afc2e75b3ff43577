package publisher_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/publisher"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
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
		JobID:  "class-2026-12-05-math",
		UserID: "james@bond.com",
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
	natsURL, stop := startDemo()
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

	ev, err := pub.PublishAndWait(ctx, &messages.CreateMeetingJob{JobID: "open-day", UserID: "james@bond.com",
		Meeting: messages.MeetingSpec{Topic: "Open day", Type: 2, StartTime: "2026-12-05T09:00:00Z", Duration: 90,
			Settings: json.RawMessage(`{"approval_type":0}`)}})
	if err != nil || ev.Failed() {
		panic(fmt.Sprint(err, ev))
	}
	var created messages.MeetingCreated
	if err := ev.Decode(&created); err != nil {
		panic(err)
	}

	ev, err = pub.PublishAndWait(ctx, &messages.AddRegistrantJob{JobID: "open-day-jill", MeetingID: created.Meeting.ID,
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

// startDemo runs what a real deployment runs elsewhere: NATS with
// JetStream, a worker, its store and (here) a simulated Zoom.
func startDemo() (natsURL string, stop func()) {
	dir, _ := os.MkdirTemp("", "publisher-example-*")
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		panic("nats not ready")
	}
	fake := zoomtest.New(zoomtest.Options{})
	fake.AddUser("james@bond.com", "James", "Bond", 1)
	zs := httptest.NewServer(fake)
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		panic(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	store := redisstore.New(rdb, redisstore.Options{})
	client, err := zoom.NewClient(zoom.Options{BaseURL: zs.URL + "/v2",
		Tokens: zoom.NewOAuth(zoom.OAuthConfig{AccountID: "a", ClientID: "c", ClientSecret: "s", TokenURL: zs.URL + "/oauth/token"})})
	if err != nil {
		panic(err)
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		panic(err)
	}
	w, err := worker.New(worker.Config{Concurrency: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		worker.Deps{NATS: nc, Store: store, Cache: store, Accounts: map[string]worker.Account{worker.DefaultAccount: {Zoom: client}}})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	select {
	case <-w.Started():
	case <-w.Done():
		panic("worker stopped at start")
	}
	return ns.ClientURL(), func() {
		cancel()
		<-done
		nc.Close()
		rdb.Close()
		mr.Close()
		zs.Close()
		ns.Shutdown()
		os.RemoveAll(dir)
	}
}
