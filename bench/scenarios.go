package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// Scenario names, for -only and the table.
const (
	scBaseline   = "baseline"
	scPipeline   = "pipeline" // run with baseline
	scLatency0   = "latency0"
	scLatency200 = "latency200"
	scRateLimit  = "ratelimit"
	scMemory     = "memory"
)

var allScenarios = []string{scBaseline, scLatency0, scLatency200, scRateLimit, scQuota, scMemory, scReadSide, scScaleOut, scFairness}

// bench runs the scenarios on one redis-server and collects the results.
type bench struct {
	opts  options
	dir   string
	redis *testenv.Redis
	log   func(format string, args ...any)
	res   results
}

// window measures what happened between begin and end: the children's CPU
// and round trips, the servers' counters, the fake Zoom's counters.
type window struct {
	st                 *stage
	kids               []*child
	markAt             time.Duration // since the collector's start, when the children were marked
	kid0, kid1         []childStats
	redis0, redis1     redisSnapshot
	nats0, nats1       natsSnapshot
	zoom0, zoom1       zoomtest.Stats
	zoomCPU0, zoomCPU1 float64 // the fake's process, when it has its own
	selfCPU0, selfCPU1 float64
	redisErr           error
}

func (b *bench) begin(ctx context.Context, st *stage, kids []*child) (*window, error) {
	w := &window{st: st, kids: kids}
	var err error
	if w.redis0, err = snapshotRedis(ctx, b.redis); err != nil {
		w.redisErr = err
	}
	w.nats0 = st.natsSnapshot(workerConnName)
	w.zoom0, w.zoomCPU0 = st.zoomStats()
	u, s, _ := cpuTimes()
	w.selfCPU0 = u + s
	w.markAt = time.Duration(st.events.now())
	for _, k := range kids {
		ks, err := k.ask("mark")
		if err != nil {
			return nil, err
		}
		w.kid0 = append(w.kid0, ks)
	}
	return w, nil
}

func (b *bench) end(ctx context.Context, w *window) error {
	for _, k := range w.kids {
		ks, err := k.ask("stats")
		if err != nil {
			return err
		}
		w.kid1 = append(w.kid1, ks)
	}
	u, s, _ := cpuTimes()
	w.selfCPU1 = u + s
	var err error
	if w.redis1, err = snapshotRedis(ctx, b.redis); err != nil {
		w.redisErr = err
	}
	w.nats1 = w.st.natsSnapshot(workerConnName)
	w.zoom1, w.zoomCPU1 = w.st.zoomStats()
	return nil
}

// costs are the per-job costs a window saw.
type costs struct {
	jobs                      int
	workerCPU, benchCPU       float64 // seconds
	redisCPU                  float64
	redisTrips, redisCmds     float64            // per job: client round trips, server commands
	redisCmdsClient           float64            // per job: commands the workers sent
	redisByCmd                map[string]float64 // at the server, Lua-internal calls included
	redisTripsBy              map[string]float64 // round trips from the workers, by what they sent
	natsSent, natsRecv        float64            // per job, by the worker connections
	natsInAll, natsOutAll     float64            // per job, all clients
	zoomCalls, zoomCreated    float64            // per job
	zoomRequests, zoomLimited int
	peakRSS                   int64
	warns, errs               int64
	logSample                 []string
	redisUnavailable          string // why the Redis counters are missing
}

