package worker

import (
	"sync"
	"testing"
	"time"
)

// Every job given to runners runs, whether a runner waits for it or not,
// before and after stop; a job that finds a runner waiting runs on it
// rather than on a new goroutine; no more than maxIdleRunners wait, and
// none after stop.
func TestRunnersRunEveryJob(t *testing.T) {
	r := newRunners()
	const n = 3 * maxIdleRunners
	// settle waits until want runners wait (they add themselves just after
	// their job returns). The bound only keeps a regression from hanging.
	settle := func(round int, want int32) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); r.idle.Load() != want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d runners wait, want %d", round, r.idle.Load(), want)
			}
		}
	}
	for round := range 3 {
		if round == 2 {
			r.stop()
			settle(round, 0)
		}
		before := r.spawned.Load()
		var started, done sync.WaitGroup
		gate := make(chan struct{})
		started.Add(n)
		done.Add(n)
		for range n {
			r.run(func() {
				started.Done()
				<-gate
				done.Done()
			})
		}
		started.Wait() // all n at once: none waited behind another
		close(gate)
		done.Wait()
		if round == 1 {
			// The runners left waiting by round 0 took jobs of this round
			// (every runner counts itself in spawned before its first job).
			if got := r.spawned.Load() - before; got >= n {
				t.Errorf("round 1: %d new runners for %d jobs with %d waiting: none was reused", got, n, maxIdleRunners)
			}
		}
		if round < 2 {
			settle(round, maxIdleRunners)
		} else {
			settle(round, 0)
		}
	}
}
