package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

// gate holds the pipelines that carry a key starting with "held" until
// release is closed, and fails those that carry one starting with "broken"
// without sending them. It counts the pipelines and the calls' commands it
// sees.
type gate struct {
	held     chan struct{} // gets a value when a held pipeline arrives
	release  chan struct{}
	pipes    atomic.Int64
	shared   atomic.Int64 // pipelines of more than one SET
	holdOnce sync.Once
}

func newGate() *gate { return &gate{held: make(chan struct{}, 1), release: make(chan struct{})} }

func (*gate) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (*gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		g.pipes.Add(1)
		sets := 0
		for _, c := range cmds {
			if c.Name() != "set" {
				continue
			}
			sets++
			key := fmt.Sprint(c.Args()[1])
			if strings.HasPrefix(key, "held") {
				g.holdOnce.Do(func() { g.held <- struct{}{} })
				<-g.release
			}
			if strings.HasPrefix(key, "broken") {
				return errors.New("broken pipe (from the test)")
			}
		}
		if sets > 1 {
			g.shared.Add(1)
		}
		return next(ctx, cmds)
	}
}

func newBatchClient(t *testing.T) (*redis.Client, *gate) {
	t.Helper()
	r := testenv.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	g := newGate()
	rdb.AddHook(g)
	return rdb, g
}

// set is a call of one SET that returns what the SET answered.
func set(ctx context.Context, b *redisstore.Batch, rdb *redis.Client, key, val string) error {
	var cmd *redis.StatusCmd
	err := b.Do(ctx, rdb, func(p redis.Pipeliner) { cmd = p.Set(ctx, key, val, 0) })
	if err == nil && cmd.Val() != "OK" {
		return fmt.Errorf("SET %s answered %q", key, cmd.Val())
	}
	return err
}

