package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// The hosts meetings are created for.
var hosts = []string{"host1@bench.example", "host2@bench.example", "host3@bench.example", "host4@bench.example"}

// redisSnapshot is what redis-server has done so far.
type redisSnapshot struct {
	commands int64            // total_commands_processed
	byCmd    map[string]int64 // commandstats calls by command
	cpu      float64          // seconds, user+sys, of the server process
}

func snapshotRedis(ctx context.Context, r *testenv.Redis) (redisSnapshot, error) {
	s := redisSnapshot{byCmd: map[string]int64{}}
	info, err := r.Info(ctx, "stats", "commandstats", "cpu")
	if err != nil {
		return s, fmt.Errorf("redis INFO: %w", err)
	}
	var infoCPU float64
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case k == "total_commands_processed":
			s.commands, _ = strconv.ParseInt(v, 10, 64)
		case k == "used_cpu_user" || k == "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			infoCPU += f
		case strings.HasPrefix(k, "cmdstat_"):
			// cmdstat_evalsha:calls=12,usec=...
			calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
			s.byCmd[strings.TrimPrefix(k, "cmdstat_")], _ = strconv.ParseInt(calls, 10, 64)
		}
	}
	// The INFO and FLUSHALL the bench itself sends are counted too: a few
	// commands per scenario, noise next to thousands of jobs.
	s.cpu = infoCPU
	if c, ok := procCPU(r.Pid()); ok {
		s.cpu = c
	}
	return s, nil
}

// stage is the world of one scenario: testenv's stack with a fresh embedded
// NATS server, the emptied shared Redis and a fresh fake Zoom; the bench's
// own NATS connection that publishes jobs, and the subscription that sees
// events.
type stage struct {
	*testenv.Stack
	name    string
	js      jetstream.JetStream // publishes asynchronously
	events  *collector
	pubErrs atomic.Int64
	// zoom, if set, is the fake Zoom the workers call instead of the
	// stack's: a child process (useOwnZoom).
	zoom *child
	// acked is when the server had acknowledged every job of the last
	// publish call (collector time; 0 = not yet).
	acked atomic.Int64
	// accountOf, if set, names the account of job i ("" = the default).
	accountOf func(i int) string
	// kids are the children started on the stage and not yet stopped.
	kids []*child
}

func newStage(ctx context.Context, dir, name string, rs *testenv.Redis, fakeOpts zoomtest.Options, jobs int) (st *stage, err error) {
	if fakeOpts.DailyMeetingLimit == 0 {
		fakeOpts.DailyMeetingLimit = benchDailyLimit
	}
	stack, err := testenv.NewStack(filepath.Join(dir, name), testenv.Options{Zoom: fakeOpts, Redis: rs, ConnName: "bench-load"})
	if err != nil {
		return nil, err
	}
	st = &stage{Stack: stack, name: name}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	addHosts(st.Fake)
	st.js, err = jetstream.New(st.NC, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, _ error) { st.pubErrs.Add(1) }))
	if err != nil {
		return nil, err
	}
	// The streams and consumer exactly as the worker makes them, so the
	// baseline runs on the same configuration.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := worker.SetupStreams(sctx, st.js, worker.Config{}); err != nil {
		return nil, err
	}
	st.events = newCollector(jobs)
	sub, err := st.NC.Subscribe(messages.SubjectEventsAll, st.events.onEvent)
	if err != nil {
		return nil, err
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := st.NC.Flush(); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *stage) close() {
	if st.zoom != nil {
		st.zoom.kill()
	}
	st.Stack.Close()
}

// benchDailyLimit is the fakes' daily meeting limit per host: thousands of
// meetings for a few hosts, and the per-host daily limit is not what this
// bench measures.
const benchDailyLimit = 1 << 30

// addHosts adds the hosts meetings are created for to a fake.
func addHosts(fake *zoomtest.Server) {
	for i, h := range hosts {
		fake.AddUser(h, "Host", strconv.Itoa(i+1), 1)
	}
}

// useOwnZoom starts a fake Zoom answering after latency in a child process
// and points the stage's workers at it (the stack's fake stays idle).
func (st *stage) useOwnZoom(ctx context.Context, latency time.Duration) error {
	k, ready, err := startChild(ctx, childConfig{Mode: "zoom", Name: st.name + "-zoom", ZoomLatency: latency})
	if err != nil {
		return err
	}
	st.zoom, st.ZoomURL = k, ready.ZoomURL
	return nil
}

