package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
)

// pipelineCounter counts the pipelines of more than one MGET.
type pipelineCounter struct{ n atomic.Int64 }

func (*pipelineCounter) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (*pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (c *pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		mgets := 0
		for _, cmd := range cmds {
			if cmd.Name() == "mget" {
				mgets++
			}
		}
		if mgets > 1 {
			c.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// Concurrent reads go out together in pipelines, and each gets its own
// object; one whose context ends returns its error without failing the
// others.
func TestConcurrentReadsArePipelinedAndEachGetsItsOwn(t *testing.T) {
	s, rdb := newStore(t)
	var pipes pipelineCounter
	rdb.AddHook(&pipes)
	ctx := context.Background()
	const objects = 50
	for i := range objects {
		k := readside.MeetingKey(int64(1000 + i))
		if _, err := s.WriteBack(ctx, worker.DefaultAccount, k, 0, []byte(`{"id":`+strconv.Itoa(1000+i)+`}`), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	concurrently(t, 64, func(g int) error {
		for n := range 100 {
			i := (g*7 + n) % objects
			rctx := ctx
			if n%10 == 9 {
				c, cancel := context.WithCancel(ctx)
				cancel()
				rctx = c
			}
			e, err := s.Read(rctx, worker.DefaultAccount, readside.MeetingKey(int64(1000+i)))
			if rctx != ctx {
				if err != nil && !errors.Is(err, context.Canceled) {
					return fmt.Errorf("cancelled read: %v", err)
				}
				continue
			}
			if want := `{"id":` + strconv.Itoa(1000+i) + `}`; err != nil || string(e.JSON) != want {
				return fmt.Errorf("read meeting %d: %q, %v; want %s", 1000+i, e.JSON, err, want)
			}
		}
		return nil
	})
	if pipes.n.Load() == 0 {
		t.Error("6,400 reads by 64 goroutines were never sent together in one pipeline")
	}
}
