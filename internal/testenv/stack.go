package testenv

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// The fake Zoom's Server-to-Server OAuth app, unless Options.Zoom names
// another, and the host every stack's fake knows. ClientSecret is long and
// odd so a test can look for it in logs.
const (
	AccountID    = "acct"
	ClientID     = "client"
	ClientSecret = "s3cret-client-secret-value"
	Host         = "james@bond.com"
)

// Stack is what the worker runs against in tests and the bench: an embedded
// NATS server, a redis-server, the fake Zoom, and connections to them.
type Stack struct {
	NATS  *NATS
	Redis *Redis
	Fake  *zoomtest.Server
	// ZoomURL is the fake's base: ZoomURL+"/v2" is the API and
	// ZoomURL+"/oauth/token" the token endpoint.
	ZoomURL string
	NC      *nats.Conn
	JS      jetstream.JetStream
	RDB     *redis.Client
	Store   *redisstore.Store

	app     zoomtest.Options // the fake's OAuth app
	closers []func()
}

// Options shape a Stack; the zero value is the usual one.
type Options struct {
	// Zoom configures the fake; without a ClientID its OAuth app is
	// AccountID, ClientID, ClientSecret.
	Zoom zoomtest.Options
	// Redis, if set, is used instead of starting one: the stack empties it
	// (FLUSHALL) and leaves it running. The bench shares one across scenarios.
	Redis *Redis
	// ConnName names the stack's NATS connection ("" = "testenv").
	ConnName string
}

// Start starts a Stack for a test and closes it when the test ends.
func Start(tb testing.TB, o Options) *Stack {
	tb.Helper()
	return started(tb, func(dir string) (*Stack, error) { return NewStack(dir, o) }, (*Stack).Close)
}

// started is the testing.TB wrapper of every core here: it runs start on a
// temporary directory of the test's, fails the test with start's error and
// calls stop on what it started when the test ends.
func started[T any](tb testing.TB, start func(dir string) (T, error), stop func(T)) T {
	tb.Helper()
	v, err := start(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stop(v) })
	return v
}

// setUp returns v, a set-up of several servers, once start has brought it
// up; when start fails, it stops what start had started and says what did
// not come up.
func setUp[T any](what string, v T, start func() error, stop func()) (T, error) {
	if err := start(); err != nil {
		stop()
		var none T
		return none, fmt.Errorf("start %s: %w", what, err)
	}
	return v, nil
}

// restart runs start until it succeeds (a stopped server's port may take a
// moment to be free again), and fails the test after about 5 s of errors.
func restart(tb testing.TB, what string, start func() error) {
	tb.Helper()
	var err error
	for i := 0; i < 50; i++ {
		if err = start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("restart %s: %v", what, err)
}

// NewStack starts a Stack keeping its files in dir; the caller closes it.
func NewStack(dir string, o Options) (s *Stack, err error) {
	s = &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.NATS, err = NewNATS(filepath.Join(dir, "nats")); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.NATS.Shutdown)
	if s.Redis = o.Redis; s.Redis == nil {
		if s.Redis, err = NewRedis(dir); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, s.Redis.Stop)
	}
	ropts, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		return nil, err
	}
	s.RDB = redis.NewClient(ropts)
	s.closers = append(s.closers, func() { _ = s.RDB.Close() })
	if o.Redis != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.RDB.FlushAll(ctx).Err()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("redis FLUSHALL: %w", err)
		}
	}
	s.Store = redisstore.New(s.RDB, redisstore.Options{})

	if o.Zoom.ClientID == "" {
		o.Zoom.AccountID, o.Zoom.ClientID, o.Zoom.ClientSecret = AccountID, ClientID, ClientSecret
	}
	s.app = o.Zoom
	s.Fake = zoomtest.New(o.Zoom)
	s.Fake.AddUser(Host, "James", "Bond", 1)
	url, closeZoom, err := s.Fake.Serve("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake Zoom: %w", err)
	}
	s.ZoomURL = url
	s.closers = append(s.closers, func() { _ = closeZoom() })

	name := o.ConnName
	if name == "" {
		name = "testenv"
	}
	if s.NC, err = connectNATS(s.NATS.URL, name); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.NC.Close)
	if s.JS, err = jetstream.New(s.NC); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the connections and stops what the stack started, in reverse.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// AccountSpec is the fake's OAuth app as an account named name ("" = the
// default account).
func (s *Stack) AccountSpec(name string) account.Spec {
	return accountSpec(s.app, s.ZoomURL, name)
}