// zoomStats are the counters of the fake the workers call, and its
// process's CPU seconds when it is a child (0 when it is the stack's).
func (st *stage) zoomStats() (zoomtest.Stats, float64) {
	if st.zoom == nil {
		return st.Fake.Stats(), 0
	}
	s, err := st.zoom.ask("stats")
	if err != nil || s.Zoom == nil {
		return zoomtest.Stats{}, 0
	}
	return *s.Zoom, s.cpu()
}

// natsSnapshot counts client messages at the server: all clients, and the
// connections named workerConnName (the worker processes or the baseline).
type natsSnapshot struct {
	inAll, outAll       int64 // messages from / to every client
	inWorker, outWorker int64 // messages from / to the worker connections
}

func (st *stage) natsSnapshot(connName string) natsSnapshot {
	var s natsSnapshot
	if v, err := st.NATS.Server.Varz(nil); err == nil {
		s.inAll, s.outAll = v.InClientMsgs, v.OutClientMsgs
	}
	if cz, err := st.NATS.Server.Connz(&server.ConnzOptions{State: server.ConnAll, Limit: 4096}); err == nil {
		for _, c := range cz.Conns {
			if c.Name == connName {
				s.inWorker += c.InMsgs
				s.outWorker += c.OutMsgs
			}
		}
	}
	return s
}

// jobID names job i of a scenario; the collector reads i back.
func jobID(scenario string, i int) string { return "bench-" + scenario + "-" + strconv.Itoa(i) }

func jobIndex(id string) (int, bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(id[i+1:])
	return n, err == nil
}

// jobBody is the contract's create-meeting example, for one of the hosts,
// of account ("" = the default account).
func jobBody(id string, i int, account string) []byte {
	acct := ""
	if account != "" {
		acct = `"account":"` + account + `",`
	}
	return fmt.Appendf(nil, `{"job_id":%q,%s"user_id":%q,"meeting":{"topic":"Bench meeting %d","type":2,`+
		`"start_time":"2026-12-05T12:00:00Z","duration":45,"timezone":"America/Los_Angeles","password":"Hey123",`+
		`"agenda":"This is the meeting description","settings":{"host_video":false,"participant_video":false,`+
		`"join_before_host":false,"mute_upon_entry":true,"use_pmi":false,"approval_type":0}}}`, id, acct, hosts[i%len(hosts)], i)
}

