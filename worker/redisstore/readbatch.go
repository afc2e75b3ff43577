package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// readBatches is how many read pipelines run at once; the reads that arrive
// meanwhile wait and go out together in the next one.
const readBatches = 4

// maxReadBatch bounds the reads of one pipeline.
const maxReadBatch = 128

// mget is rdb.MGet(keys...), sent in a pipeline with the concurrent others
// (see batch).
func (s *Store) mget(ctx context.Context, keys ...string) ([]any, error) {
	var cmd *redis.SliceCmd
	if err := s.reads.do(ctx, s.rdb, func(p redis.Pipeliner) { cmd = p.MGet(ctx, keys...) }); err != nil {
		return nil, err
	}
	return cmd.Val(), nil
}
