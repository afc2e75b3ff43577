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
// of theirs is free, one by one, instead of all at once.
//
// The same holds between the hosts of one rate-limited account (a
// create-meeting job's user_id): one host's backlog would otherwise hold
// the account's slots, and the fetch loop would wait behind it before it
// ever saw another host's job. There the gate is per account and host, and
// its share is the account's (Concurrency with one account) divided by the
// hosts active in the last hostActive, at least 1: a host alone may use the
// whole account share; two hosts get half each. A host over its share gives
// a slot back when a job ends rather than hand it to its own waiter, so the
// newcomer takes the next free one. The host is read from the body only
// for a rate-limited account: without a limit a job waits for nothing but
// Zoom, so a backlog only delays the others by its own run time, and a
// single account without a limit (the usual set-up) stays as it was, no
// cap and no parsing of the body here. A single host of a rate-limited
// account pays for the look-ahead: its jobs beyond Concurrency are handed
// back by its pace instead of waiting in the stream.
type fairness struct {
	share   int // the account share; 0: no cap between accounts
	all     int // Concurrency: the account share with one account
	limited map[string]bool
	mu      sync.Mutex
	accts   map[string]*accountHosts
	gates   map[gateKey]*accountGate
}

// gateKey is what a gate is per: an account, and a host where the account
// is rate-limited ("" otherwise, or for jobs without a host).
type gateKey struct{ account, host string }

// accountHosts is when each host of a rate-limited account last had a job.
type accountHosts struct{ seen map[string]time.Time }

// hostActive is how long a host counts as active after its last job.
const hostActive = 10 * time.Second

// accountGate is one account's (or account and host's) slots, waiters and
// hand-back pace.
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

// newFairness builds the gates for concurrency slots shared by accts.
func newFairness(concurrency int, accts map[string]Account) *fairness {
	f := &fairness{all: concurrency, limited: map[string]bool{},
		accts: map[string]*accountHosts{}, gates: map[gateKey]*accountGate{}}
	if len(accts) > 1 {
		f.share = max(1, concurrency/len(accts))
	}
	for name, a := range accts {
		if a.Limiter != nil {
			f.limited[name] = true
		}
	}
	return f
}

// on says whether jobs are gated at all; with one account without a rate
// limit they are not.
func (f *fairness) on() bool { return f.share > 0 || len(f.limited) > 0 }

// shareOf is key's share now. f.mu is held.
func (f *fairness) shareOf(key gateKey, now time.Time, touch bool) int {
	share := f.share
	if share == 0 {
		share = f.all
	}
	if !f.limited[key.account] {
		return share
	}
	a := f.accts[key.account]
	if a == nil {
		a = &accountHosts{seen: map[string]time.Time{}}
		f.accts[key.account] = a
	}
	if touch {
		a.seen[key.host] = now
	}
	active := 0
	for host, at := range a.seen {
		g := f.gates[gateKey{key.account, host}]
		switch {
		case now.Sub(at) < hostActive || (g != nil && g.running+len(g.waiting) > 0):
			active++
		default:
			delete(a.seen, host)
			delete(f.gates, gateKey{key.account, host})
		}
	}
	return max(1, share/max(1, active))
}

// admission is what admit decided for a job: run now, wait on the channel
// (closed when a slot of its account is free), or go back for delay.
type admission struct {
	wait  chan struct{}
	back  bool
	delay time.Duration
}

// admit takes a slot of key for a job, or says how it waits.
func (f *fairness) admit(key gateKey, now time.Time) admission {
	if !f.on() {
		return admission{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	share := f.shareOf(key, now, true)
	g := f.gates[key]
	if g == nil {
		g = &accountGate{took: time.Second}
		f.gates[key] = g
	}
	switch {
	case g.running < share:
		g.running++
		return admission{}
	case len(g.waiting) < share:
		ch := make(chan struct{})
		g.waiting = append(g.waiting, ch)
		return admission{wait: ch}
	}
	step := g.took / time.Duration(share)
	at := now.Add(time.Duration(len(g.waiting)) * step)
	if g.next.After(at) {
		at = g.next
	}
	g.next = at.Add(step)
	delay := min(at.Sub(now), maxSpread) + rand.N(step+1)
	return admission{back: true, delay: delay}
}

// done gives key's slot back after a job that took took; a waiter takes it
// over, unless key runs more than its share (another host came): then the
// slot goes back to the process. A gate over its share still runs a job,
// so a later done wakes its waiters.
func (f *fairness) done(key gateKey, took time.Duration) {
	if !f.on() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.gates[key]
	g.took = (4*g.took + took) / 5
	if g.running > f.shareOf(key, time.Now(), false) {
		g.running--
		return
	}
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
func (f *fairness) leave(key gateKey, ch chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.gates[key]
	for i, c := range g.waiting {
		if c == ch {
			g.waiting = append(g.waiting[:i], g.waiting[i+1:]...)
			return
		}
	}
	g.handOver()
}

// gateOf reads the account a job's body names and, for a create-meeting
// job of a rate-limited account, its host, without decoding the job
// (prepare does, and rejects what it must): "" is the default account.
func (f *fairness) gateOf(subject string, body []byte) gateKey {
	var probe struct {
		Account string `json:"account"`
		UserID  string `json:"user_id"`
	}
	if len(body) > messages.MaxJobBytes || json.Unmarshal(body, &probe) != nil {
		return gateKey{account: DefaultAccount}
	}
	key := gateKey{account: probe.Account}
	if key.account == "" {
		key.account = DefaultAccount
	}
	if f.limited[key.account] && subject == messages.SubjectMeetingCreate {
		key.host = probe.UserID // hostLimitKey's host
	}
	return key
}

// dispatch starts msg's job on its own goroutine once its account and the
// process have a slot for it, or hands it back (fairness above).
func (w *Worker) dispatch(ctx, jobCtx context.Context, msg jetstream.Msg) {
	account := gateKey{account: DefaultAccount}
	if w.fair.on() {
		// Only a cap needs the account and host: with one account without a
		// rate limit (the usual set-up) the body is not parsed here, one
		// JSON decode fewer per job.
		account = w.fair.gateOf(msg.Subject(), msg.Data())
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
		w.runners.run(func() {
			defer w.slots.give()
			start := time.Now()
			defer func() { w.fair.done(account, time.Since(start)) }()
			w.handle(jobCtx, msg)
		})
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
