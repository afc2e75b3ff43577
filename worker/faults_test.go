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

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// meetingJob is the contract's create-meeting job with its own id and a
// topic naming it: two jobs asking for the very same meeting are the one
// case reconciliation after a lost record cannot tell apart
// (docs/guarantees.md).
func meetingJob(id string) string {
	j := strings.Replace(contractMeetingJob, `"m-7"`, strconv.Quote(id), 1)
	return strings.Replace(j, "Demo Meeting 1", "Demo Meeting "+id, 1)
}

// publishMeetings publishes n create-meeting jobs, job ids prefix0 to
// prefix(n-1).
func (e *testEnv) publishMeetings(prefix string, n int) {
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("%s%d", prefix, i)), "")
	}
}

// waitNotReady waits up to d for the worker to stop being ready.
func (r *workerRun) waitNotReady(d time.Duration) {
	deadline := time.Now().Add(d)
	for r.w.Ready() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAll waits for one meeting.created per job and checks Zoom made
// exactly one meeting per job.
func (e *testEnv) waitAll(prefix string, n int) {
	e.t.Helper()
	for i := range n {
		e.waitEvent(fmt.Sprintf("%s%d", prefix, i), messages.SubjectMeetingCreated, 1)
	}
	e.waitIdle()
	if got := e.fake.Stats().MeetingsCreated; got != n {
		e.t.Errorf("meetings created = %d; want %d (exactly one per job)", got, n)
	}
}

func TestRedisDownTakesNoNewJobs(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	run := e.start()
	e.publish(messages.SubjectMeetingCreate, meetingJob("r-first"), "")
	e.waitEvent("r-first", messages.SubjectMeetingCreated, 1)
	e.redis.Stop()

	const n = 10
	e.publishMeetings("r-", n)
	run.waitNotReady(10 * time.Second)
	if err := run.w.Ready(); err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("Ready() = %v with Redis down; want a redis error", err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := e.fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created while Redis was down = %d; want none beyond the first", got-1)
	}
	e.redis.Restart(t)
	for i := range n {
		e.waitEvent(fmt.Sprintf("r-%d", i), messages.SubjectMeetingCreated, 1)
	}
	e.waitIdle()
	if got := e.fake.Stats().MeetingsCreated; got != n+1 {
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
	e.nats.Restart(t)
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
	list, err := worker.ListDeadLetters(t.Context(), e.js)
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

func TestDailyHostLimitDefersJobs(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{DailyMeetingLimit: 2})
	e.start()
	for i := range 3 {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("d-%d", i)), "")
		if i < 2 {
			e.waitEvent(fmt.Sprintf("d-%d", i), messages.SubjectMeetingCreated, 1)
		}
	}
	ev := decode[messages.JobDeferred](t, e.waitEvent("d-2", messages.SubjectJobDeferred, 1))
	until, err := time.Parse(time.RFC3339, ev.Until)
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if err != nil || !until.Equal(midnight) || !strings.Contains(ev.Reason, "james@bond.com") {
		t.Errorf("job.deferred = %+v; want until %s naming the host", ev, midnight.Format(time.RFC3339))
	}
	// The job waits in ZOOM_JOBS; a fourth job for the host is deferred
	// without a call to Zoom.
	callsBefore := e.fake.Stats().Requests
	e.publish(messages.SubjectMeetingCreate, meetingJob("d-3"), "")
	e.waitEvent("d-3", messages.SubjectJobDeferred, 1)
	if got := e.fake.Stats().Requests - callsBefore; got != 0 {
		t.Errorf("Zoom requests for a host known to be limited = %d; want 0", got)
	}
	if got := e.streamCount(messages.StreamJobs, messages.SubjectMeetingCreate); got != 2 {
		t.Errorf("ZOOM_JOBS holds %d deferred jobs; want 2", got)
	}
	if got := len(e.eventsFor("d-2")); got != 1 {
		t.Errorf("job d-2 has %d events; want only job.deferred", got)
	}
}

func TestDailyHostLimitCanFailJobs(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{DailyMeetingLimit: 1}, func(c *worker.Config) { c.DailyLimit = worker.DailyLimitFail })
	e.start()
	e.publish(messages.SubjectMeetingCreate, meetingJob("f-0"), "")
	e.waitEvent("f-0", messages.SubjectMeetingCreated, 1)
	e.publish(messages.SubjectMeetingCreate, meetingJob("f-1"), "")
	ev := decode[messages.JobFailed](t, e.waitEvent("f-1", messages.SubjectJobFailed, 1))
	if ev.Error.Kind != messages.KindZoomRejected || ev.Error.HTTPStatus != 429 {
		t.Errorf("job.failed = %+v; want zoom_rejected 429", ev.Error)
	}
}

func TestSharedRateLimitAvoids429s(t *testing.T) {
	const rate = 40.0
	e := newTestEnv(t, zoomtest.Options{RateLimit: rate})
	limits := &redisstore.Limits{PerSecond: rate}
	// Three workers share the account's limit through Redis.
	for range 3 {
		e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(limits)})
	}
	const n = 80
	start := time.Now()
	e.publishMeetings("rl-", n)
	e.waitAll("rl-", n)
	took := time.Since(start)
	st := e.fake.Stats()
	if st.RateLimited > n/100+1 {
		t.Errorf("fake Zoom answered %d of %d requests with 429; want (almost) none", st.RateLimited, st.Requests)
	}
	if st.TokensIssued != 1 {
		t.Errorf("three workers minted %d OAuth tokens; want 1, shared through Redis", st.TokensIssued)
	}
	// n calls at `rate`/s cannot finish much faster than n/rate.
	if min := time.Duration(float64(n-2) / rate * float64(time.Second)); took < min {
		t.Errorf("%d jobs took %s; the limit of %.0f/s allows no less than %s", n, took, rate, min)
	}
}

func TestZoom429SlowsEveryone(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	limits := &redisstore.Limits{PerSecond: 1000}
	e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(limits)})
	e.fake.FailNext(1, 429)
	e.publish(messages.SubjectMeetingCreate, meetingJob("p-0"), "")
	e.waitEvent("p-0", messages.SubjectMeetingCreated, 1)
	if got := e.fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1", got)
	}
}

func TestClusterStreamLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := testenv.StartCluster(t, 3)
	e := newTestEnv(t, zoomtest.Options{Latency: 10 * time.Millisecond}, func(cfg *worker.Config) { cfg.StreamReplicas = 3 })
	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	// Point the environment at the cluster.
	e.nc = nc
	if e.js, err = jetstream.New(nc); err != nil {
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
		ctx, cancel := contextWithTimeout(2 * time.Second)
		_, err := e.js.PublishMsg(ctx, msg)
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

func TestRateLimitWaitsDoNotUseAttempts(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.MaxAttempts = 2 })
	// A slow limit and a short in-process wait: most jobs go back to the
	// stream to wait for their slot, again and again.
	e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(&redisstore.Limits{PerSecond: 4, MaxWait: 50 * time.Millisecond})})
	const n = 10
	e.publishMeetings("w-", n)
	e.waitAll("w-", n)
	for i := range n {
		for _, m := range e.eventsFor(fmt.Sprintf("w-%d", i)) {
			if m.Subject == messages.SubjectJobFailed {
				t.Errorf("job w-%d failed while waiting for the rate limiter: %s", i, m.Data)
			}
		}
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
	if got := e.fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1 (the second attempt must adopt the first one's meeting)", got)
	}
}
