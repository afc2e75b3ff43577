package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// results are what the scenarios found; a nil result did not run or failed.
type results struct {
	baseline *baselineResult
	// pipeline is the baseline loop plus the worker's I/O: Redis, one POST to
	// the fake Zoom, Redis.
	pipeline   *baselineResult
	latency0   *latency0Result
	latency200 *latency200Result
	// latency0Profile is the latency0 worker's CPU profile (a file in the
	// run's directory unless -cpuprofile names one).
	latency0Profile string
	rateLimit       *rateLimitResult
	quota           *quotaResult
	memory          *memoryResult
	readSide        *readSideResult // bench/readside.go
	scaleOut        *scaleOutResult // bench/scaling.go
	fairness        *fairnessResult
	errs            map[string]error
	notes           []string // what went wrong besides the measurements
}

type baselineResult struct {
	n       int
	elapsed time.Duration
	rate    float64
	costs   costs
}

type latency0Result struct {
	n       int
	elapsed time.Duration
	rate    float64
	failed  int
	costs   costs
}

type latency200Result struct {
	n        int
	latency  time.Duration
	conc     int
	elapsed  time.Duration
	rate     float64
	bound    float64 // C/L
	steady   float64 // rate without the warm-up and the tail
	steadyOK bool
	full     pcts // added latency, all jobs published at once
	// startup is how long after the first publish the C-th event came,
	// less L: when the first wave of C jobs had all started, and its own
	// time in the worker. ingest is when the server had acknowledged
	// every job's publish.
	startup, ingest time.Duration
	halfRate        float64
	halfN           int
	half            pcts // added latency at half the achieved rate
	failed          int
	costs           costs
}

type rateLimitResult struct {
	rate float64
	createRun
}

type memoryResult struct {
	jobs        int
	latency     time.Duration
	maxInFlight int
	atPeak      childStats // the sample with the most jobs in flight
	maxRSS      childStats // the sample with the highest RSS
	hwm         int64
	failed      int
	costs       costs
}

// pcts summarises durations.
type pcts struct {
	n             int
	p50, p99, max time.Duration
}

