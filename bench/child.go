package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// The bench re-executes itself as a child process for the code under
// measurement, so that its CPU time and memory are its own and not the
// NATS server's, Redis client's or fake Zoom's: `bench child '<json>'`.
//
// The child speaks a line protocol. It writes one JSON childStats line when
// ready and one in answer to each command it reads on stdin:
//
//	mark   start the measured window (baseline: start consuming; profiles: start CPU)
//	stats  report now
//	heap   write the heap profile now, then report
//	stop   stop the CPU profile, report, then shut down gracefully and exit 0
//
// End of stdin (the bench went away) makes it exit at once; so does maxLife.
const childArg = "child"

// workerConnName names the child's NATS connection, as cmd/zoom-worker does,
// so the bench can count its messages at the server.
const workerConnName = "zoom-worker"

const childMaxLife = 10 * time.Minute

// childConfig is what the bench passes to a child.
type childConfig struct {
	Mode        string  `json:"mode"` // "worker", "baseline", "pipeline" or "zoom"
	Name        string  `json:"name"`
	NATSURL     string  `json:"nats_url"`
	RedisURL    string  `json:"redis_url"`
	ZoomURL     string  `json:"zoom_url"`
	Concurrency int     `json:"concurrency"`
	RateLimit   float64 `json:"rate_limit"`
	// Plan, if set, is the account's Zoom plan (ZOOMW_ZOOM_PLAN): the
	// limiter keeps its per-category rates and learns from Zoom's headers.
	Plan string `json:"plan,omitempty"`
	// BacklogRate, above 0, adds the account "backlog" (the fake's app
	// too) with that rate limit: the fairness scenario.
	BacklogRate float64 `json:"backlog_rate,omitempty"`
	CPUProfile  string  `json:"cpu_profile,omitempty"`
	MemProfile  string  `json:"mem_profile,omitempty"`
	Verbose     bool    `json:"verbose,omitempty"`
	// RedisBuffer, when above 0, sizes the Redis connections' buffers
	// (an experiment: cmd/zoom-worker keeps go-redis's defaults).
	RedisBuffer int `json:"redis_buffer,omitempty"`
	// ZoomLatency is the fake's Options.Latency in mode "zoom".
	ZoomLatency time.Duration `json:"zoom_latency,omitempty"`
}

// childStats is one report of a child.
type childStats struct {
	Ready      bool    `json:"ready,omitempty"`
	Err        string  `json:"err,omitempty"`
	CPUUser    float64 `json:"cpu_user"`
	CPUSys     float64 `json:"cpu_sys"`
	RSS        int64   `json:"rss"`
	HWM        int64   `json:"hwm"`
	HeapBytes  uint64  `json:"heap_bytes"`  // live and not yet swept heap objects
	HeapGoal   uint64  `json:"heap_goal"`   // where the next GC starts
	StackBytes uint64  `json:"stack_bytes"` // goroutine stacks
	Goroutines uint64  `json:"goroutines"`
	InFlight   int     `json:"in_flight"`
	RedisTrips int64   `json:"redis_trips"`
	RedisCmds  int64   `json:"redis_cmds"`
	// RedisByName counts round trips by what they sent.
	RedisByName map[string]int64 `json:"redis_by_name,omitempty"`
	Warns       int64            `json:"warns"`
	Errors      int64            `json:"errors"`
	LogSample   []string         `json:"log_sample,omitempty"`
	// ZoomURL and Zoom are a "zoom" child's base URL and counters.
	ZoomURL string          `json:"zoom_url,omitempty"`
	Zoom    *zoomtest.Stats `json:"zoom,omitempty"`
}

func (s childStats) cpu() float64 { return s.CPUUser + s.CPUSys }

// ---- the child side ----

// runner is what a child runs: the worker, or the bare JetStream loop.
type runner interface {
	mark() error
	inFlight() int
	stop() error
}

func childMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "bench child: want one JSON argument")
		return 2
	}
	var cfg childConfig
	if err := json.Unmarshal([]byte(args[0]), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 2
	}
	out := json.NewEncoder(os.Stdout)
	say := func(s childStats) { _ = out.Encode(s) }

	ctx, cancel := context.WithTimeout(context.Background(), childMaxLife)
	defer cancel()
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- strings.TrimSpace(sc.Text())
		}
		close(cmds) // the bench is gone
	}()

	if cfg.MemProfile != "" {
		runtime.MemProfileRate = 16 << 10 // finer than the default 512 KiB, for a clearer heap profile
	}
	counts := &logCounts{}
	trips := &tripCounter{}
	var r runner
	var err error
	switch cfg.Mode {
	case "worker":
		defaults.GC(os.Getenv) // as cmd/zoom-worker's main does
		r, err = startWorker(ctx, cfg, counts, trips)
	case "baseline", "pipeline":
		r, err = startBaseline(ctx, cfg, trips)
	case "zoom":
		r, err = startZoom(cfg)
	default:
		err = fmt.Errorf("unknown mode %q", cfg.Mode)
	}
	if err != nil {
		say(childStats{Err: err.Error()})
		return 1
	}
	report := func() childStats {
		s := currentStats()
		s.InFlight = r.inFlight()
		s.RedisTrips, s.RedisCmds, s.RedisByName = trips.trips.Load(), trips.cmds.Load(), trips.snapshot()
		s.Warns, s.Errors, s.LogSample = counts.snapshot()
		if z, ok := r.(*zoomRunner); ok {
			st := z.fake.Stats()
			s.ZoomURL, s.Zoom = z.url, &st
		}
		return s
	}
	ready := report()
	ready.Ready = true
	say(ready)

	var cpuFile *os.File
	heapWritten := false
	stopCPU := func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
			cpuFile = nil
		}
	}
	defer stopCPU()
	for {
		var cmd string
		var ok bool
		select {
		case cmd, ok = <-cmds:
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "bench child %s: lived %s: exiting\n", cfg.Name, childMaxLife)
			return 1
		}
		if !ok {
			return 1
		}
		var s childStats
		switch cmd {
		case "mark":
			if cfg.CPUProfile != "" && cpuFile == nil {
				if f, err := os.Create(cfg.CPUProfile); err == nil {
					if pprof.StartCPUProfile(f) == nil {
						cpuFile = f
					} else {
						f.Close()
					}
				}
			}
			err = r.mark()
			s = report()
		case "stats":
			s = report()
		case "heap":
			err = writeHeap(cfg.MemProfile)
			heapWritten = true
			s = report()
		case "stop":
			stopCPU()
			s = report()
			if !heapWritten {
				err = errors.Join(err, writeHeap(cfg.MemProfile))
			}
			err = errors.Join(err, r.stop())
			if err != nil {
				s.Err = err.Error()
			}
			say(s)
			return 0
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			s.Err = err.Error()
			err = nil
		}
		say(s)
	}
}

func writeHeap(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC() // the profile shows the heap as of the last GC: make that now
	return pprof.Lookup("heap").WriteTo(f, 0)
}

func currentStats() childStats {
	var s childStats
	s.CPUUser, s.CPUSys, _ = cpuTimes()
	s.RSS, s.HWM = memory()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/goal:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/sched/goroutines:goroutines"}}
	metrics.Read(sample)
	u := func(i int) uint64 {
		if sample[i].Value.Kind() == metrics.KindUint64 {
			return sample[i].Value.Uint64()
		}
		return 0
	}
	s.HeapBytes, s.HeapGoal, s.StackBytes, s.Goroutines = u(0), u(1), u(2), u(3)
	return s
}

// workerRunner is the worker wired as cmd/zoom-worker/wire.go wires it: a
// Redis store with the pool sized from the concurrency, a Zoom client with
// Server-to-Server OAuth whose token is shared through Redis, the shared
// rate limiter when there is a limit, metrics on a registry, JSON logs at
// info (written to nowhere, but formatted as in production).
type workerRunner struct {
	w   *worker.Worker
	run *testenv.WorkerRun
	nc  *nats.Conn
	rdb redis.UniversalClient
}