func (w *window) costs(jobs int) costs {
	c := costs{jobs: jobs, redisByCmd: map[string]float64{}, redisTripsBy: map[string]float64{}}
	per := func(d int64) float64 { return float64(d) / float64(jobs) }
	for i := range w.kid1 {
		k0, k1 := w.kid0[i], w.kid1[i]
		c.workerCPU += k1.cpu() - k0.cpu()
		c.redisTrips += per(k1.RedisTrips - k0.RedisTrips)
		c.redisCmdsClient += per(k1.RedisCmds - k0.RedisCmds)
		for name, v := range k1.RedisByName {
			if d := v - k0.RedisByName[name]; d > 0 {
				c.redisTripsBy[name] += per(d)
			}
		}
		c.peakRSS = max(c.peakRSS, k1.HWM)
		c.warns += k1.Warns
		c.errs += k1.Errors
		for _, s := range k1.LogSample {
			if len(c.logSample) < 5 && (i == 0 || !slices.ContainsFunc(c.logSample, func(t string) bool { return strings.HasSuffix(t, s) })) {
				c.logSample = append(c.logSample, w.kids[i].name+": "+s)
			}
		}
	}
	c.benchCPU = w.selfCPU1 - w.selfCPU0 + w.zoomCPU1 - w.zoomCPU0
	if w.redisErr == nil {
		c.redisCPU = w.redis1.cpu - w.redis0.cpu
		c.redisCmds = per(w.redis1.commands - w.redis0.commands - 1) // less the bench's INFO
		for k, v := range w.redis1.byCmd {
			if d := v - w.redis0.byCmd[k]; d > 0 && k != "info" {
				c.redisByCmd[k] = per(d)
			}
		}
	} else {
		c.redisUnavailable = w.redisErr.Error()
	}
	c.natsSent, c.natsRecv = per(w.nats1.inWorker-w.nats0.inWorker), per(w.nats1.outWorker-w.nats0.outWorker)
	c.natsInAll, c.natsOutAll = per(w.nats1.inAll-w.nats0.inAll), per(w.nats1.outAll-w.nats0.outAll)
	c.zoomRequests = w.zoom1.Requests - w.zoom0.Requests
	c.zoomLimited = w.zoom1.RateLimited - w.zoom0.RateLimited
	c.zoomCalls = per(int64(c.zoomRequests))
	c.zoomCreated = per(int64(w.zoom1.MeetingsCreated - w.zoom0.MeetingsCreated))
	return c
}

// onStage runs a scenario's measurement f on a fresh stage (name, the fake
// Zoom's options, room for jobs' events); when f returns, the children it
// started on the stage are stopped and the stage is closed.
func (b *bench) onStage(ctx context.Context, name string, fake zoomtest.Options, jobs int, f func(st *stage) error) error {
	st, err := newStage(ctx, b.dir, name, b.redis, fake, jobs)
	if err != nil {
		return err
	}
	defer st.close()
	defer b.stopKids(st)
	return f(st)
}

// startKids starts n children of one kind on st, named for the stage; they
// run until onStage stops them.
func (b *bench) startKids(ctx context.Context, st *stage, mode string, n, conc int, rate float64, tweak ...func(*childConfig)) ([]*child, error) {
	tag := st.name
	var kids []*child
	for i := range n {
		name := tag
		if n > 1 {
			name = fmt.Sprintf("%s-%d", tag, i+1)
		}
		cfg := childConfig{Mode: mode, Name: name, NATSURL: st.NATS.URL, RedisURL: b.redis.URL, ZoomURL: st.ZoomURL,
			Concurrency: conc, RateLimit: rate, Verbose: b.opts.verbose, RedisBuffer: b.opts.redisBuffer,
			CPUProfile: profilePath(b.opts.cpuProfile, name), MemProfile: profilePath(b.opts.memProfile, name)}
		for _, f := range tweak {
			f(&cfg)
		}
		if tag == scLatency0 && mode == "worker" {
			if cfg.CPUProfile == "" {
				// Always profiled, so that the table can say what is left
				// of the CPU per job (sampling costs about 1% of it).
				cfg.CPUProfile = filepath.Join(b.dir, "cpu.latency0.out")
			}
			b.res.latency0Profile = cfg.CPUProfile
		}
		k, _, err := startChild(ctx, cfg)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
		st.kids = append(st.kids, k)
	}
	return kids, nil
}

// stopKids stops the stage's children gracefully, killing any that do not
// stop. What goes wrong is noted under the table: the measurements are
// already taken.
func (b *bench) stopKids(st *stage) {
	kids := st.kids
	st.kids = nil
	for _, k := range kids {
		s, err := k.stop()
		if err == nil && s.Err != "" {
			err = fmt.Errorf("child %s: stop: %s", k.name, s.Err)
		}
		if err != nil {
			b.note("%v", err)
		}
	}
}

func (b *bench) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.log("%s", msg)
	b.res.notes = append(b.res.notes, msg)
}

// profilePath turns "cpu.out" into "cpu.latency0.out" for the child tag.
func profilePath(base, tag string) string {
	if base == "" {
		return ""
	}
	ext := filepath.Ext(base)
	abs, err := filepath.Abs(strings.TrimSuffix(base, ext) + "." + tag + ext)
	if err != nil {
		return base + "." + tag
	}
	return abs
}

