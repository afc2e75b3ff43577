package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/streams"
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

	policy  policy
	health  *health
	creds   *credentials
	seq     *sequencer
	jobs    jetstream.Stream // ZOOM_JOBS
	slots   *slots
	runners *runners
	fair    *fairness
	bound   atomic.Bool
	running atomic.Bool
	started chan struct{} // closed once Run takes jobs
	done    chan struct{} // closed when Run returns
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
		accts[name] = a.WithMetrics(cfg.Metrics)
	}
	w := &Worker{
		cfg: cfg, nc: deps.NATS, js: js, store: deps.Store, cache: deps.Cache,
		accounts: accts, log: cfg.Logger, m: cfg.Metrics, owner: owner, policy: policyOf(cfg),
		slots: newSlots(cfg.Concurrency), runners: newRunners(), fair: newFairness(cfg.Concurrency, accts),
		started: make(chan struct{}), done: make(chan struct{}),
	}
	w.health = newHealth(deps.Store, cfg.Metrics, cfg.Logger)
	w.creds = newCredentials(deps.Accounts, cfg.Metrics, cfg.Logger)
	return w, nil
}

// Setup creates or updates the streams and the shared consumer. Run calls
// it; it is exported for tools that only need the streams.
func (w *Worker) Setup(ctx context.Context) (jetstream.Consumer, error) {
	return setupRetrying(ctx, w.js, w.nc, w.cfg, w.log) // streams.go
}

// SetupStreams creates or updates ZOOM_JOBS, ZOOM_EVENTS, ZOOM_DLQ and the
// durable consumer zoom-worker, idempotently.
func SetupStreams(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Consumer, error) {
	cfg = cfg.withDefaults()
	want := []jetstream.StreamConfig{{
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
	for _, sc := range want {
		if _, err := streams.Ensure(ctx, js, sc); err != nil {
			return nil, err
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
		return errors.New(w.health.notReady())
	}
	if why := w.creds.notReady(); why != "" {
		return errors.New(why)
	}
	return nil
}

// Instance names this process: Config.InstanceID, else a random id.
func (w *Worker) Instance() string { return w.owner }

// RejectedAccounts maps each account whose Zoom credentials are rejected now
// (its jobs wait) to what the token endpoint said; empty when none.
func (w *Worker) RejectedAccounts() map[string]string { return w.creds.rejectedAccounts() }

// InFlight is the number of jobs being worked on now.
func (w *Worker) InFlight() int { return w.slots.busy() }

// Started is closed once Run has set up the streams, asked for the accounts'
// tokens and bound the consumer: jobs published from then on are taken. It
// is never closed when Run fails before that; wait on Done too.
func (w *Worker) Started() <-chan struct{} { return w.started }

// Done is closed when Run has returned.
func (w *Worker) Done() <-chan struct{} { return w.done }

// Run consumes jobs until ctx is cancelled, then shuts down in this order:
// stop fetching; hand back (NAK) jobs fetched but not started; let jobs in
// flight finish for up to ShutdownTimeout, then cancel the rest (they are
// handed back too); flush what was published. It returns nil after a clean
// stop. The caller closes the connections after Run returns.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("worker: Run called twice")
	}
	defer close(w.done)
	defer w.runners.stop()
	cons, err := w.Setup(ctx)
	if err != nil {
		return err
	}
	stream, err := w.js.Stream(ctx, messages.StreamJobs)
	if err != nil {
		return fmt.Errorf("stream %s: %w", messages.StreamJobs, err)
	}
	w.seq = &sequencer{stream: stream, keys: map[uint64]string{}}
	w.jobs = stream
	for name := range w.accounts {
		// A store that lost its data (or a new one) starts its epoch here:
		// jobs already in the stream may have had records in it.
		if err := w.setEpoch(ctx, name); err != nil {
			w.health.failed()
			w.log.Warn("set the store's epoch", "account", name, "err", err)
		}
	}
	w.health.start(ctx)
	defer w.health.stop()
	w.creds.start(ctx)
	defer w.creds.stop()
	w.warm(ctx) // warm.go: the tokens and the store's connections, before the first pull

	// Short pull expiry and heartbeat: after a broker restart or a change of
	// consumer leader the iterator notices a lost pull request within
	// seconds and pulls again. Up to Concurrency jobs wait here for a slot,
	// and the iterator asks for more each time an eighth of them were taken
	// (by default only once half were): jobs that started together end
	// together, and every slot they free finds its next job here rather
	// than waiting for a pull's round trip to the server.
	it, err := cons.Messages(jetstream.PullMaxMessages(w.cfg.Concurrency),
		jetstream.PullThresholdMessages(pullThreshold(w.cfg.Concurrency)),
		jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("consume %s: %w", messages.ConsumerName, err)
	}
	w.bound.Store(true)
	defer w.bound.Store(false)
	close(w.started)
	w.log.Info("worker started", "consumer", messages.ConsumerName, "concurrency", w.cfg.Concurrency,
		"instance", w.owner, "accounts", len(w.accounts))

	// Jobs run on their own context: a stop lets them finish, then cancels.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	go func() {
		<-ctx.Done()
		it.Drain()
	}()

	for {
		if ctx.Err() == nil {
			w.health.wait(ctx) // take no new job while Redis is down
			w.creds.wait(ctx)  // nor while no account's credentials work
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
			continue
		}
		w.dispatch(ctx, jobCtx, msg) // fair.go
	}

	if !w.slots.drain(w.cfg.ShutdownTimeout) {
		w.log.Warn("shutdown timeout: cancelling jobs in flight", "in_flight", w.slots.busy())
		cancelJobs()
		w.slots.drain(0)
	}
	if err := w.nc.FlushTimeout(5 * time.Second); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		w.log.Warn("flush nats", "err", err)
	}
	w.log.Info("worker stopped")
	return nil
}