func startWorker(ctx context.Context, cfg childConfig, counts *logCounts, trips *tripCounter) (runner, error) {
	var sink io.Writer = io.Discard
	level := slog.LevelInfo
	if cfg.Verbose {
		sink, level = os.Stderr, slog.LevelWarn
	}
	log := slog.New(&countingHandler{Handler: slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: level}), c: counts})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := worker.NewMetrics(reg)

	nc, err := nats.Connect(cfg.NATSURL, nats.Name(workerConnName), nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	rdb, err := redisstore.NewClient(cfg.RedisURL, redisstore.ClientOptions{BufferSize: cfg.RedisBuffer}) // as cmd/zoom-worker
	if err != nil {
		return nil, err
	}
	rdb.AddHook(trips)
	store := redisstore.New(rdb, redisstore.Options{})

	spec := testenv.AccountSpecAt(cfg.ZoomURL, "")
	spec.Limits, spec.Metrics = redisstore.Limits{PerSecond: cfg.RateLimit, Plan: redisstore.Plan(cfg.Plan), Burst: 1}, m
	acct, err := account.New(spec, store)
	if err != nil {
		return nil, err
	}
	accounts := map[string]worker.Account{worker.DefaultAccount: acct}
	if cfg.BacklogRate > 0 {
		spec := testenv.AccountSpecAt(cfg.ZoomURL, backlogAccount)
		spec.Limits, spec.Metrics = redisstore.Limits{PerSecond: cfg.BacklogRate, Burst: 1}, m
		if accounts[backlogAccount], err = account.New(spec, store); err != nil {
			return nil, err
		}
	}
	w, err := worker.New(worker.Config{Concurrency: cfg.Concurrency, InstanceID: cfg.Name, Logger: log, Metrics: m},
		worker.Deps{NATS: nc, Store: store, Cache: store, Accounts: accounts})
	if err != nil {
		return nil, err
	}
	run, err := testenv.RunWorker(w, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &workerRunner{w: w, run: run, nc: nc, rdb: rdb}, nil
}

func (r *workerRunner) mark() error   { return nil }
func (r *workerRunner) inFlight() int { return r.w.InFlight() }

func (r *workerRunner) stop() error {
	err := r.run.Stop(worker.DefaultShutdownTimeout + 10*time.Second)
	_ = r.nc.Drain()
	deadline := time.Now().Add(5 * time.Second)
	for !r.nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r.nc.Close()
	_ = r.rdb.Close()
	return err
}

// zoomRunner is the fake Zoom in a process of its own, as Zoom is: in the
// bench process its handlers shared two Ps with the NATS server, whose
// storing of a burst of publishes held the first calls' answers back.
type zoomRunner struct {
	fake  *zoomtest.Server
	url   string
	close func() error
}

func startZoom(cfg childConfig) (runner, error) {
	fake := zoomtest.New(zoomtest.Options{Latency: cfg.ZoomLatency, DailyMeetingLimit: benchDailyLimit,
		AccountID: testenv.AccountID, ClientID: testenv.ClientID, ClientSecret: testenv.ClientSecret})
	addHosts(fake)
	url, closeFn, err := fake.Serve("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake Zoom: %w", err)
	}
	return &zoomRunner{fake: fake, url: url, close: closeFn}, nil
}

func (z *zoomRunner) mark() error   { return nil }
func (z *zoomRunner) inFlight() int { return 0 }
func (z *zoomRunner) stop() error   { return z.close() }

// baselineRunner is the least any JetStream worker must do per job, at the
// same concurrency and on the same stream and consumer: take the job, publish
// one small event and wait for the server's ack, ack the job. In mode
// "pipeline" it does the same I/O as the worker with no framework: one Redis
// round trip (SET NX of the job's key), the job's create-meeting call to the
// fake Zoom (one POST with a token fetched once), one Redis round trip (SET
// of Zoom's answer), then publishes Zoom's answer as the event: the least a
// worker that calls Zoom and keeps a record must do.
type baselineRunner struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	cons   jetstream.Consumer
	c      int
	it     jetstream.MessagesContext
	wg     sync.WaitGroup
	flight atomic.Int64

	zoomURL string // "" = no HTTP call
	token   string
	httpc   *http.Client
	rdb     redis.UniversalClient // nil = no Redis
}