// drive publishes jobs [from, to) (at pace perSecond, 0 = at once) and
// waits until every job published so far has its event.
func (b *bench) drive(ctx context.Context, st *stage, from, to int, perSecond float64) error {
	reached := st.events.expect(to)
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, b.opts.timeout)
	defer cancel()
	pubErr := make(chan error, 1)
	go func() { pubErr <- st.publish(ctx, from, to, perSecond) }()
	for {
		select {
		case <-reached:
			if pubErr == nil {
				return nil
			}
			return <-pubErr
		case err := <-pubErr:
			if err != nil {
				return err
			}
			pubErr = nil
		case <-ctx.Done():
			if parent.Err() != nil {
				return parent.Err()
			}
			done, failed, _, _ := st.events.counts()
			return fmt.Errorf("timed out after %s with %d of %d jobs done (%d failed)", b.opts.timeout, done, to, failed)
		}
	}
}

// 1. Baseline: the bare JetStream loop over n pre-published jobs; then the
// minimal pipeline: the same loop with the worker's I/O (Redis, one POST to
// the fake Zoom, Redis) and no framework.
func (b *bench) runBaseline(ctx context.Context) error {
	var err error
	if b.res.baseline, err = b.runLoop(ctx, "baseline", scBaseline); err != nil {
		return err
	}
	b.res.pipeline, err = b.runLoop(ctx, "pipeline", scPipeline)
	return err
}

