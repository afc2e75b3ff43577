package main

import (
	"strings"
	"testing"
	"time"
)

// These tests are quick and start nothing; the whole bench runs in
// smoke_test.go, behind the benchsmoke build tag.

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(d)
	if got.p50 != 50*time.Millisecond || got.p99 != 99*time.Millisecond || got.max != 100*time.Millisecond || got.n != 100 {
		t.Errorf("percentiles(1..100 ms) = %+v, want p50 50ms, p99 99ms, max 100ms, n 100", got)
	}
	if got := percentiles(nil); got.n != 0 {
		t.Errorf("percentiles(nil).n = %d, want 0", got.n)
	}
}

func TestJobIndex(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		want int
		ok   bool
	}{
		{name: "plain", id: jobID("latency0", 42), want: 42, ok: true},
		{name: "dash in scenario", id: jobID("base-line", 7), want: 7, ok: true},
		{name: "not ours", id: "m-x", ok: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := jobIndex(tc.id)
			if got != tc.want || ok != tc.ok {
				t.Errorf("jobIndex(%q) = %d, %v; want %d, %v", tc.id, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestProfilePath(t *testing.T) {
	if got := profilePath("", "latency0"); got != "" {
		t.Errorf(`profilePath("", ...) = %q, want ""`, got)
	}
	if got := profilePath("/tmp/cpu.out", "latency0"); got != "/tmp/cpu.latency0.out" {
		t.Errorf("profilePath = %q, want /tmp/cpu.latency0.out", got)
	}
}

func TestSteadyRate(t *testing.T) {
	c := newCollector(1000)
	// Published at 0, one event every 10 ms from 1 s on: 100 events/s.
	for i := range 1000 {
		c.pubAt[i].Store(1)
		c.doneAt[i].Store(int64(time.Second + time.Duration(i)*10*time.Millisecond))
	}
	got, ok := c.steadyRate(0, 1000, 2*time.Second)
	if !ok || got < 99 || got > 101 {
		t.Errorf("steadyRate = %.1f, %v; want about 100, true", got, ok)
	}
	if _, ok := c.steadyRate(0, 1000, time.Hour); ok {
		t.Error("steadyRate with a skip longer than the run: ok, want not ok")
	}
}

func TestRowsVerdicts(t *testing.T) {
	o := options{concurrency: 256, only: map[string]bool{scBaseline: true, scLatency0: true, scMemory: true}}
	r := &results{
		baseline: &baselineResult{n: 100, rate: 10000, elapsed: 10 * time.Millisecond},
		pipeline: &baselineResult{n: 100, rate: 8000, elapsed: 12 * time.Millisecond},
		latency0: &latency0Result{n: 100, rate: 6000, elapsed: time.Second,
			costs: costs{jobs: 100, zoomCalls: 1, zoomCreated: 1, redisTrips: 2}},
		memory: &memoryResult{jobs: 1000, maxInFlight: 1000, hwm: 80 << 20},
		errs:   map[string]error{},
	}
	var b strings.Builder
	writeTable(&b, r.rows(o))
	table := b.String()
	for _, want := range []string{
		"= 75% of the minimal pipeline, 60% of the bare loop (a floor of cost, not a peer) | ≥ 70% of pipeline | PASS",
		"| exactly 1 | PASS",
		"| ≤ 3 | PASS",
		"80.0 MiB",
		"| ≤ 64 MiB | MISS",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestWhereTimeWent(t *testing.T) {
	l := &latency200Result{n: 4000, conc: 256, latency: 200 * time.Millisecond, bound: 1280,
		elapsed: 3380 * time.Millisecond, startup: 60 * time.Millisecond, ingest: 40 * time.Millisecond}
	got := l.whereTimeWent()
	for _, want := range []string{"3.38 s ≈ 16 runs of L per slot (3.20 s", "97.7% of C/L", "start-up 60.0 ms", "all 4000 publishes 40.0 ms after",
		"+ 8.0 ms per later run"} {
		if !strings.Contains(got, want) {
			t.Errorf("whereTimeWent() = %q; want it to contain %q", got, want)
		}
	}
	if got := (&latency200Result{n: 100, conc: 256}).whereTimeWent(); got != "" {
		t.Errorf("fewer jobs than one wave: %q; want nothing", got)
	}
}

func TestShortfallsSayByHowMuch(t *testing.T) {
	r := &results{
		pipeline:   &baselineResult{rate: 4000, costs: costs{jobs: 1000, workerCPU: 0.200}},
		latency0:   &latency0Result{rate: 2000, costs: costs{jobs: 1000, workerCPU: 0.240}},
		latency200: &latency200Result{n: 4000, conc: 256, bound: 1280, rate: 1152, steady: 1203, steadyOK: true},
	}
	var b strings.Builder
	r.writeShortfalls(&b)
	for _, want := range []string{"CPU per job 0.240 ms against ≤ 0.12: 100% over", "1.20× the minimal pipeline's loop in this run (0.200 ms)",
		"50% of the minimal pipeline against ≥ 70%: 20 points short", "first publish to last event 90.0% of C/L against ≥ 95%: 5.0 points short",
		"steady state 94.0% of C/L against ≥ 98%: 4.0 points short"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("shortfalls lack %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	(&results{latency0: &latency0Result{rate: 3000, costs: costs{jobs: 1000, workerCPU: 0.100}},
		pipeline: &baselineResult{rate: 3500, costs: costs{jobs: 1000, workerCPU: 0.090}}}).writeShortfalls(&b)
	if b.Len() != 0 {
		t.Errorf("targets met, yet: %s", b.String())
	}
}