func startBaseline(ctx context.Context, cfg childConfig, trips *tripCounter) (runner, error) {
	nc, err := nats.Connect(cfg.NATSURL, nats.Name(workerConnName))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := worker.SetupStreams(sctx, js, worker.Config{})
	if err != nil {
		return nil, err
	}
	c := cfg.Concurrency
	if c <= 0 {
		c = worker.DefaultConcurrency
	}
	b := &baselineRunner{nc: nc, js: js, cons: cons, c: c}
	if cfg.Mode == "pipeline" {
		if b.rdb, err = redisstore.NewClient(cfg.RedisURL, redisstore.ClientOptions{}); err != nil {
			return nil, err
		}
		b.rdb.AddHook(trips)
		b.zoomURL, b.httpc = cfg.ZoomURL, zoom.NewHTTPClient(30*time.Second)
		app := testenv.AccountSpecAt(cfg.ZoomURL, "")
		tokens := zoom.NewOAuth(zoom.OAuthConfig{AccountID: app.AccountID, ClientID: app.ClientID, ClientSecret: app.ClientSecret,
			TokenURL: app.TokenURL, HTTPClient: b.httpc})
		if b.token, err = tokens.Token(ctx); err != nil {
			return nil, fmt.Errorf("zoom token: %w", err)
		}
	}
	return b, nil
}

// callZoom makes the job's create-meeting request and returns Zoom's answer.
func (b *baselineRunner) callZoom(job []byte) ([]byte, error) {
	var j struct {
		UserID  string          `json:"user_id"`
		Meeting json.RawMessage `json:"meeting"`
	}
	if err := json.Unmarshal(job, &j); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.zoomURL+"/v2/users/"+url.PathEscape(j.UserID)+"/meetings",
		bytes.NewReader(j.Meeting))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusCreated {
		err = fmt.Errorf("zoom answered %d: %.200s", resp.StatusCode, body)
	}
	return body, err
}

// pipeline is the pipeline mode's work on one job: Redis, Zoom, Redis.
func (b *baselineRunner) pipeline(msg jetstream.Msg) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := "pipeline:" + msg.Headers().Get(messages.HeaderMsgID)
	if err := b.rdb.SetNX(ctx, key, "running", time.Hour).Err(); err != nil {
		return nil, err
	}
	answer, err := b.callZoom(msg.Data())
	if err != nil {
		return nil, err
	}
	return answer, b.rdb.Set(ctx, key, answer, time.Hour).Err()
}

func (b *baselineRunner) inFlight() int { return int(b.flight.Load()) }

func (b *baselineRunner) mark() error {
	it, err := b.cons.Messages(jetstream.PullMaxMessages(b.c))
	if err != nil {
		return err
	}
	b.it = it
	body := []byte(`{"job_id":"x","user_id":"host@bench.example","meeting":{"id":85746065432}}`)
	for range b.c {
		b.wg.Go(func() {
			for {
				msg, err := it.Next()
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				if err != nil {
					time.Sleep(time.Millisecond)
					continue
				}
				b.flight.Add(1)
				ev := nats.NewMsg(messages.SubjectMeetingCreated)
				ev.Header.Set(messages.HeaderMsgID, messages.EventMsgID(msg.Headers().Get(messages.HeaderMsgID), messages.SubjectMeetingCreated))
				ev.Data = body
				if b.zoomURL != "" {
					ev.Data, err = b.pipeline(msg)
				}
				if err == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err = b.js.PublishMsg(ctx, ev)
					cancel()
				}
				if err != nil {
					_ = msg.Nak()
				} else {
					_ = msg.Ack()
				}
				b.flight.Add(-1)
			}
		})
	}
	return nil
}

func (b *baselineRunner) stop() error {
	if b.it != nil {
		b.it.Stop()
	}
	b.wg.Wait()
	err := b.nc.FlushTimeout(5 * time.Second)
	b.nc.Close()
	if b.rdb != nil {
		_ = b.rdb.Close()
	}
	return err
}

// tripCounter is a go-redis hook counting round trips (a pipeline is one)
// and commands, and round trips by what they sent.
type tripCounter struct {
	trips, cmds atomic.Int64
	mu          sync.Mutex
	byName      map[string]int64
}

func (t *tripCounter) count(name string, cmds int) {
	t.trips.Add(1)
	t.cmds.Add(int64(cmds))
	t.mu.Lock()
	if t.byName == nil {
		t.byName = map[string]int64{}
	}
	t.byName[name]++
	t.mu.Unlock()
}

