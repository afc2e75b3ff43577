package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

func TestRedisDownTakesNoNewJobs(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	run := e.start()
	e.publish(messages.SubjectMeetingCreate, meetingJob("r-first"), "")
	e.waitEvent("r-first", messages.SubjectMeetingCreated, 1)
	e.Redis.Stop()

	const n = 10
	e.publishMeetings("r-", n)
	run.waitNotReady(10 * time.Second)
	if err := run.w.Ready(); err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("Ready() = %v with Redis down; want a redis error", err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := e.Fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created while Redis was down = %d; want none beyond the first", got-1)
	}
	e.Redis.Restart(t)
	for i := range n {
		e.waitEvent(fmt.Sprintf("r-%d", i), messages.SubjectMeetingCreated, 1)
	}
	e.waitIdle()
	if got := e.Fake.Stats().MeetingsCreated; got != n+1 {
		t.Errorf("meetings created = %d; want %d", got, n+1)
	}
	if err := run.w.Ready(); err != nil {
		t.Errorf("Ready() = %v after Redis came back; want nil", err)
	}
}

func TestNATSRestartMidRun(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{Latency: 20 * time.Millisecond})
	e.start()
	const n = 60
	e.publishMeetings("n-", n)
	time.Sleep(100 * time.Millisecond)
	e.NATS.Restart(t)
	e.waitAll("n-", n)
}

func TestPoisonJobEndsInDeadLetters(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) {
		c.MaxAttempts = 3
		c.Failpoint = func(point, jobID string) {
			if point == "before_zoom" && jobID == "poison" {
				panic("poison job")
			}
		}
	})
	e.start()
	e.publish(messages.SubjectMeetingCreate, meetingJob("poison"), "")
	for i := range 5 {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("ok-%d", i)), "")
	}
	ev := decode[messages.JobFailed](t, e.waitEvent("poison", messages.SubjectJobFailed, 1))
	if ev.Error.Kind != messages.KindRetriesExhausted || ev.Attempts != 3 {
		t.Errorf("job.failed = %+v; want retries_exhausted after 3 attempts", ev)
	}
	for i := range 5 {
		e.waitEvent(fmt.Sprintf("ok-%d", i), messages.SubjectMeetingCreated, 1)
	}
	e.waitIdle()
	list, err := worker.ListDeadLetters(t.Context(), e.JS)
	if err != nil || len(list) != 1 || list[0].JobID != "poison" {
		t.Errorf("dead letters = %+v, %v; want the poison job", list, err)
	}
}

func TestBadInputAtTheEdges(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	tests := []struct {
		name, body string
		truncated  bool
	}{
		{"over the size limit", `{"job_id":"big","user_id":"james@bond.com","meeting":{"topic":"x","agenda":"` + strings.Repeat("a", messages.MaxJobBytes) + `"}}`, true},
		{"deep nesting", `{"job_id":"deep","user_id":"james@bond.com","meeting":` + deep + `}`, false},
		{"invalid UTF-8", "{\"job_id\":\"utf\",\"user_id\":\"james@bond.com\",\"meeting\":{\"topic\":\"\xff\xfe\"}}", false},
		{"wrong types", `{"job_id":"types","user_id":42,"meeting":{"topic":["x"]}}`, false},
		{"huge numbers", `{"job_id":"huge","user_id":"james@bond.com","meeting":{"topic":"x","duration":1e400,"type":99999999999999999999}}`, false},
		{"empty body", ``, false},
		{"JSON null", `null`, false},
	}
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "edge-" + strconv.Itoa(i)
			e.publish(messages.SubjectMeetingCreate, tt.body, id)
			// The body's job_id wins where it is readable; else the header.
			var msg *nats.Msg
			deadline := time.Now().Add(20 * time.Second)
			for msg == nil && time.Now().Before(deadline) {
				for _, m := range e.events.All() {
					if m.Subject == messages.SubjectJobFailed && strings.Contains(string(m.Data), `"attempts"`) {
						ev := decode[messages.JobFailed](t, m)
						if ev.JobID == id || strings.HasPrefix(tt.body, `{"job_id":"`+ev.JobID+`"`) {
							msg = m
						}
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
			if msg == nil {
				t.Fatalf("no job.failed for %s", tt.name)
			}
			ev := decode[messages.JobFailed](t, msg)
			if ev.Error.Kind != messages.KindInvalidJob || ev.Error.Message == "" {
				t.Errorf("job.failed error = %+v; want a clear invalid_job", ev.Error)
			}
			if ev.JobTruncated != tt.truncated {
				t.Errorf("job_truncated = %v; want %v", ev.JobTruncated, tt.truncated)
			}
			if len(msg.Data) > 200<<10 {
				t.Errorf("job.failed event is %d bytes; want it bounded", len(msg.Data))
			}
		})
	}
	e.publish(messages.SubjectMeetingCreate, meetingJob("after-edges"), "")
	e.waitEvent("after-edges", messages.SubjectMeetingCreated, 1)
}

func TestClusterStreamLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := testenv.StartCluster(t, 3)
	e := newTestEnv(t, zoomtest.Options{Latency: 10 * time.Millisecond}, func(cfg *worker.Config) { cfg.StreamReplicas = 3 })
	nc := testenv.ConnectNATS(t, c.URL())
	// Point the environment at the cluster.
	e.NC = nc
	var err error
	if e.JS, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	e.events = testenv.RecordEvents(t, nc)
	e.start()

	const n = 60
	for i := range n {
		e.publishRetry(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("c-%d", i)), fmt.Sprintf("c-%d", i))
		if i == n/3 {
			leader := c.StreamLeader(messages.StreamJobs)
			if leader == nil {
				t.Fatal("no stream leader for ZOOM_JOBS")
			}
			leader.Shutdown()
		}
	}
	e.waitAll("c-", n)
}

