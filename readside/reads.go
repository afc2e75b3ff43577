package readside

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/zoomworker/zoom-worker/zoom"
)

// flight is one Zoom call that every concurrent read of the same object
// waits for (the misses coalesced).
type flight struct {
	done chan struct{}
	json []byte
	err  error
}

type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// lookup answers a read of k: from the cache when it holds a good copy,
// else from Zoom (one call for all concurrent reads of k, written back to
// the cache; a 404 remembered for Config.NotFoundTTL). needFresh says a
// copy is too old to serve as it is (a start_url to renew). A read that
// has a copy and would wait for Zoom longer than Config.StaleWait, or whose
// Zoom call fails, answers with the copy, stale.
func (h *handlers) lookup(ctx context.Context, account string, zc Zoom, k Key, what string,
	needFresh func(Entry) bool, fetch func(context.Context, Zoom) ([]byte, error)) (data []byte, source string, stale bool, aerr *apiError) {
	e, err := h.cfg.Cache.Read(ctx, account, k)
	if err != nil {
		return nil, "", false, storeError(ctx, err)
	}
	if e.Gone {
		return nil, "", false, errorf(CodeNotFound, "not found: Zoom does not know %s (remembered from a recent answer)", what)
	}
	if e.JSON != nil && !e.Stale && !needFresh(e) {
		return e.JSON, SourceCache, false, nil
	}
	if zc == nil {
		if e.JSON != nil {
			return e.JSON, SourceCache, e.Stale, nil
		}
		return nil, "", false, errorf(CodeNotFound, "not found: %s is not in the cache of account %q, and no Zoom account is configured to ask", what, account)
	}
	f := h.fly(account+"\x00"+k.Kind+"\x00"+k.ID, func(fctx context.Context) ([]byte, error) {
		b, err := fetch(fctx, zc)
		switch {
		case err == nil:
			if _, werr := h.cfg.Cache.WriteBack(fctx, account, k, e.Version, b, h.now()); werr != nil {
				h.log.Warn("read cache write-back failed", "kind", k.Kind, "err", werr)
			}
		case zoom.IsNotFound(err):
			if _, werr := h.cfg.Cache.Forget(fctx, account, k, e.Version, h.cfg.NotFoundTTL); werr != nil {
				h.log.Warn("read cache forget failed", "kind", k.Kind, "err", werr)
			}
		}
		return b, err
	})
	var wait <-chan time.Time
	if e.JSON != nil {
		t := time.NewTimer(h.cfg.StaleWait)
		defer t.Stop()
		wait = t.C
	}
	select {
	case <-f.done:
		if f.err == nil {
			return f.json, SourceZoom, false, nil
		}
		if e.JSON != nil && !zoom.IsNotFound(f.err) {
			return e.JSON, SourceCache, true, nil
		}
		return nil, "", false, zoomError(ctx, what, f.err)
	case <-wait:
		return e.JSON, SourceCache, true, nil
	case <-ctx.Done():
		if e.JSON != nil {
			return e.JSON, SourceCache, true, nil
		}
		return nil, "", false, errorf(CodeTimeout, "timeout: Zoom did not answer in time about %s", what)
	}
}

// fly runs fn once for key among concurrent callers, on its own context
// (bounded by Config.Timeout, cancelled when the service stops) so that one
// requester giving up does not fail the others.
func (h *handlers) fly(key string, fn func(context.Context) ([]byte, error)) *flight {
	h.flights.mu.Lock()
	defer h.flights.mu.Unlock()
	if f := h.flights.m[key]; f != nil {
		return f
	}
	f := &flight{done: make(chan struct{})}
	h.flights.m[key] = f
	h.running.Add(1)
	go func() {
		defer h.running.Done()
		ctx, cancel := context.WithTimeout(h.base, h.cfg.Timeout)
		defer cancel()
		f.json, f.err = fn(ctx)
		h.flights.mu.Lock()
		delete(h.flights.m, key)
		h.flights.mu.Unlock()
		close(f.done)
	}()
	return f
}

func (h *handlers) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

// fetchMeeting asks Zoom for meeting id and returns what the cache keeps of
// it (start_url only where answers may carry it).
func fetchMeeting(id int64, includeStartURL bool) func(context.Context, Zoom) ([]byte, error) {
	return func(ctx context.Context, zc Zoom) ([]byte, error) {
		zm, err := zc.GetMeeting(ctx, id)
		if err != nil {
			return nil, err
		}
		m := zm.Whole() // all of it, unknown fields included, as events say it
		if !includeStartURL {
			dropStartURL(&m)
		}
		return json.Marshal(m)
	}
}

// fetchUser asks Zoom for a user by id or email.
func fetchUser(idOrEmail string) func(context.Context, Zoom) ([]byte, error) {
	return func(ctx context.Context, zc Zoom) ([]byte, error) {
		zu, err := zc.GetUser(ctx, idOrEmail)
		if err != nil {
			return nil, err
		}
		return json.Marshal(zu.Whole())
	}
}

// startURLOld says a meeting copy cannot serve a start_url as it is.
func (h *handlers) startURLOld(e Entry) bool {
	return h.cfg.IncludeStartURL && (e.Fetched.IsZero() || h.now().Sub(e.Fetched) > StartURLMaxAge)
}

func never(Entry) bool { return false }
