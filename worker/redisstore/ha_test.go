package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
)

func haClient(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	rdb, err := redisstore.NewClient(url, redisstore.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestClusterEveryOperation runs every store operation on a real 3-master
// Redis Cluster: a Lua script that touched keys of two slots would fail
// with CROSSSLOT here.
func TestClusterEveryOperation(t *testing.T) {
	c := testenv.StartRedisCluster(t, 3)
	rdb := haClient(t, c.URL)
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("NewClient(%s) = %T; want a cluster client", c.URL, rdb)
	}
	s := redisstore.New(rdb, redisstore.Options{})
	ctx := context.Background()

	// The host limit read by Begin is in another slot than the job.
	until := time.Now().Add(time.Hour)
	if err := s.SetHostLimited(ctx, "", "James@Bond.com", until); err != nil {
		t.Fatal(err)
	}
	b := worker.Begin{JobID: "m-1", Subject: messages.SubjectMeetingCreate, Owner: "a", Lease: time.Minute, HostLimitKey: "james@bond.com"}
	if cl, err := s.Begin(ctx, b); err != nil || cl.State != worker.HostLimited || cl.Until.Before(until.Add(-time.Second)) {
		t.Fatalf("Begin for a limited host = %+v, %v; want host-limited until %v", cl, err, until)
	}
	b.HostLimitKey = "other@bond.com"
	if cl, err := s.Begin(ctx, b); err != nil || cl.State != worker.Started {
		t.Fatalf("Begin = %+v, %v; want started", cl, err)
	}
	ev := []byte(`{"job_id":"m-1"}`)
	if err := s.Finish(ctx, worker.Finish{JobID: "m-1", Owner: "a", State: worker.StateSucceeded,
		EventSubject: messages.SubjectMeetingCreated, Event: ev, ClaimMeeting: 42,
		Meetings: []worker.MeetingJSON{{ID: 42, JSON: []byte(`{"id":42}`)}},
		Users:    []messages.User{{ID: "u1", Email: "x@y.z"}}}); err != nil {
		t.Fatal(err)
	}
	if cl, err := s.Begin(ctx, b); err != nil || cl.State != worker.Succeeded || string(cl.Record.Event) != string(ev) {
		t.Fatalf("Begin after success = %+v, %v; want succeeded with the event", cl, err)
	}
	got, err := s.ClaimedMeetings(ctx, "", []int64{42, 43, 44})
	if err != nil || len(got) != 3 || got[0] != "m-1" || got[1] != "" {
		t.Fatalf("ClaimedMeetings = %q, %v; want [m-1 '' '']", got, err)
	}
	if u, err := s.CachedUser(ctx, "", "X@y.z"); err != nil || u == nil || u.ID != "u1" {
		t.Fatalf("CachedUser = %+v, %v", u, err)
	}

	// The read cache and the console's views.
	mk := readside.MeetingKey(42)
	if _, err := s.Read(ctx, "", mk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteBack(ctx, "", readside.UserKey("x@y.z"), 0, []byte(`{"id":"u1","email":"x@y.z"}`), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Apply(ctx, "", mk, time.Now().UnixMilli(), false, false, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Forget(ctx, "", mk, 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if hl, err := s.HostLimits(ctx, ""); err != nil || len(hl) != 1 {
		t.Fatalf("HostLimits = %v, %v; want the one limited host", hl, err)
	}
	if _, err := s.LimiterState(ctx, ""); err != nil {
		t.Fatal(err)
	}

	l := s.NewLimiter("", redisstore.Limits{PerSecond: 1000})
	for i := 0; i < 5; i++ {
		if err := l.Wait(ctx, zoom.Medium); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.PauseUntil(ctx, time.Now().Add(10*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	tc := s.TokenCache("")
	if err := tc.SetToken(ctx, "k", "tok", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	unlock, got2, err := tc.LockToken(ctx, "k", time.Second)
	if err != nil || !got2 {
		t.Fatalf("LockToken = %v, %v", got2, err)
	}
	unlock()
	if err := tc.DeleteToken(ctx, "k", "tok"); err != nil {
		t.Fatal(err)
	}
}

// runJobs claims and finishes jobs j-0.. until stop is closed, from several
// goroutines, retrying each step until it goes through (as the worker
// does: a failed Begin or Finish is tried again later). It returns how many
// jobs finished.
func runJobs(s *redisstore.Store, stop <-chan struct{}) func() int {
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("j-%d", next.Add(1)-1)
				b := worker.Begin{JobID: id, Subject: messages.SubjectUserCreate, Owner: "w", Lease: time.Minute}
				for retry(func() error { _, err := s.Begin(ctx, b); return err }) {
				}
				f := worker.Finish{JobID: id, Owner: "w", State: worker.StateSucceeded,
					EventSubject: messages.SubjectUserCreated, Event: []byte(`{"job_id":"` + id + `"}`)}
				for retry(func() error { return s.Finish(ctx, f) }) {
				}
				done.Add(1)
			}
		}()
	}
	return func() int { wg.Wait(); return int(done.Load()) }
}

// retry runs f once and reports whether it failed, so it should run again:
// a started job is always finished.
func retry(f func() error) bool {
	if f() == nil {
		return false
	}
	time.Sleep(50 * time.Millisecond)
	return true
}

// checkAllSucceeded checks that jobs j-0 .. j-(n-1) are all recorded as
// succeeded, with their event, and each was begun once.
func checkAllSucceeded(t *testing.T, s *redisstore.Store, n int) {
	t.Helper()
	ctx := context.Background()
	lost := 0
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("j-%d", i)
		r, err := s.JobRecord(ctx, "", id)
		if err != nil {
			t.Fatal(err)
		}
		if r == nil || r.State != worker.StateSucceeded || string(r.Event) != `{"job_id":"`+id+`"}` {
			lost++
			if lost < 5 {
				t.Errorf("job %s: record %+v; want succeeded with its event", id, r)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d finished jobs lost their record across the failover", lost, n)
	}
}

// failoverKeepsRecords fails Redis over while jobs are begun and finished:
// every finished job keeps its record.
func failoverKeepsRecords(t *testing.T, s *redisstore.Store, failover func() error) {
	t.Helper()
	stop := make(chan struct{})
	wait := runJobs(s, stop)
	time.Sleep(300 * time.Millisecond)
	err := failover()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	n := wait()
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d jobs finished", n)
	}
	checkAllSucceeded(t, s, n)
}

// TestClusterFailoverKeepsRecords fails a master over with CLUSTER FAILOVER.
func TestClusterFailoverKeepsRecords(t *testing.T) {
	c := testenv.StartRedisCluster(t, 3)
	failoverKeepsRecords(t, redisstore.New(haClient(t, c.URL), redisstore.Options{}), func() error { return c.Failover(0) })
}

// TestSentinelFailoverKeepsRecords is the same through Sentinel: the client
// follows the master to the promoted replica, and the writes wait for the
// replica (without WaitReplicas this test loses thousands of records: the
// old master takes writes until the client hears of the switch).
func TestSentinelFailoverKeepsRecords(t *testing.T) {
	sn := testenv.StartRedisSentinel(t, 1, 1)
	old := sn.Master.Addr
	failoverKeepsRecords(t, redisstore.New(haClient(t, sn.URL), redisstore.Options{WaitReplicas: 1}), sn.Failover)
	if sn.Master.Addr == old {
		t.Fatal("no failover happened")
	}
}
