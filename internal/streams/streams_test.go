package streams_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/streams"
	"github.com/zoomworker/zoom-worker/internal/testenv"
)

// TestEnsureUpdatesOnlyWhatDiffers: a start that finds the stream as it
// wants it proposes no update (the server publishes an UPDATED advisory for
// every update, changed or not); a changed field is updated.
func TestEnsureUpdatesOnlyWhatDiffers(t *testing.T) {
	srv := testenv.StartNATS(t)
	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	updates, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.UPDATED.T")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Replicas: 1, Duplicates: time.Minute, MaxMsgSize: 1 << 20}

	for i := 0; i < 3; i++ {
		if _, err := streams.Ensure(ctx, js, want); err != nil {
			t.Fatalf("ensure %d: %v", i, err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := updates.NextMsg(500 * time.Millisecond); err == nil {
		t.Fatalf("an unchanged stream was updated: %s", m.Data)
	}

	want.Duplicates = 2 * time.Minute
	s, err := streams.Ensure(ctx, js, want)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Duplicates; got != 2*time.Minute {
		t.Errorf("duplicate window after a change: got %s, want 2m", got)
	}
	if _, err := updates.NextMsg(10 * time.Second); err != nil {
		t.Errorf("a changed stream sent no update advisory: %v", err)
	}
}
