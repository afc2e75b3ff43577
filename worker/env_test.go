package worker_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// testEnv is a real NATS server, a real redis-server, the fake Zoom and a
// worker wired as cmd/zoom-worker wires it.
type testEnv struct {
	t     *testing.T
	nats  *testenv.NATS
	redis *testenv.Redis
	fake  *zoomtest.Server
	zoom  *httptest.Server
	nc    *nats.Conn
	js    jetstream.JetStream
	rdb   *redis.Client
	store *redisstore.Store
	cfg   worker.Config

	events *testenv.Events
	// wrapStore, if set, wraps the store the workers use (fault injection).
	wrapStore func(worker.Store) worker.Store

	runs []*workerRun
}

type workerRun struct {
	w      *worker.Worker
	cancel context.CancelFunc
	done   chan error
}

// fastConfig keeps retries and redeliveries short so tests run quickly.
func fastConfig() worker.Config {
	return worker.Config{
		Concurrency:        16,
		AckWait:            2 * time.Second,
		MaxAttempts:        5,
		AttemptTimeout:     5 * time.Second,
		RetryBudget:        time.Second,
		RetryInitial:       10 * time.Millisecond,
		RetryMax:           100 * time.Millisecond,
		RedeliveryDelay:    100 * time.Millisecond,
		RedeliveryMaxDelay: 500 * time.Millisecond,
		ShutdownTimeout:    5 * time.Second,
	}
}

func newTestEnv(t *testing.T, fakeOpts zoomtest.Options, tweak ...func(*worker.Config)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, nats: testenv.StartNATS(t), redis: testenv.StartRedis(t), cfg: fastConfig()}
	for _, f := range tweak {
		f(&e.cfg)
	}
	if fakeOpts.ClientID == "" {
		fakeOpts.AccountID, fakeOpts.ClientID, fakeOpts.ClientSecret = "acct", "client", "secret"
	}
	e.fake = zoomtest.New(fakeOpts)
	e.fake.AddUser("james@bond.com", "James", "Bond", 1)
	e.zoom = httptest.NewServer(e.fake)
	t.Cleanup(e.zoom.Close)

	nc, err := nats.Connect(e.nats.URL, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	e.nc = nc
	if e.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	opts, _ := redis.ParseURL(e.redis.URL)
	e.rdb = redis.NewClient(opts)
	t.Cleanup(func() { e.rdb.Close() })
	e.store = redisstore.New(e.rdb, redisstore.Options{})

	e.events = testenv.RecordEvents(t, nc)
	return e
}

// account builds the default account as cmd/zoom-worker does.
func (e *testEnv) account(limits *redisstore.Limits) worker.Account {
	e.t.Helper()
	tokens := zoom.NewOAuth(zoom.OAuthConfig{AccountID: "acct", ClientID: "client", ClientSecret: "secret",
		TokenURL: e.zoom.URL + "/oauth/token", Cache: e.store.TokenCache(worker.DefaultAccount)})
	opts := zoom.Options{BaseURL: e.zoom.URL + "/v2", Tokens: tokens}
	acct := worker.Account{}
	if limits != nil {
		l := e.store.NewLimiter(worker.DefaultAccount, *limits)
		opts.Limiter, acct.Limiter = l, l
	}
	c, err := zoom.NewClient(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	acct.Zoom = c
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
	cfg.Logger = testLogger(e.t)
	if cfg.Metrics == nil {
		cfg.Metrics = worker.NewMetrics(nil)
	}
	var store worker.Store = e.store
	if e.wrapStore != nil {
		store = e.wrapStore(store)
	}
	w, err := worker.New(cfg, worker.Deps{NATS: e.nc, Store: store, Cache: e.store, Accounts: accounts})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &workerRun{w: w, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	e.runs = append(e.runs, r)
	e.t.Cleanup(func() { r.stop(e.t) })
	// Wait until the consumer is bound, so publishes are not raced.
	select {
	case <-w.Started():
	case <-w.Done():
		e.t.Fatalf("worker stopped at start: %v", <-r.done)
	case <-time.After(30 * time.Second):
		e.t.Fatalf("worker not started within 30s: %v", w.Ready())
	}
	return r
}

// stop stops the worker gracefully and returns Run's error.
func (r *workerRun) stop(t *testing.T) error {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Errorf("worker did not stop within 30s")
		return nil
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("ZOOMW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// publish publishes a job with JetStream; msgID "" sends no Nats-Msg-Id.
func (e *testEnv) publish(subject, body, msgID string) {
	e.t.Helper()
	testenv.PublishJob(e.t, e.js, subject, body, msgID)
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
		s, err := e.js.Stream(ctx, messages.StreamJobs)
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
	return testenv.StreamCount(e.t, e.js, stream, subject)
}

func decode[T any](t *testing.T, m *nats.Msg) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("decode %s: %v: %s", m.Subject, err, m.Data)
	}
	return v
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
