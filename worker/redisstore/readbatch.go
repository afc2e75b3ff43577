package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// readBatches is how many read pipelines run at once; the reads that arrive
// meanwhile wait and go out together in the next one. A cache hit is one
// small MGET: sent alone, each costs a write and a read on the socket here
// and in redis-server, which is most of a hit's CPU on a busy process.
const readBatches = 4

// maxReadBatch bounds the reads of one pipeline.
const maxReadBatch = 128

// readBatch gathers concurrent MGETs into pipelines. There is no goroutine
// of its own: the read that finds a pipeline slot free sends, then sends
// what gathered meanwhile, until nothing waits.
type readBatch struct {
	mu       sync.Mutex
	pending  []*batchedRead
	inFlight int
}

type batchedRead struct {
	keys []string
	vals []any
	err  error
	done chan struct{}
}

// mget is rdb.MGet(keys...), sent in a pipeline with the concurrent others.
// A read whose ctx ends first returns ctx's error; the pipeline it sits in
// runs on regardless (bounded by the client's socket timeouts), so that one
// requester giving up does not fail the others.
func (s *Store) mget(ctx context.Context, keys ...string) ([]any, error) {
	r := &batchedRead{keys: keys, done: make(chan struct{})}
	b := &s.reads
	b.mu.Lock()
	b.pending = append(b.pending, r)
	if b.inFlight >= readBatches {
		b.mu.Unlock()
		select {
		case <-r.done:
			return r.vals, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b.inFlight++
	for len(b.pending) > 0 {
		n := min(len(b.pending), maxReadBatch)
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.mu.Unlock()
		s.sendReads(context.WithoutCancel(ctx), batch)
		b.mu.Lock()
	}
	b.pending = nil
	b.inFlight--
	b.mu.Unlock()
	<-r.done
	return r.vals, r.err
}

func (s *Store) sendReads(ctx context.Context, batch []*batchedRead) {
	cmds := make([]*redis.SliceCmd, len(batch))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range batch {
			cmds[i] = p.MGet(ctx, r.keys...)
		}
		return nil
	})
	for i, r := range batch {
		r.vals, r.err = cmds[i].Result()
		if r.err == nil && err != nil && len(r.vals) != len(r.keys) {
			r.err = err // the pipeline failed before this MGET was answered
		}
		close(r.done)
	}
}
