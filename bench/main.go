// Command bench measures zoom-worker on this machine and prints a markdown
// table against the project's performance targets: `make bench`, or
// `go run ./bench -h` for the flags.
//
// It needs nothing running: it starts an embedded NATS server (JetStream on
// a temporary directory) per scenario, one redis-server process, and the
// fake Zoom of zoom/zoomtest, all on free ports of 127.0.0.1. The code under
// measurement runs in child processes (the bench binary re-executed), wired
// as cmd/zoom-worker wires it, so their CPU time and memory are their own.
//
// Scenarios:
//
//	baseline    a bare JetStream loop at the worker's concurrency: take a job,
//	            publish one small event and await its ack, ack the job
//	latency0    the worker, Zoom answering at once: throughput against the
//	            baseline, and per job: Zoom calls, Redis round trips, NATS
//	            messages, CPU
//	latency200  the worker, Zoom taking 200 ms: throughput against C/L, and
//	            the time the worker adds to Zoom's latency at half that load;
//	            the fake Zoom runs in a process of its own here, as Zoom is
//	            remote (in the bench process the NATS server, storing the
//	            burst of publishes, held the first calls' answers back)
//	ratelimit   three workers sharing a rate limit of R against a Zoom that
//	            enforces R: the rate achieved, the 429s
//	quota       three workers on a Business account whose Medium quota another
//	            app spends half of: the share of what is left they use, the 429s
//	memory      the worker's peak RSS with 1,000 jobs in flight
//
// The targets are printed with PASS or MISS; the bench never fails on them.
// It exits 1 only when it could not measure (a scenario failed to run).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/worker"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(childMain(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the bench's flags.
type options struct {
	n           int
	latencyN    int
	concurrency int
	rate        float64
	rateJobs    int
	latency     time.Duration
	memJobs     int
	memLatency  time.Duration
	only        map[string]bool
	onlyList    []string
	cpuProfile  string
	memProfile  string
	timeout     time.Duration
	verbose     bool
	redisBuffer int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./bench [flags]   (or: make bench BENCH_ARGS='...')\n\n"+
			"Runs the scenarios %s and prints a markdown table.\n\n", strings.Join(allScenarios, ", "))
		fs.PrintDefaults()
	}
	fs.IntVar(&o.n, "n", 10000, "jobs of the baseline, pipeline and latency0 scenarios")
	fs.IntVar(&o.latencyN, "n-latency", 4000, "latency200 scenario: jobs published at once (half as many more at half load); scaleout runs as many waves")
	fs.IntVar(&o.concurrency, "c", worker.DefaultConcurrency, "concurrency of each worker (and of the baseline loop)")
	fs.Float64Var(&o.rate, "rate", 50, "ratelimit scenario: the shared rate limit R, requests/s (ZOOMW_RATE_LIMIT), which the fake Zoom enforces too")
	fs.IntVar(&o.rateJobs, "rate-jobs", 0, "ratelimit scenario: jobs (0 = 15 seconds' worth at R)")
	fs.DurationVar(&o.latency, "latency", 200*time.Millisecond, "latency200 scenario: the fake Zoom's latency L")
	fs.IntVar(&o.memJobs, "mem-jobs", 1000, "memory scenario: jobs in flight at once (also the worker's concurrency)")
	fs.DurationVar(&o.memLatency, "mem-latency", 2*time.Second, "memory scenario: the fake Zoom's latency, long enough to hold every job in flight")
	only := fs.String("only", "", "comma-separated scenarios to run (default all): "+strings.Join(allScenarios, ","))
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of each worker (and baseline) process to this file, tagged per scenario: cpu.out → cpu.latency0.out")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile of each worker process, tagged per scenario (memory: taken with every job in flight)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "longest wait for one scenario's jobs")
	fs.BoolVar(&o.verbose, "v", false, "pass the workers' warnings and errors to stderr")
	fs.IntVar(&o.redisBuffer, "redis-buffer", 0, "experiment: size in bytes of each Redis connection's read and write buffers in the workers (0 = go-redis's defaults, as cmd/zoom-worker)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	switch {
	case o.n < 1 || o.latencyN < 1:
		return o, errors.New("-n and -n-latency must be at least 1")
	case o.concurrency < 1:
		return o, errors.New("-c must be at least 1")
	case o.rate <= 0:
		return o, errors.New("-rate must be above 0")
	case o.latency <= 0 || o.memLatency <= 0:
		return o, errors.New("-latency and -mem-latency must be above 0")
	case o.memJobs < 1:
		return o, errors.New("-mem-jobs must be at least 1")
	case o.timeout <= 0:
		return o, errors.New("-timeout must be above 0")
	}
	if o.rateJobs <= 0 {
		o.rateJobs = max(int(15*o.rate), 10)
	}
	o.only = map[string]bool{}
	if *only == "" {
		o.onlyList = allScenarios
	} else {
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			if !contains(allScenarios, s) {
				return o, fmt.Errorf("-only: unknown scenario %q (known: %s)", s, strings.Join(allScenarios, ", "))
			}
			o.onlyList = append(o.onlyList, s)
		}
	}
	for _, s := range o.onlyList {
		o.only[s] = true
	}
	return o, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run is the bench; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	for _, p := range []string{o.cpuProfile, o.memProfile} {
		if p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
	}
	dir, err := os.MkdirTemp("", "zoom-worker-bench-*")
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	rs, err := testenv.NewRedis(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer rs.Stop()

	load := loadAverage()
	b := &bench{opts: o, dir: dir, redis: rs, res: results{errs: map[string]error{}},
		log: func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }}
	started := time.Now()
	steps := map[string]func(context.Context) error{
		scBaseline: b.runBaseline, scLatency0: b.runLatency0, scLatency200: b.runLatency200,
		scRateLimit: b.runRateLimit, scQuota: b.runQuota, scMemory: b.runMemory, scReadSide: b.runReadSide,
		scScaleOut: b.runScaleOut, scFairness: b.runFairness,
	}
	code := 0
	for _, sc := range allScenarios {
		if !o.only[sc] {
			continue
		}
		if ctx.Err() != nil {
			b.res.errs[sc] = errors.New("interrupted")
			code = 1
			continue
		}
		b.log("%s ...", sc)
		if err := steps[sc](ctx); err != nil {
			b.log("%s: %v", sc, err)
			b.res.errs[sc] = err
			code = 1
		}
	}
	b.writeReport(ctx, stdout, time.Since(started), load)
	return code
}