func (t *tripCounter) snapshot() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.byName)
}

func (t *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (t *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		t.count(cmd.FullName(), 1)
		return next(ctx, cmd)
	}
}

func (t *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.FullName()
		}
		t.count("pipeline("+strings.Join(names, ",")+")", len(cmds))
		return next(ctx, cmds)
	}
}

// countingHandler counts the worker's warnings and errors and keeps the
// first few, so the report can say what went wrong without a log file.
type countingHandler struct {
	slog.Handler
	c *logCounts
}

type logCounts struct {
	mu           sync.Mutex
	warns, errs  int64
	sample       []string
	sampleByText map[string]bool
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" || a.Key == "reason" || a.Key == "outcome" || a.Key == "kind" {
				fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			}
			return true
		})
		h.c.add(r.Level, b.String())
	}
	return h.Handler.Handle(ctx, r)
}

func (h *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithAttrs(as), c: h.c}
}

func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithGroup(name), c: h.c}
}

func (c *logCounts) add(level slog.Level, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if level >= slog.LevelError {
		c.errs++
	} else {
		c.warns++
	}
	if len(text) > 300 {
		text = text[:300] + "..."
	}
	if c.sampleByText == nil {
		c.sampleByText = map[string]bool{}
	}
	// Lines that differ only in numbers (times, ids) are one kind of line.
	kind := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, text)
	if len(c.sample) < 5 && !c.sampleByText[kind] {
		c.sampleByText[kind] = true
		c.sample = append(c.sample, text)
	}
}

func (c *logCounts) snapshot() (warns, errs int64, sample []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.warns, c.errs, append([]string(nil), c.sample...)
}

// ---- the bench side ----

// child is a running child process.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan []byte
	exit  chan error
}

// startChild starts a child and waits for it to be ready.
func startChild(ctx context.Context, cfg childConfig) (*child, childStats, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, childStats{}, err
	}
	arg, _ := json.Marshal(cfg)
	cmd := exec.CommandContext(ctx, exe, childArg, string(arg))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childSysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, childStats{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, childStats{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, childStats{}, fmt.Errorf("start child %s: %w", cfg.Name, err)
	}
	c := &child{name: cfg.Name, cmd: cmd, stdin: stdin, lines: make(chan []byte, 4), exit: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(c.lines)
		c.exit <- cmd.Wait()
	}()
	s, err := c.read(60 * time.Second)
	if err == nil && !s.Ready {
		err = errors.New("not ready")
	}
	if err != nil {
		c.kill()
		return nil, s, fmt.Errorf("child %s: %w", cfg.Name, err)
	}
	return c, s, nil
}

func (c *child) read(timeout time.Duration) (childStats, error) {
	var s childStats
	select {
	case line, ok := <-c.lines:
		if !ok {
			return s, errors.New("exited")
		}
		if err := json.Unmarshal(line, &s); err != nil {
			return s, fmt.Errorf("bad answer %q: %w", line, err)
		}
		if s.Err != "" && !s.Ready {
			return s, errors.New(s.Err)
		}
		return s, nil
	case <-time.After(timeout):
		return s, fmt.Errorf("no answer within %s", timeout)
	}
}

// ask sends a command and returns the child's answer.
func (c *child) ask(cmd string) (childStats, error) {
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		return childStats{}, fmt.Errorf("child %s: %s: %w", c.name, cmd, err)
	}
	timeout := 30 * time.Second
	if cmd == "stop" {
		timeout = worker.DefaultShutdownTimeout + 20*time.Second
	}
	s, err := c.read(timeout)
	if err != nil {
		return s, fmt.Errorf("child %s: %s: %w", c.name, cmd, err)
	}
	return s, nil
}

// stop asks the child to stop and waits for it to exit; it kills a child
// that does not.
func (c *child) stop() (childStats, error) {
	s, err := c.ask("stop")
	_ = c.stdin.Close()
	select {
	case <-c.exit:
	case <-time.After(10 * time.Second):
		c.kill()
	}
	return s, err
}

func (c *child) kill() {
	_ = c.stdin.Close()
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
	}
	select {
	case <-c.exit:
	case <-time.After(5 * time.Second):
	}
}