// pullThreshold is how few jobs asked for and not yet taken make the fetch
// loop's iterator pull again: all but an eighth of the concurrency (at
// least one), so it tops up by small pulls; 0 (nats.go's default, half)
// for a concurrency of one.
func pullThreshold(concurrency int) int {
	return max(concurrency-max(concurrency/8, 1), 0)
}

// slots bounds the jobs in flight and counts them, one mechanism for both:
// a job takes a slot before it starts and gives it back when it ends.
type slots struct {
	ch chan struct{}
	// held counts the slots drain holds: free ones it took so no job can
	// start while it waits for the others.
	held atomic.Int64
}

func newSlots(n int) *slots { return &slots{ch: make(chan struct{}, n)} }

// take waits for a free slot; false when ctx ended first (no slot taken).
func (s *slots) take(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case s.ch <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// give returns a slot take took.
func (s *slots) give() { <-s.ch }

// busy is the number of jobs holding a slot.
func (s *slots) busy() int { return len(s.ch) - int(s.held.Load()) }

// drain waits until every job has given its slot back, for up to limit
// (0: no limit), and reports whether they all did.
func (s *slots) drain(limit time.Duration) bool {
	var timeout <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	defer func() {
		for ; s.held.Load() > 0; s.held.Add(-1) {
			<-s.ch
		}
	}()
	for int(s.held.Load()) < cap(s.ch) {
		select {
		case s.ch <- struct{}{}:
			s.held.Add(1)
		case <-timeout:
			return false
		}
	}
	return true
}

// runners runs jobs on goroutines that ran jobs before: one that ends a job
// waits for the next rather than exiting, so the stack a job grew to (the
// HTTP client, Redis and NATS calls nest deeply) is not grown again, one
// copy at a time, by each job's new goroutine (about 5% of the worker's
// CPU per job in the profile). At most maxIdleRunners wait: the others
// exit as before, so that a burst of jobs ending together does not keep
// a stack per job it ran (with one each for 1000 jobs, the memory
// scenario's peak RSS grew by a sixth). stop ends those that wait.
type runners struct {
	next    chan func()   // unbuffered: a send succeeds only into a waiting runner
	quit    chan struct{} // closed by stop
	idle    atomic.Int32  // runners waiting, or about to
	spawned atomic.Int64  // runners started, ever
}

// maxIdleRunners bounds the runners that wait for a job. While the worker
// is busy, jobs end and start one by one: in the latency0 bench 64 waiting
// take over nearly all of them (8 left stack growth at about 1% of the
// CPU), and keep a few MiB of stacks at most.
const maxIdleRunners = 64

func newRunners() *runners { return &runners{next: make(chan func()), quit: make(chan struct{})} }

// run runs f on a waiting runner, else on a new one.
func (r *runners) run(f func()) {
	select {
	case r.next <- f:
	default:
		go r.loop(f)
	}
}

func (r *runners) loop(f func()) {
	r.spawned.Add(1)
	for {
		f()
		f = nil // a waiting runner keeps nothing of its last job
		if r.idle.Add(1) > maxIdleRunners {
			r.idle.Add(-1)
			return
		}
		select {
		case f = <-r.next:
			r.idle.Add(-1)
		case <-r.quit:
			r.idle.Add(-1)
			return
		}
	}
}

// stop ends the runners that wait and those that end their job from now on.
func (r *runners) stop() { close(r.quit) }