// AccountSpecAt is the usual OAuth app (AccountID, ClientID, ClientSecret)
// as an account named name ("" = the default account) of the fake Zoom
// serving at zoomURL: for a worker in another process than the Stack's.
func AccountSpecAt(zoomURL, name string) account.Spec {
	return accountSpec(zoomtest.Options{AccountID: AccountID, ClientID: ClientID, ClientSecret: ClientSecret}, zoomURL, name)
}

func accountSpec(app zoomtest.Options, zoomURL, name string) account.Spec {
	return account.Spec{Name: name, AccountID: app.AccountID, ClientID: app.ClientID, ClientSecret: app.ClientSecret,
		APIURL: zoomURL + "/v2", TokenURL: zoomURL + "/oauth/token"}
}

// Account builds the default account on the fake, as cmd/zoom-worker
// builds one; limits zero means no rate limit.
func (s *Stack) Account(limits redisstore.Limits) (worker.Account, error) {
	spec := s.AccountSpec("")
	spec.Limits = limits
	return account.New(spec, s.Store)
}

// Env is the environment of `zoom-worker run` against the stack, with the
// fast settings (FastEnv).
func (s *Stack) Env() []string {
	o := s.app
	return append([]string{
		"NATS_URL=" + s.NATS.URL,
		"REDIS_URL=" + s.Redis.URL,
		"ZOOM_API_URL=" + s.ZoomURL + "/v2",
		"ZOOM_OAUTH_TOKEN_URL=" + s.ZoomURL + "/oauth/token",
		"ZOOM_ACCOUNT_ID=" + o.AccountID, "ZOOM_CLIENT_ID=" + o.ClientID, "ZOOM_CLIENT_SECRET=" + o.ClientSecret,
	}, FastEnv()...)
}

// FastConfig is the worker's settings for tests: short retries and
// redeliveries so faults resolve in seconds, still generous enough for a
// loaded machine (an attempt may take 5 s).
func FastConfig() worker.Config {
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

// FastEnv is FastConfig as `zoom-worker run` settings.
func FastEnv() []string {
	c := FastConfig()
	return []string{
		"ZOOMW_CONCURRENCY=" + strconv.Itoa(c.Concurrency),
		"ZOOMW_ACK_WAIT=" + c.AckWait.String(),
		"ZOOMW_MAX_ATTEMPTS=" + strconv.Itoa(c.MaxAttempts),
		"ZOOMW_ATTEMPT_TIMEOUT=" + c.AttemptTimeout.String(),
		"ZOOMW_RETRY_BUDGET=" + c.RetryBudget.String(),
		"ZOOMW_RETRY_INITIAL=" + c.RetryInitial.String(),
		"ZOOMW_RETRY_MAX=" + c.RetryMax.String(),
		"ZOOMW_REDELIVERY_DELAY=" + c.RedeliveryDelay.String(),
		"ZOOMW_REDELIVERY_MAX_DELAY=" + c.RedeliveryMaxDelay.String(),
		"ZOOMW_SHUTDOWN_TIMEOUT=" + c.ShutdownTimeout.String(),
	}
}

// ErrNotStopped is WorkerRun.Stop's error when the worker did not stop in time.
var ErrNotStopped = errors.New("worker did not stop")

// WorkerRun is a worker running in this process.
type WorkerRun struct {
	W      *worker.Worker
	cancel context.CancelFunc
	done   chan error
	err    error
	exited bool
}

// RunWorker runs w until Stop and waits until it has started (its consumer
// bound, so publishes are not raced). The error is Run's, if it returned at
// start, or says it did not start within limit.
func RunWorker(w *worker.Worker, limit time.Duration) (*WorkerRun, error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &WorkerRun{W: w, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	select {
	case <-w.Started():
		return r, nil
	case err := <-r.done:
		cancel()
		return nil, fmt.Errorf("worker stopped at start: %v", err)
	case <-time.After(limit):
		notReady := w.Ready()
		_ = r.Stop(limit)
		return nil, fmt.Errorf("worker not started within %s: %v", limit, notReady)
	}
}

// Stop stops the worker gracefully and returns Run's error; it may be
// called again and returns the same. It gives up after limit.
func (r *WorkerRun) Stop(limit time.Duration) error {
	r.cancel()
	if r.exited {
		return r.err
	}
	select {
	case r.err = <-r.done:
		r.exited = true
		return r.err
	case <-time.After(limit):
		return fmt.Errorf("%w within %s", ErrNotStopped, limit)
	}
}