func percentiles(d []time.Duration) pcts {
	if len(d) == 0 {
		return pcts{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return pcts{n: len(s), p50: at(0.50), p99: at(0.99), max: s[len(s)-1]}
}

// row is one line of the table. verdict is PASS, MISS, ERROR or "" (no target).
type row struct {
	scenario, metric, result, target, verdict string
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// rows builds the table from the results, in scenario order.
func (r *results) rows(o options) []row {
	var rows []row
	add := func(sc, metric, result, target, v string) { rows = append(rows, row{sc, metric, result, target, v}) }
	failedRow := func(sc string, failed, of int) {
		if failed > 0 {
			add(sc, "jobs failed (job.failed events)", fmt.Sprintf("%d of %d", failed, of), "0", "MISS")
		}
	}
	cpuRow := func(sc string, c costs, worker string) {
		add(sc, "CPU s per 1000 jobs", fmt.Sprintf("%s %.3f · bench process (NATS server, fake Zoom, load) %.3f · redis-server %.3f",
			worker, per1000(c.workerCPU, c.jobs), per1000(c.benchCPU, c.jobs), per1000(c.redisCPU, c.jobs)), "", "")
	}
	natsRow := func(sc string, c costs, who string) {
		add(sc, "NATS msgs per job (server count)", fmt.Sprintf("%s sent %.2f, received %.2f · all clients in %.2f, out %.2f",
			who, c.natsSent, c.natsRecv, c.natsInAll, c.natsOutAll), "", "")
	}
	errRow := func(sc string) bool {
		if err := r.errs[sc]; err != nil {
			add(sc, "error", oneLine(err.Error()), "", "ERROR")
			return true
		}
		return false
	}

	if o.only[scBaseline] && !errRow(scBaseline) && r.baseline != nil {
		b := r.baseline
		add(scBaseline, "throughput (take, publish event + await ack, ack)", fmt.Sprintf("**%s msgs/s** (%d in %s, C=%d)",
			fmtNum(b.rate), b.n, fmtDur(b.elapsed), o.concurrency), "", "")
		natsRow(scBaseline, b.costs, "loop")
		cpuRow(scBaseline, b.costs, "loop")
		add(scBaseline, "peak RSS of the loop process", fmtMiB(b.costs.peakRSS), "", "")
	}
	if o.only[scBaseline] && r.pipeline != nil {
		b := r.pipeline
		add(scPipeline, "throughput of the minimal pipeline: take, Redis SET NX, create-meeting POST to the fake Zoom, Redis SET, publish event + await ack, ack",
			fmt.Sprintf("**%s jobs/s** (%d in %s, C=%d)", fmtNum(b.rate), b.n, fmtDur(b.elapsed), o.concurrency), "", "")
		cpuRow(scPipeline, b.costs, "loop")
	}
	if o.only[scLatency0] && !errRow(scLatency0) && r.latency0 != nil {
		l := r.latency0
		res, v := fmt.Sprintf("**%s jobs/s** (%d in %s)", fmtNum(l.rate), l.n, fmtDur(l.elapsed)), ""
		if r.pipeline != nil {
			share := l.rate / r.pipeline.rate
			res += fmt.Sprintf(" = %.0f%% of the minimal pipeline", 100*share)
			v = verdict(share >= 0.7)
		} else {
			res += " (pipeline not run)"
		}
		if r.baseline != nil {
			res += fmt.Sprintf(", %.0f%% of the bare loop (a floor of cost, not a peer)", 100*l.rate/r.baseline.rate)
		}
		add(scLatency0, "throughput, first publish to last meeting.created", res, "≥ 70% of pipeline", v)
		add(scLatency0, "CPU ms per job, worker process", fmt.Sprintf("**%.3f**", per1000(l.costs.workerCPU, l.costs.jobs)),
			"≤ 0.12", verdict(per1000(l.costs.workerCPU, l.costs.jobs) <= 0.12))
		add(scLatency0, "Zoom calls per job", fmt.Sprintf("%.3f (meetings created per job %.3f)", l.costs.zoomCalls, l.costs.zoomCreated),
			"exactly 1", verdict(math.Abs(l.costs.zoomCalls-1) < 0.0005 && math.Abs(l.costs.zoomCreated-1) < 0.0005))
		add(scLatency0, "Redis round trips per job (worker client; a pipeline is 1)", fmt.Sprintf("%.2f (%.2f commands; %.2f at the server with Lua-internal calls)",
			l.costs.redisTrips, l.costs.redisCmdsClient, l.costs.redisCmds), "≤ 3", verdict(l.costs.redisTrips <= 3.0005))
		natsRow(scLatency0, l.costs, "worker")
		cpuRow(scLatency0, l.costs, "worker")
		add(scLatency0, "peak RSS of the worker process", fmtMiB(l.costs.peakRSS), "", "")
		failedRow(scLatency0, l.failed, l.n)
	}
	if o.only[scLatency200] && !errRow(scLatency200) && r.latency200 != nil {
		l := r.latency200
		rate, how := l.rate, "first publish to last event"
		if l.steadyOK {
			rate, how = l.steady, fmt.Sprintf("steady state, without the first and last %s", fmtDur(steadySkip(l.latency)))
		}
		share := rate / l.bound
		add(scLatency200, "throughput, all jobs published at once", fmt.Sprintf("**%s jobs/s** (%s) = %.0f%% of C/L = %d/%s = %s/s · %s jobs/s first publish to last event (%d in %s)",
			fmtNum(rate), how, 100*share, l.conc, fmtDur(l.latency), fmtNum(l.bound), fmtNum(l.rate), l.n, fmtDur(l.elapsed)),
			"≥ 98% of C/L steady, ≥ 95% first publish to last event", verdict(share >= 0.98 && (!l.steadyOK || l.rate/l.bound >= 0.95)))
		add(scLatency200, "time added to Zoom's latency, all at once (queueing included)", fmt.Sprintf("p50 %s, p99 %s, max %s",
			fmtDur(l.full.p50), fmtDur(l.full.p99), fmtDur(l.full.max)), "", "")
		if l.half.n > 0 {
			add(scLatency200, fmt.Sprintf("time added to Zoom's latency at half load (%s jobs/s paced)", fmtNum(l.halfRate)),
				fmt.Sprintf("p50 %s, **p99 %s**, max %s (%d jobs)", fmtDur(l.half.p50), fmtDur(l.half.p99), fmtDur(l.half.max), l.half.n),
				"p99 ≤ 10 ms", verdict(l.half.p99 <= 10*time.Millisecond))
		}
		cpuRow(scLatency200, l.costs, "worker")
		add(scLatency200, "peak RSS of the worker process", fmtMiB(l.costs.peakRSS), "", "")
		failedRow(scLatency200, l.failed, l.n+l.halfN)
	}
	if o.only[scRateLimit] && !errRow(scRateLimit) && r.rateLimit != nil {
		l := r.rateLimit
		share := l.achieved / l.rate
		add(scRateLimit, "Zoom create rate, 3 workers sharing the limit", fmt.Sprintf("**%.1f/s = %.1f%% of R=%g/s** (%d meetings in %s)",
			l.achieved, 100*share, l.rate, l.created, fmtDur(l.elapsed)), "≥ 95% of R", verdict(share >= 0.95))
		limitedShare := 0.0
		if l.requests > 0 {
			limitedShare = float64(l.limited) / float64(l.requests)
		}
		add(scRateLimit, "429s the fake Zoom served", fmt.Sprintf("%d of %d requests = %.2f%%", l.limited, l.requests, 100*limitedShare),
			"≤ 1%", verdict(limitedShare <= 0.01))
		add(scRateLimit, "Redis round trips per job (3 workers; limiter included)", fmt.Sprintf("%.2f (%.2f commands; %.2f at the server with Lua-internal calls)",
			l.costs.redisTrips, l.costs.redisCmdsClient, l.costs.redisCmds), "", "")
		cpuRow(scRateLimit, l.costs, "3 workers")
		failedRow(scRateLimit, l.failed, l.jobs)
	}
	if o.only[scQuota] && !errRow(scQuota) && r.quota != nil {
		r.quota.rows(add)
		failedRow(scQuota, r.quota.failed, r.quota.jobs)
	}
	if o.only[scMemory] && !errRow(scMemory) && r.memory != nil {
		m := r.memory
		add(scMemory, fmt.Sprintf("peak RSS, %d jobs in flight (Zoom latency %s, C=%d)", m.jobs, fmtDur(m.latency), m.jobs),
			fmt.Sprintf("**%s** (VmHWM) · with %d in flight: RSS %s, Go heap %s (GC goal %s), stacks %s, %d goroutines · highest RSS sampled %s, with %d in flight",
				fmtMiB(m.hwm), m.maxInFlight, fmtMiB(m.atPeak.RSS), fmtMiB(int64(m.atPeak.HeapBytes)), fmtMiB(int64(m.atPeak.HeapGoal)),
				fmtMiB(int64(m.atPeak.StackBytes)), m.atPeak.Goroutines, fmtMiB(m.maxRSS.RSS), m.maxRSS.InFlight),
			"≤ 64 MiB", verdict(m.hwm > 0 && m.hwm <= 64<<20 && m.maxInFlight >= m.jobs))
		failedRow(scMemory, m.failed, m.jobs)
	}
	rows = append(rows, r.readSideRows(o)...)
	rows = append(rows, r.scalingRows(o)...)
	return rows
}

func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| scenario | metric | result | target | |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.scenario, r.metric, esc(r.result), r.target, r.verdict)
	}
}