func (b *bench) writeReport(ctx context.Context, w io.Writer, took time.Duration, loadBefore string) {
	o := b.opts
	redisVersion := "unknown"
	if info, err := b.redis.Info(ctx, "server"); err == nil {
		for _, l := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
				redisVersion = v
			}
		}
	}
	fmt.Fprintf(w, "\n## zoom-worker bench\n\n")
	fmt.Fprintf(w, "- %s %s/%s, GOMAXPROCS %d, %d CPUs (%s)%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.GOMAXPROCS(0), runtime.NumCPU(), cpuModel(), gitRevision())
	if loadBefore != "" {
		fmt.Fprintf(w, "- load average before %s, after %s (other work on the machine skews every number)\n", loadBefore, loadAverage())
	}
	fmt.Fprintf(w, "- nats-server %s (embedded, JetStream file store), redis-server %s, fake Zoom zoom/zoomtest; all on 127.0.0.1\n",
		server.VERSION, redisVersion)
	fmt.Fprintf(w, "- settings: -n %d -n-latency %d -c %d -latency %s -rate %g -rate-jobs %d -mem-jobs %d -mem-latency %s -only %s%s\n",
		o.n, o.latencyN, o.concurrency, o.latency, o.rate, o.rateJobs, o.memJobs, o.memLatency, strings.Join(o.onlyList, ","), experiments(o))
	fmt.Fprintf(w, "- workers and the baseline loop run in their own processes, wired as cmd/zoom-worker wires them (JSON logs at info, formatted but discarded); "+
		"the bench process holds the NATS server, the fake Zoom (latency200's in a process of its own) and the load generator; took %s\n\n", took.Round(100*time.Millisecond))
	writeTable(w, b.res.rows(o))
	fmt.Fprintln(w)
	b.res.writeDetails(w)
	b.res.writeShortfalls(w)
	if o.cpuProfile != "" || o.memProfile != "" {
		fmt.Fprintf(w, "- profiles: %s (read with `go tool pprof -top FILE`)\n",
			strings.TrimSpace(profilePath(o.cpuProfile, "<child>")+" "+profilePath(o.memProfile, "<child>")))
	}
	if p := b.res.latency0Profile; p != "" {
		writeProfileTop(w, p)
	}
}

// writeProfileTop says what the latency0 worker's CPU profile holds: its
// heaviest functions by their own time (go tool pprof -top), what is left
// to take from the CPU per job.
func writeProfileTop(w io.Writer, path string) {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=12", path).Output()
	if err != nil {
		fmt.Fprintf(w, "- latency0 profile: go tool pprof %s: %v\n", path, err)
		return
	}
	var top []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || f[0] == "flat" {
			continue
		}
		top = append(top, fmt.Sprintf("%s %s", f[1], strings.Join(f[5:], " ")))
	}
	fmt.Fprintf(w, "- what the latency0 worker's CPU profile says is left (own time, share of the samples): %s\n", strings.Join(top, " · "))
}

// experiments names the settings that make the workers differ from cmd/zoom-worker's wiring.
func experiments(o options) string {
	var out []string
	if o.redisBuffer > 0 {
		out = append(out, fmt.Sprintf(" -redis-buffer %d (experiment: not how cmd/zoom-worker wires Redis)", o.redisBuffer))
	}
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		out = append(out, " GOMEMLIMIT="+v)
	}
	if v := os.Getenv("GOGC"); v != "" {
		out = append(out, " GOGC="+v)
	}
	return strings.Join(out, "")
}

func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		rev += " with local changes"
	}
	return ", commit " + rev
}
