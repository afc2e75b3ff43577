package redisstore

import (
	"context"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batch gathers concurrent calls into shared pipelines: a cache read is one
// small MGET, a job's Begin or Finish one EVALSHA (and a few SETs); sent
// alone, each costs a write and a read on the socket here and in
// redis-server, which is most of their CPU on a busy process. There is no
// goroutine of its own: a call that finds fewer than senders pipelines under
// way sends at once, with the oldest of the calls that wait; a sender whose
// pipeline is answered hands its place to the oldest waiting call, which
// sends the next. So a caller sends one pipeline at most, its own call in it.
type batch struct {
	senders int // pipelines under way at most
	most    int // calls in one pipeline at most
	// after, if set, queues commands after the calls' own (WAIT) and
	// returns what the pipeline's answer to them means: nil, or an error
	// that every call without one of its own gets.
	after func(ctx context.Context, p redis.Pipeliner) func() error

	mu      sync.Mutex
	pending []*call // oldest first
	active  int     // places taken: senders, and waiting calls handed a place
}

// call is one caller's commands in a batch.
type call struct {
	fill func(p redis.Pipeliner) // queues the caller's commands
	err  error                   // the first error of its commands, or of the pipeline
	// wake gets a value when the call is answered and when it is handed a
	// sender's place (once each at most, hence room for two).
	wake     chan struct{}
	answered bool // under batch.mu
	handed   bool // under batch.mu: handed a place it has not taken
}

// do sends the commands fill queues in a pipeline shared with concurrent
// calls, and returns the first error among them (redis.Nil included, as
// Pipelined does), or the pipeline's. fill runs on whichever goroutine
// sends; the commands it queues may be read once do returns.
//
// A call whose ctx ends before its pipeline is sent is dropped and returns
// ctx's error. One whose ctx ends while its pipeline is under way returns
// ctx's error too, and the pipeline runs on (bounded by the client's socket
// timeouts), so that one caller giving up does not fail the others: as
// with a single command cancelled in flight, its commands may have run.
func (b *batch) do(ctx context.Context, rdb redis.UniversalClient, fill func(p redis.Pipeliner)) error {
	c := &call{fill: fill, wake: make(chan struct{}, 2)}
	b.mu.Lock()
	if b.active < b.senders {
		b.active++
		return b.send(ctx, rdb, c) // unlocks
	}
	b.pending = append(b.pending, c)
	b.mu.Unlock()
	for {
		select {
		case <-c.wake:
		case <-ctx.Done():
			b.mu.Lock()
			if i := slices.Index(b.pending, c); i >= 0 {
				b.pending = slices.Delete(b.pending, i, i+1)
			}
			b.passOn(c)
			b.mu.Unlock()
			return ctx.Err()
		}
		b.mu.Lock()
		if c.answered {
			b.passOn(c)
			b.mu.Unlock()
			return c.err
		}
		if c.handed {
			c.handed = false
			if i := slices.Index(b.pending, c); i >= 0 {
				b.pending = slices.Delete(b.pending, i, i+1)
				return b.send(ctx, rdb, c) // unlocks
			}
			b.handOff() // c went out in another's pipeline meanwhile
		}
		b.mu.Unlock()
	}
}

// send is called with b.mu held by a caller that holds a place and whose
// call c is not pending. It sends c with the oldest waiting calls, hands its
// place on, unlocks b.mu and returns c's error.
func (b *batch) send(ctx context.Context, rdb redis.UniversalClient, c *call) error {
	n := min(len(b.pending), b.most-1)
	calls := make([]*call, 0, n+1)
	calls = append(append(calls, c), b.pending[:n]...)
	b.pending = slices.Delete(b.pending, 0, n)
	b.mu.Unlock()
	b.pipeline(context.WithoutCancel(ctx), rdb, calls)
	b.mu.Lock()
	for _, o := range calls[1:] {
		o.answered = true
		o.wake <- struct{}{}
	}
	b.handOff()
	b.mu.Unlock()
	return c.err
}

// passOn gives up the place c was handed and has not taken, if any. b.mu
// is held.
func (b *batch) passOn(c *call) {
	if c.handed {
		c.handed = false
		b.handOff()
	}
}

// handOff gives a place to the oldest waiting call that was handed none,
// or frees it. b.mu is held.
func (b *batch) handOff() {
	for _, o := range b.pending {
		if !o.handed {
			o.handed = true
			o.wake <- struct{}{}
			return
		}
	}
	b.active--
}

// pipeline sends calls in one pipeline and sets each call's error: the
// first of its own commands' errors, so that one call's failing command
// fails no other. A pipeline that failed with no command's error (a hook,
// a pipeline that was never sent) fails every call.
func (b *batch) pipeline(ctx context.Context, rdb redis.UniversalClient, calls []*call) {
	ends := make([]int, len(calls))
	var after func() error
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			c.fill(p)
			ends[i] = p.Len()
		}
		if b.after != nil {
			after = b.after(ctx, p)
		}
		return nil
	})
	if err != nil && !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return c.Err() != nil }) {
		for _, c := range calls {
			c.err = err
		}
		return
	}
	var afterErr error
	if after != nil {
		afterErr = after()
	}
	start := 0
	for i, c := range calls {
		for _, cmd := range cmds[min(start, len(cmds)):min(ends[i], len(cmds))] {
			if c.err = cmd.Err(); c.err != nil {
				break
			}
		}
		start = ends[i]
		if c.err == nil {
			c.err = afterErr
		}
	}
}
