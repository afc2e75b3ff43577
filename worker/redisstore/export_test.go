package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Batch lets the tests drive a batch of their own.
type Batch struct{ b batch }

// NewBatch returns a batch of at most senders pipelines of most calls.
func NewBatch(senders, most int) *Batch { return &Batch{batch{senders: senders, most: most}} }

// Do is batch.do.
func (t *Batch) Do(ctx context.Context, rdb redis.UniversalClient, fill func(p redis.Pipeliner)) error {
	return t.b.do(ctx, rdb, fill)
}

// Waiting is how many calls wait to be sent.
func (t *Batch) Waiting() int {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	return len(t.b.pending)
}

// Places is how many sender places are taken.
func (t *Batch) Places() int {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	return t.b.active
}