func (b *bench) runLoop(ctx context.Context, mode, tag string) (r *baselineResult, err error) {
	n, conc := b.opts.n, b.opts.concurrency
	err = b.onStage(ctx, tag, zoomtest.Options{}, n, func(st *stage) error {
		if err := st.publish(ctx, 0, n, 0); err != nil {
			return err
		}
		kids, err := b.startKids(ctx, st, mode, 1, conc, 0)
		if err != nil {
			return err
		}
		reached := st.events.expect(n)
		w, err := b.begin(ctx, st, kids)
		if err != nil {
			return err
		}
		select {
		case <-reached:
		case <-time.After(b.opts.timeout):
			done, _, _, _ := st.events.counts()
			return fmt.Errorf("%s: timed out after %s with %d of %d messages done", tag, b.opts.timeout, done, n)
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := b.end(ctx, w); err != nil {
			return err
		}
		_, _, _, last := st.events.counts()
		elapsed := last - w.markAt
		r = &baselineResult{n: n, elapsed: elapsed, rate: float64(n) / elapsed.Seconds(), costs: w.costs(n)}
		b.log("%s: %d messages in %s: %.0f msgs/s", tag, n, elapsed.Round(time.Millisecond), r.rate)
		return nil
	})
	return r, err
}

// runWorkers starts procs worker processes on st (rate: their shared limit)
// and measures the window in which jobs [0, n) are published at once and
// done.
func (b *bench) runWorkers(ctx context.Context, st *stage, n, procs int, rate float64, tweak ...func(*childConfig)) (*window, error) {
	kids, err := b.startKids(ctx, st, "worker", procs, b.opts.concurrency, rate, tweak...)
	if err != nil {
		return nil, err
	}
	w, err := b.begin(ctx, st, kids)
	if err != nil {
		return nil, err
	}
	if err := b.drive(ctx, st, 0, n, 0); err != nil {
		return nil, err
	}
	if err := b.end(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// 2. The worker with a Zoom that answers at once.
func (b *bench) runLatency0(ctx context.Context) error {
	n := b.opts.n
	return b.onStage(ctx, scLatency0, zoomtest.Options{}, n, func(st *stage) error {
		w, err := b.runWorkers(ctx, st, n, 1, 0)
		if err != nil {
			return err
		}
		span := st.events.span(0, n)
		_, failed, _, _ := st.events.counts()
		r := &latency0Result{n: n, elapsed: span, rate: float64(n) / span.Seconds(), failed: failed, costs: w.costs(n)}
		b.res.latency0 = r
		b.log("latency0: %d jobs in %s: %.0f jobs/s", n, span.Round(time.Millisecond), r.rate)
		return nil
	})
}

// 3. The worker with a Zoom that takes L per call: all at once, then at half
// that rate. The fake Zoom runs in a process of its own (useOwnZoom).
func (b *bench) runLatency200(ctx context.Context) error {
	n, conc, lat := b.opts.latencyN, b.opts.concurrency, b.opts.latency
	half := max(n/2, 1)
	return b.onStage(ctx, scLatency200, zoomtest.Options{Latency: lat}, n+half, func(st *stage) error {
		if err := st.useOwnZoom(ctx, lat); err != nil {
			return err
		}
		w, err := b.runWorkers(ctx, st, n, 1, 0)
		if err != nil {
			return err
		}
		span := st.events.span(0, n)
		r := &latency200Result{n: n, latency: lat, conc: conc, elapsed: span, rate: float64(n) / span.Seconds(),
			bound: float64(conc) / lat.Seconds(), full: percentiles(st.events.latencies(0, n, lat)), costs: w.costs(n)}
		r.steady, r.steadyOK = st.events.steadyRate(0, n, steadySkip(lat))
		first, _ := st.events.bounds(0, n)
		if wave := st.events.nthEvent(0, n, min(conc, n)); wave != 0 {
			r.startup = time.Duration(wave-first) - lat
		}
		r.ingest = time.Duration(st.acked.Load() - first)
		b.res.latency200 = r
		b.log("latency200: %d jobs in %s: %.0f jobs/s, steady %.0f jobs/s (C/L = %.0f/s)", n, span.Round(time.Millisecond), r.rate, r.steady, r.bound)

		r.halfRate = r.rate / 2
		r.halfN = half
		if err := b.drive(ctx, st, n, n+half, r.halfRate); err != nil {
			return fmt.Errorf("half load: %w", err)
		}
		r.half = percentiles(st.events.latencies(n, n+half, lat))
		b.log("latency200: half load, %d jobs at %.0f/s: added p50 %s, p99 %s", half, r.halfRate, fmtDur(r.half.p50), fmtDur(r.half.p99))
		_, failed, _, _ := st.events.counts()
		r.failed = failed
		return nil
	})
}

// steadySkip is how much of the start and the end of a run at Zoom latency
// lat the steady-state rate leaves out.
func steadySkip(lat time.Duration) time.Duration { return max(3*lat, 500*time.Millisecond) }

// rateStep is the width of the windows of the ratelimit scenario's timeline.
const rateStep = 5 * time.Second

// 4. Three workers sharing a rate limit of R against a Zoom enforcing R.
func (b *bench) runRateLimit(ctx context.Context) error {
	rate, jobs := b.opts.rate, b.opts.rateJobs
	return b.onStage(ctx, scRateLimit, zoomtest.Options{RateLimit: rate}, jobs, func(st *stage) error {
		cr, err := b.runCreates(ctx, st, jobs, rate)
		if err != nil {
			return err
		}
		b.res.rateLimit = &rateLimitResult{rate: rate, createRun: *cr}
		b.log("ratelimit: %d meetings in %s: %.1f/s of %.0f/s; %d of %d requests answered 429",
			cr.created, cr.elapsed.Round(time.Millisecond), cr.achieved, rate, cr.limited, cr.requests)
		return nil
	})
}

// 5. Memory with many jobs in flight at once.
func (b *bench) runMemory(ctx context.Context) error {
	jobs, lat := b.opts.memJobs, b.opts.memLatency
	return b.onStage(ctx, scMemory, zoomtest.Options{Latency: lat}, jobs, func(st *stage) error {
		kids, err := b.startKids(ctx, st, "worker", 1, jobs, 0)
		if err != nil {
			return err
		}
		k := kids[0]
		w, err := b.begin(ctx, st, kids)
		if err != nil {
			return err
		}
		r := &memoryResult{jobs: jobs, latency: lat}
		driven := make(chan error, 1)
		go func() { driven <- b.drive(ctx, st, 0, jobs, 0) }()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		heapTaken := false
		for driven != nil {
			select {
			case err := <-driven:
				if err != nil {
					return err
				}
				driven = nil
				continue
			case <-tick.C:
			}
			s, err := k.ask("stats")
			if err != nil {
				return err
			}
			if s.InFlight > r.maxInFlight || (s.InFlight == r.maxInFlight && s.RSS > r.atPeak.RSS) {
				r.maxInFlight, r.atPeak = s.InFlight, s
			}
			if s.RSS > r.maxRSS.RSS {
				r.maxRSS = s
			}
			if !heapTaken && s.InFlight >= jobs && b.opts.memProfile != "" {
				_, _ = k.ask("heap")
				heapTaken = true
			}
		}
		if err := b.end(ctx, w); err != nil {
			return err
		}
		r.costs = w.costs(jobs)
		r.hwm = w.kid1[0].HWM
		_, r.failed, _, _ = st.events.counts()
		b.res.memory = r
		b.log("memory: %d jobs, at most %d in flight: RSS %s then, peak %s", jobs, r.maxInFlight, fmtMiB(r.atPeak.RSS), fmtMiB(r.hwm))
		return nil
	})
}
