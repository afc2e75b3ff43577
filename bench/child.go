package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/worker"
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