// publish publishes jobs [from, to) of the scenario with JetStream
// (Nats-Msg-Id = job id, as the contract asks of publishers), recording
// each job's publish time. perSecond 0 publishes as fast as the server
// takes them; otherwise jobs go at that pace. It waits for every ack.
func (st *stage) publish(ctx context.Context, from, to int, perSecond float64) error {
	start := time.Now()
	for i := from; i < to; i++ {
		if perSecond > 0 {
			due := start.Add(time.Duration(float64(i-from) / perSecond * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		id := jobID(st.name, i)
		msg := nats.NewMsg(messages.SubjectMeetingCreate)
		msg.Header.Set(messages.HeaderMsgID, id)
		acct := ""
		if st.accountOf != nil {
			acct = st.accountOf(i)
		}
		msg.Data = jobBody(id, i, acct)
		st.events.published(i)
		for {
			_, err := st.js.PublishMsgAsync(msg)
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || ctx.Err() != nil {
				return fmt.Errorf("publish job %d: %w", i, err)
			}
		}
	}
	select {
	case <-st.js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		return errors.New("publish: acks not all in within 30s")
	case <-ctx.Done():
		return ctx.Err()
	}
	if n := st.pubErrs.Load(); n > 0 {
		return fmt.Errorf("publish: %d jobs not acknowledged by the server", n)
	}
	st.acked.Store(st.events.now())
	return nil
}

// collector keeps, per job, when it was published and when its first event
// arrived (times are nanoseconds since the collector's start, 0 = not yet).
type collector struct {
	base   time.Time
	pubAt  []atomic.Int64
	doneAt []atomic.Int64

	mu      sync.Mutex
	target  int
	done    int
	failed  int
	other   int
	reached chan struct{}
	last    int64
}

func newCollector(jobs int) *collector {
	return &collector{base: time.Now(), pubAt: make([]atomic.Int64, jobs), doneAt: make([]atomic.Int64, jobs)}
}

func (c *collector) now() int64 { return int64(time.Since(c.base)) + 1 }

func (c *collector) published(i int) { c.pubAt[i].Store(c.now()) }

// expect returns a channel closed once total jobs have their event.
func (c *collector) expect(total int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.target = total
	c.reached = make(chan struct{})
	if c.done >= total {
		close(c.reached)
	}
	return c.reached
}

func (c *collector) onEvent(m *nats.Msg) {
	t := c.now()
	jobID, _, _ := strings.Cut(m.Header.Get(messages.HeaderMsgID), ":")
	i, ok := jobIndex(jobID)
	if !ok || i < 0 || i >= len(c.doneAt) {
		c.mu.Lock()
		c.other++
		c.mu.Unlock()
		return
	}
	if !c.doneAt[i].CompareAndSwap(0, t) {
		return // a repeated event: the first one counts
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done++
	if m.Subject == messages.SubjectJobFailed {
		c.failed++
	}
	c.last = t
	if c.reached != nil && c.done == c.target {
		close(c.reached)
	}
}

func (c *collector) counts() (done, failed, other int, last time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done, c.failed, c.other, time.Duration(c.last)
}

// latencies returns, for jobs [from, to) that have their event, the time
// from publish to event minus sub.
func (c *collector) latencies(from, to int, sub time.Duration) []time.Duration {
	out := make([]time.Duration, 0, to-from)
	for i := from; i < to; i++ {
		p, d := c.pubAt[i].Load(), c.doneAt[i].Load()
		if p == 0 || d == 0 {
			continue
		}
		out = append(out, time.Duration(d-p)-sub)
	}
	return out
}

// bounds returns the first publish and the last event (Unix ns) of jobs [from, to).
func (c *collector) bounds(from, to int) (first, last int64) {
	for i := from; i < to; i++ {
		if p := c.pubAt[i].Load(); p != 0 && (first == 0 || p < first) {
			first = p
		}
		if d := c.doneAt[i].Load(); d > last {
			last = d
		}
	}
	return first, last
}

// doneIn is how many of jobs [from, to) have their event.
func (c *collector) doneIn(from, to int) int {
	n := 0
	for i := from; i < to; i++ {
		if c.doneAt[i].Load() != 0 {
			n++
		}
	}
	return n
}

// nthEvent is when the k-th event (1-based) of jobs [from, to) came, 0 when
// fewer have theirs.
func (c *collector) nthEvent(from, to, k int) int64 {
	var done []int64
	for i := from; i < to; i++ {
		if d := c.doneAt[i].Load(); d != 0 {
			done = append(done, d)
		}
	}
	if k < 1 || k > len(done) {
		return 0
	}
	slices.Sort(done)
	return done[k-1]
}

// span is the time from the first publish of jobs [from, to) to their last event.
func (c *collector) span(from, to int) time.Duration {
	first, last := c.bounds(from, to)
	return time.Duration(last - first)
}

// steadyRate is the rate of events for jobs [from, to) in the window that
// leaves out skip after the first publish and skip before the last event:
// the warm-up (connections, the first wave) and the tail (the last, partial
// wave) of a finite run. ok is false when the run is too short for it.
func (c *collector) steadyRate(from, to int, skip time.Duration) (rate float64, ok bool) {
	first, last := c.bounds(from, to)
	a, b := first+int64(skip), last-int64(skip)
	if b-a < int64(time.Second) {
		return 0, false
	}
	n := 0
	for i := from; i < to; i++ {
		if d := c.doneAt[i].Load(); d >= a && d < b {
			n++
		}
	}
	return float64(n) / time.Duration(b-a).Seconds(), true
}

// timeline is the event rate of jobs [from, to) in consecutive windows of
// width step, from the first publish to the last event.
func (c *collector) timeline(from, to int, step time.Duration) []float64 {
	first, last := c.bounds(from, to)
	if last <= first || step <= 0 {
		return nil
	}
	counts := make([]int, (last-first)/int64(step)+1)
	for i := from; i < to; i++ {
		if d := c.doneAt[i].Load(); d != 0 {
			counts[(d-first)/int64(step)]++
		}
	}
	out := make([]float64, len(counts))
	for i, n := range counts {
		out[i] = float64(n) / step.Seconds()
	}
	return out
}

// readLines is a small helper for /proc files.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}