// writeDetails prints what explains the table: Redis commands per job, and
// the warnings the workers logged.
func (r *results) writeDetails(w io.Writer) {
	perJob := func(m map[string]float64) string {
		keys := make([]string, 0, len(m))
		for k, v := range m {
			if v >= 0.005 {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	detail := func(sc string, c costs) {
		if c.redisUnavailable != "" {
			fmt.Fprintf(w, "- %s: no Redis server counters: %s\n", sc, c.redisUnavailable)
		}
		if len(c.redisTripsBy) > 0 {
			fmt.Fprintf(w, "- %s: Redis round trips per job, by what the worker sent: %s\n", sc, perJob(c.redisTripsBy))
		}
		if len(c.redisByCmd) > 0 {
			fmt.Fprintf(w, "- %s: Redis commands per job at the server (calls inside Lua scripts included): %s\n", sc, perJob(c.redisByCmd))
		}
		if c.warns+c.errs > 0 {
			fmt.Fprintf(w, "- %s: the worker logged %d warnings and %d errors, e.g.:\n", sc, c.warns, c.errs)
			for _, s := range c.logSample { // one of each kind
				fmt.Fprintf(w, "  - `%s`\n", strings.ReplaceAll(s, "`", "'"))
			}
		}
	}
	if r.baseline != nil {
		detail(scBaseline, r.baseline.costs)
	}
	if r.pipeline != nil {
		detail(scPipeline, r.pipeline.costs)
	}
	if r.latency0 != nil {
		detail(scLatency0, r.latency0.costs)
	}
	if l := r.latency200; l != nil {
		if why := l.whereTimeWent(); why != "" {
			fmt.Fprintf(w, "- %s: %s\n", scLatency200, why)
		}
		detail(scLatency200, l.costs)
	}
	if r.rateLimit != nil {
		if len(r.rateLimit.timeline) > 1 {
			parts := make([]string, len(r.rateLimit.timeline))
			for i, v := range r.rateLimit.timeline {
				parts[i] = fmt.Sprintf("%.0f", v)
			}
			fmt.Fprintf(w, "- %s: creates per second in windows of %s (the last one partial): %s\n", scRateLimit, rateStep, strings.Join(parts, " "))
		}
		detail(scRateLimit, r.rateLimit.costs)
	}
	if r.memory != nil {
		detail(scMemory, r.memory.costs)
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "- note: %s\n", oneLine(n))
	}
}

func per1000(seconds float64, jobs int) float64 {
	if jobs == 0 {
		return 0
	}
	return seconds * 1000 / float64(jobs)
}

func fmtNum(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	if len(s) <= 3 || strings.ContainsAny(s, "eE+-NI") {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func fmtMiB(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// whereTimeWent splits the first-publish-to-last-event time of the jobs
// published at once: ⌈n/C⌉ runs of L back to back in each slot (the most a
// slot runs; the ceiling of the rate), the start-up (the first wave), and
// what each later run of a slot added to L.
func (l *latency200Result) whereTimeWent() string {
	if l.conc < 1 || l.n < l.conc || l.startup <= 0 {
		return ""
	}
	runs := (l.n + l.conc - 1) / l.conc
	floor := time.Duration(runs) * l.latency
	perRun := (l.elapsed - floor - l.startup) / time.Duration(max(runs-1, 1))
	return fmt.Sprintf("first publish to last event %s ≈ %d runs of L per slot (%s: the rate's ceiling, %.1f%% of C/L) + start-up %s "+
		"(the first %d events came by L + %s after the first publish; the server had acknowledged all %d publishes %s after it) "+
		"+ %s per later run (the worker's own time per job, beyond Zoom's)",
		fmtDur(l.elapsed), runs, fmtDur(floor), 100*float64(l.n)/l.bound/floor.Seconds(), fmtDur(l.startup),
		l.conc, fmtDur(l.startup), l.n, fmtDur(l.ingest), fmtDur(perRun))
}

// writeShortfalls says, for each of issue 16's targets a run misses, by how
// much: the table's MISS alone does not say whether a figure is 2% or 2×
// off. The CPU figure is set beside the minimal pipeline's loop of the same
// run, which costs the same I/O without the framework: the machine's speed
// moves both.
func (r *results) writeShortfalls(w io.Writer) {
	var lines []string
	if l := r.latency0; l != nil && l.costs.jobs > 0 {
		cpu := per1000(l.costs.workerCPU, l.costs.jobs)
		if cpu > 0.12 {
			s := fmt.Sprintf("latency0 CPU per job %.3f ms against ≤ 0.12: %.0f%% over", cpu, 100*(cpu/0.12-1))
			if p := r.pipeline; p != nil && p.costs.jobs > 0 {
				loop := per1000(p.costs.workerCPU, p.costs.jobs)
				s += fmt.Sprintf("; %.2f× the minimal pipeline's loop in this run (%.3f ms), whose own cost is what the machine charges for the I/O", cpu/loop, loop)
			}
			lines = append(lines, s)
		}
		if p := r.pipeline; p != nil && p.rate > 0 && l.rate/p.rate < 0.7 {
			lines = append(lines, fmt.Sprintf("latency0 throughput %.0f%% of the minimal pipeline against ≥ 70%%: %.0f points short", 100*l.rate/p.rate, 70-100*l.rate/p.rate))
		}
	}
	if l := r.latency200; l != nil && l.bound > 0 {
		if first := l.rate / l.bound; first < 0.95 {
			lines = append(lines, fmt.Sprintf("latency200 first publish to last event %.1f%% of C/L against ≥ 95%%: %.1f points short (the ceiling of %d jobs on %d slots is in the line below the table)",
				100*first, 95-100*first, l.n, l.conc))
		}
		if l.steadyOK && l.steady/l.bound < 0.98 {
			lines = append(lines, fmt.Sprintf("latency200 steady state %.1f%% of C/L against ≥ 98%%: %.1f points short", 100*l.steady/l.bound, 98-100*l.steady/l.bound))
		}
	}
	for _, s := range lines {
		fmt.Fprintf(w, "- short of a target: %s\n", s)
	}
}
