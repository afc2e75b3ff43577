package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// health tracks whether the store answers. It pings the store every
// checkEvery, and at once when a store call fails; while the store is down
// it pings every probeEvery until it answers, and the fetch loop takes no
// new job meanwhile.
type health struct {
	store Store
	m     *Metrics
	log   *slog.Logger

	mu     sync.Mutex
	up     bool
	auth   bool          // down because the store refused the credentials
	change chan struct{} // closed and replaced on every change
	kick   chan struct{}
	cancel context.CancelFunc
}

const probeEvery = 250 * time.Millisecond

// ErrStoreAuth marks a store error that is the store refusing the worker's
// credentials (Redis's WRONGPASS or NOAUTH): not an outage, a setting to
// fix, so readiness and the log say so.
var ErrStoreAuth = errors.New("authentication failed")

func newHealth(s Store, m *Metrics, log *slog.Logger) *health {
	h := &health{store: s, m: m, log: log, up: true, change: make(chan struct{}), kick: make(chan struct{}, 1)}
	if m != nil {
		m.StoreUp.Set(1)
	}
	return h
}

// start checks the store once (so /readyz is right from the start) and
// starts the prober.
func (h *health) start(ctx context.Context) {
	ctx, h.cancel = context.WithCancel(ctx)
	go h.probe(ctx)
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := h.store.Ping(pctx); err != nil {
		h.set(err)
		h.failed()
	}
}

func (h *health) stop() {
	if h.cancel != nil {
		h.cancel()
	}
}

func (h *health) ok() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

// notReady is why the store makes the worker not ready, or "".
func (h *health) notReady() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.up:
		return ""
	case h.auth:
		return "redis: authentication failed (check the user and password in REDIS_URL)"
	}
	return "redis: unreachable"
}

// set records the result of a store call: nil is up.
func (h *health) set(err error) {
	up, auth := err == nil, errors.Is(err, ErrStoreAuth)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.up == up && h.auth == auth {
		return
	}
	wasUp := h.up
	h.up, h.auth = up, auth
	if wasUp == up {
		// Still down, for another reason: say the new one.
		h.logDown()
		return
	}
	close(h.change)
	h.change = make(chan struct{})
	if h.m != nil {
		v := 0.0
		if up {
			v = 1
		}
		h.m.StoreUp.Set(v)
	}
	if up {
		h.log.Info("redis reachable again: taking jobs")
	} else {
		h.logDown()
	}
}

func (h *health) logDown() {
	if h.auth {
		h.log.Error("redis authentication failed (check the user and password in REDIS_URL): taking no new jobs until it answers")
		return
	}
	h.log.Error("redis unreachable: taking no new jobs until it answers")
}

// failed tells the prober a store call failed.
func (h *health) failed() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// wait blocks while the store is down, or until ctx ends.
func (h *health) wait(ctx context.Context) {
	for {
		h.mu.Lock()
		up, ch := h.up, h.change
		h.mu.Unlock()
		if up {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// checkEvery is how often the store is pinged while it looks healthy, so
// readiness turns false even when no job is running.
const checkEvery = 2 * time.Second

func (h *health) probe(ctx context.Context) {
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		case <-tick.C:
		}
		// A store call failed: check, and keep checking while it is down.
		for {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			err := h.store.Ping(pctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			h.set(err)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(probeEvery):
			}
		}
	}
}