// publishRetry publishes with Nats-Msg-Id, retrying while the cluster
// elects a new leader (the id makes retries safe).
func (e *testEnv) publishRetry(subject, body, msgID string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg := nats.NewMsg(subject)
		msg.Data = []byte(body)
		msg.Header.Set(messages.HeaderMsgID, msgID)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := e.JS.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("publish %s: %v", msgID, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// failingFinish fails the first successful Finish of one job, as a Redis
// blip right after Zoom answered would.
type failingFinish struct {
	worker.Store
	jobID  string
	failed atomic.Bool
}

func (f *failingFinish) Finish(ctx context.Context, fin worker.Finish) error {
	if fin.JobID == f.jobID && fin.State == worker.StateSucceeded && f.failed.CompareAndSwap(false, true) {
		return errors.New("redis: connection reset (injected)")
	}
	return f.Store.Finish(ctx, fin)
}

func TestRecordLostAfterZoomAnsweredDoesNotDuplicate(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.wrapStore = func(s worker.Store) worker.Store { return &failingFinish{Store: s, jobID: "rf-1"} }
	e.start()
	e.publish(messages.SubjectMeetingCreate, meetingJob("rf-1"), "")
	e.waitEvent("rf-1", messages.SubjectMeetingCreated, 1)
	e.waitIdle()
	if got := e.Fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1 (the second attempt must adopt the first one's meeting)", got)
	}
}

// TestRejectedCredentialsWaitForTheAccount: while Zoom's token endpoint
// refuses the app (401 invalid_client, as after a rotated secret), jobs are
// not failed: the worker reports not ready naming the account, hands the
// jobs back without using their attempts and without calling Zoom, probes
// the token endpoint, and runs them all once it accepts the app again.
func TestRejectedCredentialsWaitForTheAccount(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.MaxAttempts = 2 })
	m := worker.NewMetrics(nil)
	e.cfg.Metrics = m
	e.Fake.RejectCredentials(true)
	run := e.start()

	const n = 20
	e.publishMeetings("cred-", n)
	run.waitNotReady(20 * time.Second)
	err := run.w.Ready()
	if err == nil || !strings.Contains(err.Error(), `"default"`) || strings.Contains(err.Error(), "secret\"") {
		t.Fatalf("Ready() = %v with the credentials rejected; want not ready naming account \"default\"", err)
	}
	if got := testutil.ToFloat64(m.CredentialsOK.WithLabelValues(worker.DefaultAccount)); got != 0 {
		t.Errorf("credentials_ok = %v while rejected; want 0", got)
	}
	// Longer than MaxAttempts redeliveries would take: nothing may fail.
	time.Sleep(3 * time.Second)
	if got := e.streamCount(messages.StreamDeadLetters, ">"); got != 0 {
		t.Fatalf("ZOOM_DLQ holds %d jobs while the credentials were rejected; want 0", got)
	}
	if got := e.Fake.Stats().MeetingsCreated; got != 0 {
		t.Fatalf("meetings created without a token = %d", got)
	}

	e.Fake.RejectCredentials(false)
	for i := range n {
		e.events.Wait(t, fmt.Sprintf("cred-%d", i), messages.SubjectMeetingCreated, 1, 60*time.Second)
	}
	e.waitIdle()
	if err := run.w.Ready(); err != nil {
		t.Errorf("Ready() = %v after the credentials work again; want nil", err)
	}
	if got := testutil.ToFloat64(m.CredentialsOK.WithLabelValues(worker.DefaultAccount)); got != 1 {
		t.Errorf("credentials_ok = %v after recovery; want 1", got)
	}
	if got := e.Fake.Stats().MeetingsCreated; got != n {
		t.Errorf("meetings created = %d; want %d", got, n)
	}
	if got := e.streamCount(messages.StreamDeadLetters, ">"); got != 0 {
		t.Errorf("ZOOM_DLQ holds %d jobs; want 0", got)
	}
	if got := e.streamCount(messages.StreamEvents, messages.SubjectJobFailed); got != 0 {
		t.Errorf("%d job.failed events; want 0", got)
	}
}

// useRedis points the workers e starts at the Redis url names, as
// cmd/zoom-worker builds it (waitReplicas as ZOOMW_REDIS_WAIT_REPLICAS).
func (e *testEnv) useRedis(url string, waitReplicas int) {
	e.t.Helper()
	rdb, err := redisstore.NewClient(url, redisstore.ClientOptions{Logger: testenv.Logger()})
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
	acct, err := account.New(e.AccountSpec(""), e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	e.startWith(map[string]worker.Account{worker.DefaultAccount: acct})
	// Four hosts, so the fake's daily limit of 100 meetings a host is not reached.
	for h := range 4 {
		e.Fake.AddUser(fmt.Sprintf("host-%d@example.com", h), "Host", strconv.Itoa(h), 1)
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
	began, done := time.Now(), e.Fake.Stats().MeetingsCreated
	if err := failover(); err != nil {
		e.t.Fatal(err)
	}
	during := e.Fake.Stats().MeetingsCreated - done
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
