package worker

import (
	"sync"
	"testing"
)

// Every job given to runners runs, whether a runner waits for it or not,
// before and after stop, and no more runners wait than maxIdleRunners.
func TestRunnersRunEveryJob(t *testing.T) {
	r := newRunners()
	const n = 3 * maxIdleRunners
	for round := range 3 {
		if round == 2 {
			r.stop()
		}
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
		if idle := r.idle.Load(); idle > maxIdleRunners {
			t.Fatalf("round %d: %d runners wait, more than %d", round, idle, maxIdleRunners)
		}
	}
}
