package main

import (
	"context"
	"fmt"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// Scale-out and fairness scenarios.
const (
	scScaleOut = "scaleout"
	scFairness = "fairness"

	scaleProcs = 3
	scaleConc  = 64 // per process: three at C=256 would measure this 2-core machine's CPU, not the fleet

	backlogAccount = "backlog" // the fairness scenario's rate-limited account
	backlogRate    = 20        // its limit, requests/s
	backlogJobs    = 400       // 20 s of work at its limit
	fairJobs       = 200       // the other account's jobs, published after the backlog
)

type scaleOutResult struct {
	conc            int
	latency         time.Duration
	one, three      float64 // jobs/s, first publish to last event
	oneN, threeN    int
	oneSpan, thSpan time.Duration
	failed          int
}

type fairnessResult struct {
	lat              pcts // the other account's jobs, publish to event
	done             int  // jobs completed in the window, both accounts
	backlogDone      int
	deliveries       uint64 // deliveries of ZOOM_JOBS in the window, redeliveries included
	redisCmds        float64
	window           time.Duration
	failed           int
	otherN, backlogN int
}

// 8. Three worker processes against one at the same concurrency, Zoom at L.
func (b *bench) runScaleOut(ctx context.Context) error {
	r := &scaleOutResult{conc: scaleConc, latency: b.opts.latency}
	waves := max(b.opts.latencyN/256, 4) // as many waves as latency200 runs
	for _, procs := range []int{1, scaleProcs} {
		n := waves * scaleConc * procs
		tag := fmt.Sprintf("%s-%d", scScaleOut, procs)
		var span time.Duration
		var failed int
		err := b.onStage(ctx, tag, zoomtest.Options{Latency: b.opts.latency}, n, func(st *stage) error {
			if _, err := b.startKids(ctx, st, "worker", procs, scaleConc, 0); err != nil {
				return err
			}
			if err := b.drive(ctx, st, 0, n, 0); err != nil {
				return err
			}
			span = st.events.span(0, n)
			_, failed, _, _ = st.events.counts()
			return nil
		})
		if err != nil {
			return err
		}
		r.failed += failed
		rate := float64(n) / span.Seconds()
		if procs == 1 {
			r.one, r.oneN, r.oneSpan = rate, n, span
		} else {
			r.three, r.threeN, r.thSpan = rate, n, span
		}
		b.log("scaleout: %d process(es) at C=%d: %d jobs in %s: %.0f jobs/s", procs, scaleConc, n, span.Round(time.Millisecond), rate)
	}
	b.res.scaleOut = r
	return nil
}

// 9. One account with a backlog far above its rate limit, and another
// account's jobs published after it: how long they wait, and what the
// backlog costs in deliveries and Redis commands while it waits.
func (b *bench) runFairness(ctx context.Context) error {
	nb, m := backlogJobs, fairJobs
	return b.onStage(ctx, scFairness, zoomtest.Options{}, nb+m, func(st *stage) error {
		st.accountOf = func(i int) string {
			if i < nb {
				return backlogAccount
			}
			return ""
		}
		kids, err := b.startKids(ctx, st, "worker", 1, b.opts.concurrency, 0,
			func(c *childConfig) { c.BacklogRate = backlogRate })
		if err != nil {
			return err
		}
		cons, err := st.JS.Consumer(ctx, messages.StreamJobs, messages.ConsumerName)
		if err != nil {
			return err
		}
		delivered := func() uint64 {
			info, err := cons.Info(ctx)
			if err != nil {
				return 0
			}
			return info.Delivered.Consumer
		}
		w, err := b.begin(ctx, st, kids)
		if err != nil {
			return err
		}
		d0, start := delivered(), time.Now()
		if err := st.publish(ctx, 0, nb, 0); err != nil {
			return err
		}
		select { // the backlog takes the worker first
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := st.publish(ctx, nb, nb+m, 0); err != nil {
			return err
		}
		deadline := time.Now().Add(b.opts.timeout)
		for st.events.doneIn(nb, nb+m) < m {
			if time.Now().After(deadline) {
				return fmt.Errorf("the other account's jobs: %d of %d done after %s behind the backlog", st.events.doneIn(nb, nb+m), m, b.opts.timeout)
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		lat, backlogDone := percentiles(st.events.latencies(nb, nb+m, 0)), st.events.doneIn(0, nb)
		// Churn is counted until the backlog has drained too: counted when the
		// other account is done, the first delivery of every backlog job still
		// queued would count against the few jobs done by then.
		for st.events.doneIn(0, nb) < nb {
			if time.Now().After(deadline) {
				return fmt.Errorf("the backlog: %d of %d done after %s", st.events.doneIn(0, nb), nb, b.opts.timeout)
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := b.end(ctx, w); err != nil {
			return err
		}
		r := &fairnessResult{lat: lat, backlogDone: backlogDone,
			deliveries: delivered() - d0, window: time.Since(start), otherN: m, backlogN: nb}
		r.done = nb + m
		c := w.costs(max(r.done, 1))
		r.redisCmds = c.redisCmds
		_, r.failed, _, _ = st.events.counts()
		b.res.fairness = r
		b.log("fairness: the other account's %d jobs behind a backlog of %d at %d/s: p50 %s, p99 %s; %d deliveries for %d jobs done",
			m, nb, backlogRate, fmtDur(r.lat.p50), fmtDur(r.lat.p99), r.deliveries, r.done)
		return nil
	})
}

func (r *results) scalingRows(o options) []row {
	var rows []row
	add := func(sc, metric, result, target, v string) { rows = append(rows, row{sc, metric, result, target, v}) }
	if o.only[scScaleOut] {
		if err := r.errs[scScaleOut]; err != nil {
			add(scScaleOut, "error", oneLine(err.Error()), "", "ERROR")
		} else if x := r.scaleOut; x != nil {
			ratio := x.three / x.one
			add(scScaleOut, fmt.Sprintf("%d processes against 1, C=%d each, Zoom latency %s", scaleProcs, x.conc, fmtDur(x.latency)),
				fmt.Sprintf("**%.2f×** (%s jobs/s: %d in %s; one process %s jobs/s: %d in %s; C/L per process %s/s)", ratio,
					fmtNum(x.three), x.threeN, fmtDur(x.thSpan), fmtNum(x.one), x.oneN, fmtDur(x.oneSpan), fmtNum(float64(x.conc)/x.latency.Seconds())),
				"≥ 2.8×", verdict(ratio >= 2.8))
			if x.failed > 0 {
				add(scScaleOut, "jobs failed (job.failed events)", fmt.Sprint(x.failed), "0", "MISS")
			}
		}
	}
	if o.only[scFairness] {
		if err := r.errs[scFairness]; err != nil {
			add(scFairness, "error", oneLine(err.Error()), "", "ERROR")
		} else if x := r.fairness; x != nil {
			add(scFairness, fmt.Sprintf("another account's %d jobs, published 1 s after a backlog of %d jobs of an account limited to %d/s", x.otherN, x.backlogN, backlogRate),
				fmt.Sprintf("publish to event: p50 %s, **p99 %s**, max %s", fmtDur(x.lat.p50), fmtDur(x.lat.p99), fmtDur(x.lat.max)),
				"p99 ≤ 3 s", verdict(x.lat.n == x.otherN && x.lat.p99 <= 3*time.Second))
			per := float64(x.deliveries) / float64(max(x.done, 1))
			add(scFairness, fmt.Sprintf("churn until the backlog drained (%s; %d jobs, %d of the backlog's done when the other account was)", fmtDur(x.window), x.done, x.backlogDone),
				fmt.Sprintf("**%.2f deliveries** and %.1f Redis commands (at the server) per completed job", per, x.redisCmds),
				"≤ 1.5 deliveries per job", verdict(per <= 1.5))
			if x.failed > 0 {
				add(scFairness, "jobs failed (job.failed events)", fmt.Sprint(x.failed), "0", "MISS")
			}
		}
	}
	return rows
}
