package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// Deps are the parts a Worker is built from.
type Deps struct {
	// NATS is the connection; JetStream is made from it.
	NATS  *nats.Conn
	Store Store
	Cache Cache
	// Accounts by name; one must be DefaultAccount.
	Accounts map[string]Account
}

// Worker consumes jobs and runs them. Build it with New; Run it once.
type Worker struct {
	cfg      Config
	nc       *nats.Conn
	js       jetstream.JetStream
	store    Store
	cache    Cache
	accounts map[string]Account
	log      *slog.Logger
	m        *Metrics
	owner    string

	health   *health
	seq      *sequencer
	bound    atomic.Bool
	inFlight atomic.Int64
}

// New checks cfg and deps and returns a Worker. It does not contact anything.
func New(cfg Config, deps Deps) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if deps.NATS == nil || deps.Store == nil || deps.Cache == nil {
		return nil, errors.New("worker: NATS, Store and Cache are required")
	}
	if _, ok := deps.Accounts[DefaultAccount]; !ok {
		return nil, errors.New("worker: no default Zoom account")
	}
	js, err := jetstream.New(deps.NATS)
	if err != nil {
		return nil, fmt.Errorf("worker: jetstream: %w", err)
	}
	owner := cfg.InstanceID
	if owner == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		owner = hex.EncodeToString(b[:])
	}
	accts := make(map[string]Account, len(deps.Accounts))
	for name, a := range deps.Accounts {
		a.Name = name
		if cfg.Metrics != nil {
			a.Zoom = instrumented{ZoomAPI: a.Zoom, account: name, m: cfg.Metrics}
		}
		accts[name] = a
	}
	w := &Worker{
		cfg: cfg, nc: deps.NATS, js: js, store: deps.Store, cache: deps.Cache,
		accounts: accts, log: cfg.Logger, m: cfg.Metrics, owner: owner,
	}
	w.health = newHealth(deps.Store, cfg.Metrics, cfg.Logger)
	return w, nil
}

// Setup creates or updates the streams and the shared consumer. Run calls
// it; it is exported for tools that only need the streams.
func (w *Worker) Setup(ctx context.Context) (jetstream.Consumer, error) {
	return SetupStreams(ctx, w.js, w.cfg)
}

// SetupStreams creates or updates ZOOM_JOBS, ZOOM_EVENTS, ZOOM_DLQ and the
// durable consumer zoom-worker, idempotently.
func SetupStreams(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Consumer, error) {
	cfg = cfg.withDefaults()
	streams := []jetstream.StreamConfig{{
		Name:        messages.StreamJobs,
		Description: "zoom-worker jobs (work queue)",
		Subjects:    []string{messages.SubjectJobsAll},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.StreamReplicas,
		Duplicates:  cfg.DuplicateWindow,
		MaxMsgSize:  1 << 20,
	}, {
		Name:        messages.StreamEvents,
		Description: "zoom-worker events",
		Subjects:    []string{messages.SubjectEventsAll},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.StreamReplicas,
		Duplicates:  cfg.DuplicateWindow,
		MaxAge:      cfg.EventsMaxAge,
	}, {
		Name:        messages.StreamDeadLetters,
		Description: "zoom-worker jobs that failed for good, to list and replay",
		Subjects:    []string{messages.SubjectDeadLettersAll},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.StreamReplicas,
		Duplicates:  cfg.DuplicateWindow,
		MaxAge:      cfg.DeadLetterMaxAge,
	}}
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("create or update stream %s: %w", sc.Name, err)
		}
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, messages.StreamJobs, ConsumerConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("create or update consumer %s: %w", messages.ConsumerName, err)
	}
	return cons, nil
}

// ConsumerConfig is the shared durable consumer every worker binds to.
// MaxDeliver is unlimited: the worker counts attempts itself (in the store)
// so that deferrals and hand-backs at shutdown do not use up a job's attempts,
// and fails a job with retries_exhausted after Config.MaxAttempts.
func ConsumerConfig(cfg Config) jetstream.ConsumerConfig {
	cfg = cfg.withDefaults()
	return jetstream.ConsumerConfig{
		Durable:       messages.ConsumerName,
		Description:   "zoom-worker processes share this consumer",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: cfg.MaxAckPending,
		FilterSubject: messages.SubjectJobsAll,
		Replicas:      0, // as the stream
	}
}

// Ready reports why the worker cannot take jobs now, or nil: NATS connected,
// the consumer bound, the store reachable.
func (w *Worker) Ready() error {
	switch {
	case !w.nc.IsConnected():
		return errors.New("nats: not connected")
	case !w.bound.Load():
		return errors.New("consumer not bound")
	case !w.health.ok():
		return errors.New("redis: unreachable")
	}
	return nil
}

// Accounts returns the configured accounts (their Zoom clients wrapped
// with metrics), for other parts of the process such as the service API.
func (w *Worker) Accounts() map[string]Account { return w.accounts }

// InFlight is the number of jobs being worked on now.
func (w *Worker) InFlight() int { return int(w.inFlight.Load()) }

// Run consumes jobs until ctx is cancelled, then shuts down in this order:
// stop fetching; hand back (NAK) jobs fetched but not started; let jobs in
// flight finish for up to ShutdownTimeout, then cancel the rest (they are
// handed back too); flush what was published. It returns nil after a clean
// stop. The caller closes the connections after Run returns.
func (w *Worker) Run(ctx context.Context) error {
	cons, err := w.Setup(ctx)
	if err != nil {
		return err
	}
	stream, err := w.js.Stream(ctx, messages.StreamJobs)
	if err != nil {
		return fmt.Errorf("stream %s: %w", messages.StreamJobs, err)
	}
	w.seq = &sequencer{stream: stream, keys: map[uint64]string{}}
	w.health.start(ctx)
	defer w.health.stop()

	// Short pull expiry and heartbeat: after a broker restart or a change of
	// consumer leader the iterator notices a lost pull request within
	// seconds and pulls again.
	it, err := cons.Messages(jetstream.PullMaxMessages(w.cfg.Concurrency),
		jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("consume %s: %w", messages.ConsumerName, err)
	}
	w.bound.Store(true)
	defer w.bound.Store(false)
	w.log.Info("worker started", "consumer", messages.ConsumerName, "concurrency", w.cfg.Concurrency,
		"instance", w.owner, "accounts", len(w.accounts))

	// Jobs run on their own context: a stop lets them finish, then cancels.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	go func() {
		<-ctx.Done()
		it.Drain()
	}()

	sem := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
	for {
		if ctx.Err() == nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() == nil {
				w.health.wait(ctx) // take no new job while Redis is down
			}
		}
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			break
		}
		if err != nil {
			// The iterator pulls again by itself (after a lost heartbeat, a
			// reconnect); pause a little so a persistent error is not a spin.
			if ctx.Err() == nil {
				w.log.Warn("fetch jobs", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
			w.release(sem)
			continue
		}
		if ctx.Err() != nil {
			// Fetched but not started: hand it back at once.
			_ = msg.Nak()
			w.release(sem)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.release(sem)
			w.handle(jobCtx, msg)
		}()
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.cfg.ShutdownTimeout):
		w.log.Warn("shutdown timeout: cancelling jobs in flight", "in_flight", w.inFlight.Load())
		cancelJobs()
		<-done
	}
	if err := w.nc.FlushTimeout(5 * time.Second); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		w.log.Warn("flush nats", "err", err)
	}
	w.log.Info("worker stopped")
	return nil
}

func (w *Worker) release(sem chan struct{}) {
	select {
	case <-sem:
	default:
	}
}