// concurrently runs f in n goroutines, f(0) to f(n-1), and reports the
// error each returns.
func concurrently(t *testing.T, n int, f func(g int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for g := range n {
		wg.Go(func() { errs[g] = f(g) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// waitFor yields until cond holds (it holds soon, or the test times out).
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

// Concurrent calls share pipelines, each gets the answer to its own
// commands, and the batch ends with no call waiting and no place taken.
func TestBatchEachCallGetsItsOwnAnswer(t *testing.T) {
	rdb, g := newBatchClient(t)
	b := redisstore.NewBatch(2, 16)
	ctx := context.Background()
	concurrently(t, 32, func(w int) error {
		for n := range 50 {
			key := "k" + strconv.Itoa(w) + ":" + strconv.Itoa(n)
			var incr *redis.IntCmd
			var get *redis.StringCmd
			err := b.Do(ctx, rdb, func(p redis.Pipeliner) {
				p.Set(ctx, key, n, 0)
				incr = p.IncrBy(ctx, key, int64(w))
				get = p.Get(ctx, key)
			})
			if want := strconv.Itoa(n + w); err != nil || incr.Val() != int64(n+w) || get.Val() != want {
				return fmt.Errorf("call %s: INCRBY %d, GET %q, %v; want %s, nil", key, incr.Val(), get.Val(), err, want)
			}
		}
		return nil
	})
	if g.shared.Load() == 0 {
		t.Error("1,600 calls by 32 goroutines never shared a pipeline")
	}
	if w, p := b.Waiting(), b.Places(); w != 0 || p != 0 {
		t.Errorf("after the calls: %d waiting, %d places taken; want 0, 0", w, p)
	}
}

// A command that fails fails only the call that sent it; a pipeline that
// fails fails its calls and no call of the next pipeline.
func TestBatchFailureStaysWithItsCalls(t *testing.T) {
	rdb, g := newBatchClient(t)
	ctx := context.Background()
	if err := rdb.Set(ctx, "text", "not a number", 0).Err(); err != nil {
		t.Fatal(err)
	}
	b := redisstore.NewBatch(1, 8)

	// One pipeline is held, so that the calls made meanwhile go out
	// together in the next one.
	first := make(chan error, 1)
	go func() { first <- set(ctx, b, rdb, "held", "1") }()
	<-g.held
	type answer struct {
		name string
		err  error
	}
	answers := make(chan answer, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		var incr *redis.IntCmd
		err := b.Do(ctx, rdb, func(p redis.Pipeliner) { incr = p.Incr(ctx, "text") })
		if err == nil || err != incr.Err() {
			err = fmt.Errorf("INCR of text: %v, its command's error %v; want the command's error", err, incr.Err())
		} else {
			err = nil
		}
		answers <- answer{"bad command", err}
	})
	wg.Go(func() { answers <- answer{"good", set(ctx, b, rdb, "good", "1")} })
	waitFor(func() bool { return b.Waiting() == 2 })
	close(g.release)
	if err := <-first; err != nil {
		t.Errorf("held call: %v", err)
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.err != nil {
			t.Errorf("%s: %v", a.name, a.err)
		}
	}
	if v, _ := rdb.Get(ctx, "good").Result(); v != "1" {
		t.Errorf("good = %q; want 1", v)
	}

	// A pipeline that fails as a whole: each of its calls gets the error.
	if err := set(ctx, b, rdb, "broken", "1"); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("call in a failed pipeline: %v; want the pipeline's error", err)
	}
	if err := set(ctx, b, rdb, "after", "1"); err != nil {
		t.Errorf("call after a failed pipeline: %v", err)
	}
}

// A call whose context ends while it waits returns the context's error and
// is never sent; the calls around it are.
func TestBatchCancelledCallIsNotSent(t *testing.T) {
	rdb, g := newBatchClient(t)
	ctx := context.Background()
	b := redisstore.NewBatch(1, 8)
	first := make(chan error, 1)
	go func() { first <- set(ctx, b, rdb, "held", "1") }()
	<-g.held

	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() { cancelled <- set(cctx, b, rdb, "cancelled", "1") }()
	other := make(chan error, 1)
	go func() { other <- set(ctx, b, rdb, "other", "1") }()
	waitFor(func() bool { return b.Waiting() == 2 })
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: %v; want context.Canceled", err)
	}
	close(g.release)
	if err := <-first; err != nil {
		t.Errorf("held call: %v", err)
	}
	if err := <-other; err != nil {
		t.Errorf("other call: %v", err)
	}
	if n, _ := rdb.Exists(ctx, "cancelled").Result(); n != 0 {
		t.Error("the cancelled call's SET was sent")
	}
	if n, _ := rdb.Exists(ctx, "other").Result(); n != 1 {
		t.Error("the other call's SET was not sent")
	}
	if w, p := b.Waiting(), b.Places(); w != 0 || p != 0 {
		t.Errorf("after the calls: %d waiting, %d places taken; want 0, 0", w, p)
	}
}

// Many callers, some of them giving up: every call ends, and no place is
// lost (a lost place would leave later calls waiting for ever).
func TestBatchCancellationsLoseNoPlace(t *testing.T) {
	rdb, _ := newBatchClient(t)
	b := redisstore.NewBatch(2, 4)
	ctx := context.Background()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 48 {
		wg.Go(func() {
			for n := range 40 {
				cctx, cancel := context.WithCancel(ctx)
				if (w+n)%3 == 0 {
					go cancel()
				}
				err := set(cctx, b, rdb, "k"+strconv.Itoa(w), strconv.Itoa(n))
				cancel()
				if err != nil && !errors.Is(err, context.Canceled) {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d calls failed with other than context.Canceled", n)
	}
	if w, p := b.Waiting(), b.Places(); w != 0 || p != 0 {
		t.Errorf("after the calls: %d waiting, %d places taken; want 0, 0", w, p)
	}
	if err := set(ctx, b, rdb, "last", "1"); err != nil {
		t.Errorf("a call after them: %v", err)
	}
}
