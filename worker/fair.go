package worker

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// Fairness between accounts. A job of a rate-limited account holds its slot
// while it waits (up to the limiter's MaxWait, 5 s) for the account's shared
// limiter, so an account with a backlog far above its rate used to take
// every slot: other accounts' jobs waited behind it (p99 14-72 s in `make
// bench`), and its own extra jobs, held back by the limiter, went back to
// the queue all together and came back all together (2.3 deliveries per job).
//
// With several accounts configured, each account may run at most its share
// of Concurrency (Concurrency / accounts, at least 1) at once, whatever the
// others do: an account limited to R/s needs only about R × latency slots to
// run at its rate, and the rest would only wait. Up to a share more of its
// jobs wait in this process for one of its slots, without a slot of their
// own (JetStream is told they are in progress). Beyond that, a job is
// handed back (a NAK with a delay; no attempt used) spaced by the account's
// pace here: the delay is how long the jobs already waiting or handed back
// before it take at the pace its jobs end (their mean run time / its share),
// plus jitter of one step, so handed-back jobs come back about when a slot
// of theirs is free, one by one, instead of all at once. A single account
// (the usual set-up) is never capped.
type fairness struct {
	share int // 0: no cap
	mu    sync.Mutex
	accts map[string]*accountGate
}

// accountGate is one account's slots, waiters and hand-back pace.
type accountGate struct {
	running int
	waiting []chan struct{}
	// took is the mean run time of the account's jobs (an EWMA).
	took time.Duration
	// next is when the next job handed back should come back.
	next time.Time
}

// maxSpread bounds a hand-back's delay: past it a job comes back to be
// handed back again, one delivery a minute, rather than trust a pace
// measured long before.
const maxSpread = time.Minute

func newFairness(concurrency, accounts int) *fairness {
	f := &fairness{accts: map[string]*accountGate{}}
	if accounts > 1 {
		f.share = max(1, concurrency/accounts)
	}
	return f
}

// admission is what admit decided for a job: run now, wait on the channel
// (closed when a slot of its account is free), or go back for delay.
type admission struct {
	wait  chan struct{}
	back  bool
	delay time.Duration
}

// admit takes a slot of account for a job, or says how it waits.
func (f *fairness) admit(account string, now time.Time) admission {
	if f.share == 0 {
		return admission{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.accts[account]
	if g == nil {
		g = &accountGate{took: time.Second}
		f.accts[account] = g
	}
	switch {
	case g.running < f.share:
		g.running++
		return admission{}
	case len(g.waiting) < f.share:
		ch := make(chan struct{})
		g.waiting = append(g.waiting, ch)
		return admission{wait: ch}
	}
	step := g.took / time.Duration(f.share)
	at := now.Add(time.Duration(len(g.waiting)) * step)
	if g.next.After(at) {
		at = g.next
	}
	g.next = at.Add(step)
	delay := min(at.Sub(now), maxSpread) + rand.N(step+1)
	return admission{back: true, delay: delay}
}

// done gives account's slot back after a job that took took; a waiter
// takes it over.
func (f *fairness) done(account string, took time.Duration) {
	if f.share == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.accts[account]
	g.took = (4*g.took + took) / 5
	g.handOver()
}

// handOver gives a slot to the first waiter, else frees it. f.mu is held.
func (g *accountGate) handOver() {
	if len(g.waiting) > 0 {
		close(g.waiting[0])
		g.waiting = g.waiting[1:]
		return
	}
	g.running--
}

// leave removes a waiter that gave up (the worker is stopping); when its
// slot was handed over already, it gives it back.
func (f *fairness) leave(account string, ch chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.accts[account]
	for i, c := range g.waiting {
		if c == ch {
			g.waiting = append(g.waiting[:i], g.waiting[i+1:]...)
			return
		}
	}
	g.handOver()
}

// accountOf reads the account a job's body names, without decoding the
// job (prepare does, and rejects what it must): "" is the default account.
func accountOf(body []byte) string {
	var probe struct {
		Account string `json:"account"`
	}
	if len(body) > messages.MaxJobBytes || json.Unmarshal(body, &probe) != nil || probe.Account == "" {
		return DefaultAccount
	}
	return probe.Account
}

// dispatch starts msg's job on its own goroutine once its account and the
// process have a slot for it, or hands it back (fairness above).
func (w *Worker) dispatch(ctx, jobCtx context.Context, msg jetstream.Msg) {
	account := DefaultAccount
	if w.fair.share > 0 {
		// Only a cap needs the account: with one account (the usual set-up)
		// the body is not parsed here, one JSON decode fewer per job.
		account = accountOf(msg.Data())
	}
	adm := w.fair.admit(account, time.Now())
	if adm.back {
		w.nak(&attempt{msg: msg, log: w.log}, adm.delay)
		return
	}
	run := func() {
		if !w.slots.take(ctx) {
			// Fetched but not started (the worker is stopping): hand it back at once.
			w.fair.done(account, 0)
			w.nak(&attempt{msg: msg, log: w.log}, 0)
			return
		}
		go func() {
			defer w.slots.give()
			start := time.Now()
			defer func() { w.fair.done(account, time.Since(start)) }()
			w.handle(jobCtx, msg)
		}()
	}
	if adm.wait == nil {
		run()
		return
	}
	go func() {
		stop := keepAlive(msg, w.cfg.AckWait/3)
		select {
		case <-adm.wait:
			stop()
			run()
		case <-ctx.Done():
			stop()
			w.fair.leave(account, adm.wait)
			w.nak(&attempt{msg: msg, log: w.log}, 0)
		}
	}()
}
