package worker_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// useRedis points the workers e starts at the Redis url names, as
// cmd/zoom-worker builds it (waitReplicas as ZOOMW_REDIS_WAIT_REPLICAS).
func (e *testEnv) useRedis(url string, waitReplicas int) {
	e.t.Helper()
	rdb, err := redisstore.NewClient(url, redisstore.ClientOptions{Logger: testLogger(e.t)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { rdb.Close() })
	e.store = redisstore.New(rdb, redisstore.Options{WaitReplicas: waitReplicas})
}

// failoverMidRun publishes n meeting jobs, runs failover once a few of them
// are done, and checks every job ends with one event and one meeting.
func (e *testEnv) failoverMidRun(prefix string, n int, failover func() error) {
	e.t.Helper()
	// The account's token cache on the same Redis as the records.
	acct, err := account.New(e.stack.AccountSpec(""), e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	e.startWith(map[string]worker.Account{worker.DefaultAccount: acct})
	// Four hosts, so the fake's daily limit of 100 meetings a host is not reached.
	for h := range 4 {
		e.fake.AddUser(fmt.Sprintf("host-%d@example.com", h), "Host", strconv.Itoa(h), 1)
	}
	for i := range n {
		// Each its own topic: a redelivered job whose record says "uncertain"
		// finds its meeting at Zoom by topic and start time.
		id := fmt.Sprintf("%s%d", prefix, i)
		body := strings.NewReplacer("james@bond.com", fmt.Sprintf("host-%d@example.com", i%4),
			"Demo Meeting 1", "topic "+id).Replace(meetingJob(id))
		e.publish(messages.SubjectMeetingCreate, body, "")
	}
	e.waitEvent(prefix+"20", messages.SubjectMeetingCreated, 1)
	began, done := time.Now(), e.fake.Stats().MeetingsCreated
	if err := failover(); err != nil {
		e.t.Fatal(err)
	}
	during := e.fake.Stats().MeetingsCreated - done
	e.t.Logf("failover took %s; %d of %d meetings created during it", time.Since(began).Round(time.Millisecond), during, n)
	if during == 0 {
		e.t.Log("no job ran during the failover; the test proves less than it should")
	}
	e.waitAll(prefix, n)
	owner := map[int64]string{}
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		ev := decode[messages.MeetingCreated](e.t, e.waitEvent(id, messages.SubjectMeetingCreated, 1))
		if other, ok := owner[ev.Meeting.ID]; ok {
			e.t.Errorf("jobs %s and %s both report meeting %d", other, id, ev.Meeting.ID)
		}
		owner[ev.Meeting.ID] = id
	}
}

// TestRedisClusterFailoverMidRun runs jobs through a worker on a 3-master
// Redis Cluster and fails two masters over while they run: 0 duplicates,
// 0 lost.
func TestRedisClusterFailoverMidRun(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{Latency: 100 * time.Millisecond})
	c := testenv.StartRedisCluster(t, 3)
	e.useRedis(c.URL, 0)
	e.failoverMidRun("c-", 240, func() error {
		if err := c.Failover(0); err != nil {
			return err
		}
		return c.Failover(1)
	})
}

// TestRedisSentinelFailoverMidRun is the same through Sentinel, with the
// record writes waiting for the replica as ZOOMW_REDIS_WAIT_REPLICAS=auto
// makes them.
func TestRedisSentinelFailoverMidRun(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{Latency: 100 * time.Millisecond})
	s := testenv.StartRedisSentinel(t, 1, 1)
	e.useRedis(s.URL, 1)
	e.failoverMidRun("s-", 240, s.Failover)
}
