package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// currentStats is the child's CPU time, memory and Go runtime figures; what
// it counts on the way (Redis round trips, warnings and errors) is below.
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
