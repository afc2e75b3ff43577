package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// testEnv is testenv's stack (a real NATS server, a real redis-server, the
// fake Zoom and connections to them) and the workers a test runs on it,
// wired as cmd/zoom-worker wires them.
type testEnv struct {
	*testenv.Stack
	t *testing.T
	// store is the store the workers use: the stack's unless useRedis
	// points them at another Redis.
	store *redisstore.Store
	cfg   worker.Config

	events *testenv.Events
	// wrapStore, if set, wraps the store the workers use (fault injection).
	wrapStore func(worker.Store) worker.Store

	runs []*workerRun
}

type workerRun struct {
	*testenv.WorkerRun
	w *worker.Worker
}

func newTestEnv(t *testing.T, fakeOpts zoomtest.Options, tweak ...func(*worker.Config)) *testEnv {
	t.Helper()
	st := testenv.Start(t, testenv.Options{Zoom: fakeOpts})
	e := &testEnv{Stack: st, t: t, store: st.Store, cfg: testenv.FastConfig()}
	for _, f := range tweak {
		f(&e.cfg)
	}
	e.events = testenv.RecordEvents(t, e.NC)
	return e
}

// account builds the default account as cmd/zoom-worker does; nil limits
// means no rate limit.
func (e *testEnv) account(limits *redisstore.Limits) worker.Account {
	e.t.Helper()
	var l redisstore.Limits
	if limits != nil {
		l = *limits
	}
	acct, err := e.Account(l)
	if err != nil {
		e.t.Fatal(err)
	}
	return acct
}

// start runs a worker until the test ends or stop is called.
func (e *testEnv) start() *workerRun {
	e.t.Helper()
	return e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(nil)})
}

func (e *testEnv) startWith(accounts map[string]worker.Account) *workerRun {
	e.t.Helper()
	cfg := e.cfg
	cfg.Logger = testenv.Logger()
	if cfg.Metrics == nil {
		cfg.Metrics = worker.NewMetrics(nil)
	}
	var store worker.Store = e.store
	if e.wrapStore != nil {
		store = e.wrapStore(store)
	}
	w, err := worker.New(cfg, worker.Deps{NATS: e.NC, Store: store, Cache: e.store, Accounts: accounts})
	if err != nil {
		e.t.Fatal(err)
	}
	run, err := testenv.RunWorker(w, 10*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &workerRun{WorkerRun: run, w: w}
	e.runs = append(e.runs, r)
	e.t.Cleanup(func() { r.stop(e.t) })
	return r
}

// stop stops the worker gracefully and returns Run's error.
func (r *workerRun) stop(t *testing.T) error {
	err := r.Stop(30 * time.Second)
	if errors.Is(err, testenv.ErrNotStopped) {
		t.Error(err)
		return nil
	}
	return err
}

// publish publishes a job with JetStream; msgID "" sends no Nats-Msg-Id.
func (e *testEnv) publish(subject, body, msgID string) {
	e.t.Helper()
	testenv.PublishJob(e.t, e.JS, subject, body, msgID)
}

// eventsFor returns the events seen so far of a job.
func (e *testEnv) eventsFor(jobID string) []*nats.Msg { return e.events.For(jobID) }

// waitEvent waits for the n-th event of a job on subject (n from 1).
func (e *testEnv) waitEvent(jobID, subject string, n int) *nats.Msg {
	e.t.Helper()
	return e.events.Wait(e.t, jobID, subject, n, 20*time.Second)
}

// waitIdle waits until ZOOM_JOBS holds no job and none is pending ack.
func (e *testEnv) waitIdle() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s, err := e.JS.Stream(ctx, messages.StreamJobs)
		var msgs uint64
		if err == nil {
			if info, err := s.Info(ctx); err == nil {
				msgs = info.State.Msgs
			}
		}
		cancel()
		if err == nil && msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("ZOOM_JOBS still holds %d jobs after 30s", msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// streamCount is how many messages a stream holds on subject.
func (e *testEnv) streamCount(stream, subject string) uint64 {
	e.t.Helper()
	return testenv.StreamCount(e.t, e.JS, stream, subject)
}

func decode[T any](t *testing.T, m *nats.Msg) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("decode %s: %v: %s", m.Subject, err, m.Data)
	}
	return v
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
	if got := e.Fake.Stats().MeetingsCreated; got != n {
		e.t.Errorf("meetings created = %d; want %d (exactly one per job)", got, n)
	}
}

// The contract's create-meeting job, and the same with an id of its own.
const contractMeetingJob = testenv.ContractMeetingJob

var meetingJob = testenv.MeetingJob
