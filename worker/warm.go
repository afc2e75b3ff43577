package worker

import (
	"context"
	"sync"
	"time"
)

// Warm-up. Jobs published while the worker is down, or all at once, reach
// it as one wave of Concurrency jobs, and each job of the wave used to set
// up what the others needed too: the first fetched the account's token
// while the others waited for it, and the store's connections were dialled
// one by one as jobs queued for them. Every job of the first wave started
// late by that, and each slot's later jobs with it (a run of N jobs at
// latency L is about N/Concurrency slot runs long, from when the slot's
// first job started). So Run readies both before it pulls the first job.

// warmLimit bounds the warm-up: a token endpoint or store that does not
// answer delays the start by at most this, and the jobs find out themselves.
const warmLimit = time.Second

// warmStoreCalls is how many store calls the warm-up makes at once: enough
// to dial the store's connection pool (redisstore.DefaultPoolSize).
const warmStoreCalls = 32

// warm fetches each account's token (shared through the cache with the
// other processes) and dials the store's connections. Failures are only
// logged at debug: the first jobs meet them again and handle them as usual.
func (w *Worker) warm(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, warmLimit)
	defer cancel()
	var wg sync.WaitGroup
	for name, check := range w.creds.check {
		wg.Go(func() {
			if err := check.CheckCredentials(ctx); err != nil {
				w.log.Debug("warm-up: no token yet", "account", name, "err", err)
			}
		})
	}
	if w.health.ok() { // a store that did not answer health's first ping is not dialled 32 times more
		for range min(warmStoreCalls, w.cfg.Concurrency) {
			wg.Go(func() { _ = w.store.Ping(ctx) })
		}
	}
	wg.Wait()
}
