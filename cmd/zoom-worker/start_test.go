package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestThreeWorkersStartTogetherOnAFreshCluster: as deploy/compose.yaml does,
// three workers start at once against a fresh 3-node JetStream cluster and
// all create the same R3 streams; each must come up (issue: concurrent
// creation timed out and two of them exited 1).
func TestThreeWorkersStartTogetherOnAFreshCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster; make test runs it")
	}
	e := newE2E(t, zoomtest.Options{})
	c := testenv.StartCluster(t, 3)
	var procs []*proc
	for i, s := range c.Servers {
		// Each worker names a different server first, as compose's do.
		urls := []string{s.ClientURL()}
		for j, o := range c.Servers {
			if j != i {
				urls = append(urls, o.ClientURL())
			}
		}
		procs = append(procs, e.spawn("run", "NATS_URL="+strings.Join(urls, ","), "ZOOMW_STREAM_REPLICAS=3",
			fmt.Sprintf("ZOOMW_INSTANCE_ID=w%d", i+1), "ZOOMW_START_TIMEOUT=2m", "ZOOMW_LOG_LEVEL=info"))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for i, p := range procs {
		for !strings.Contains(p.logs.String(), "worker started") {
			select {
			case err := <-p.done:
				p.done <- err
				t.Fatalf("worker %d exited (%v) before it started", i+1, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("worker %d did not start within 2 minutes", i+1)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// And they work: a job published to the cluster ends once.
	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	events := testenv.RecordEvents(t, nc)
	testenv.PublishJob(t, js, messages.SubjectMeetingCreate, meetingJob("cluster-1"), "")
	events.Wait(t, "cluster-1", messages.SubjectMeetingCreated, 1, time.Minute)
	if got := e.fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1", got)
	}
}
