package zoomtest

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// SetLatency changes Options.Latency for the answers written from now on.
func (s *Server) SetLatency(d time.Duration) { setLocked(s, &s.latency, d) }

// SetFailRate changes Options.FailRate.
func (s *Server) SetFailRate(f float64) { setLocked(s, &s.failRate, f) }

// SetResetRate changes Options.ResetRate.
func (s *Server) SetResetRate(f float64) { setLocked(s, &s.resetRate, f) }

// SetResetAfterRate changes Options.ResetAfterRate.
func (s *Server) SetResetAfterRate(f float64) { setLocked(s, &s.resetAfterRate, f) }

// failBatch is a FailNext or ResetNext order: n more requests get status
// (0: the connection is reset).
type failBatch struct{ n, status int }

// FailNext answers the next n API requests with status before doing
// anything else (nothing is created), with a body shaped like Zoom's:
//
//   - 401: code 124, "Invalid access token." (a client refreshes its token)
//   - 429: the per-second rate limit answer, with Retry-After: 1 and
//     X-RateLimit-Type: QPS
//   - 500: code 500, "Internal Error"; other 5xx: code = status and the
//     status text
//   - anything else: code = status and the status text
//
// Calls queue up: FailNext(2, 503) then FailNext(1, 429) fails three
// requests in that order. A status below 100 means 500.
func (s *Server) FailNext(n int, status int) {
	if status < 100 {
		status = http.StatusInternalServerError
	}
	s.queueFailures(n, status)
}

// FailNextAfter lets the next skip API requests through untouched, then
// answers the n after them as FailNext does (to fail a read-back after a
// change, say).
func (s *Server) FailNextAfter(skip, n, status int) {
	if status < 100 {
		status = http.StatusInternalServerError
	}
	s.queueFailures(skip, passThrough)
	s.queueFailures(n, status)
}

// passThrough is a queued order to answer normally.
const passThrough = -1

// ResetNext drops the connections of the next n API requests without an
// answer, before doing anything (queued with FailNext's orders).
func (s *Server) ResetNext(n int) { s.queueFailures(n, 0) }

func (s *Server) queueFailures(n, status int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, failBatch{n: n, status: status})
}

// fault is what the fault injection decided for one request.
type fault struct {
	reset      bool // drop the connection now
	status     int  // answer this status now (0: no)
	resetAfter bool // carry the request out, then drop the connection
}

// pickFault decides the fault of one API request: a queued FailNext or
// ResetNext order first, then ResetRate, FailRate and ResetAfterRate.
func (s *Server) pickFault() fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failNext) > 0 {
		b := &s.failNext[0]
		status := b.status
		if b.n--; b.n <= 0 {
			s.failNext = s.failNext[1:]
		}
		switch {
		case status == passThrough:
			return fault{}
		case status == 0:
			s.stats.Resets++
			return fault{reset: true}
		case status >= 500:
			s.stats.ServerErrors++
		}
		return fault{status: status}
	}
	if s.resetRate > 0 && s.rng.Float64() < s.resetRate {
		s.stats.Resets++
		return fault{reset: true}
	}
	if s.failRate > 0 && s.rng.Float64() < s.failRate {
		s.stats.ServerErrors++
		return fault{status: []int{500, 502, 503}[s.rng.IntN(3)]}
	}
	return fault{resetAfter: s.resetAfterRate > 0 && s.rng.Float64() < s.resetAfterRate}
}

// injectedAnswer is the Zoom-shaped answer of an injected failure.
func injectedAnswer(status int) answer {
	switch status {
	case http.StatusUnauthorized:
		return zoomError(status, codeInvalidToken, msgInvalidToken)
	case http.StatusTooManyRequests:
		h := http.Header{}
		h.Set("Retry-After", "1")
		h.Set("X-RateLimit-Type", "QPS")
		return answer{status: status, header: h, body: errorBody{Code: status, Message: msgQPS}}
	case http.StatusInternalServerError:
		return zoomError(status, status, msgInternal)
	}
	return zoomError(status, status, http.StatusText(status))
}

// resetConnection drops the request's connection without an answer. It
// needs a connection to drop: with a ResponseWriter that cannot be hijacked
// (HTTP/2, a recorder) it aborts the handler with http.ErrAbortHandler.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with a TCP RST: "connection reset by peer"
	}
	_ = conn.Close()
}

// holdPoint is a place in an operation where requests can be held.
type holdPoint int

const (
	holdNone holdPoint = iota
	holdMeetingCreateBefore
	holdMeetingCreateAfter
	holdUserCreateBefore
	holdUserCreateAfter
	holdRegistrantCreateBefore
	holdRegistrantCreateAfter
)

// Hold holds requests of one kind at one point until Release: crash tests
// use it to kill a client while Zoom is working on its request. Each request
// that reaches an active Hold signals Arrived and waits for Release or for
// its client to go away (its context to end); a request whose client went
// away is not answered. Release every Hold before closing an
// httptest.Server, whose Close waits for held requests.
type Hold struct {
	s       *Server
	point   holdPoint
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
	waiting atomic.Int64
}

// arrivedBuffer is how many arrivals a Hold keeps for Arrived; more are
// dropped (Waiting still counts them).
const arrivedBuffer = 4096

// HoldMeetingCreates holds every POST /v2/users/{userId}/meetings after it
// has been carried out (the meeting is stored and counted, or the request
// was refused) and before the answer is written.
func (s *Server) HoldMeetingCreates() *Hold { return s.hold(holdMeetingCreateAfter) }

// HoldMeetingCreatesBefore holds every POST /v2/users/{userId}/meetings
// before anything is done (after the token and the rate limit are checked),
// so a client killed meanwhile leaves nothing created.
func (s *Server) HoldMeetingCreatesBefore() *Hold { return s.hold(holdMeetingCreateBefore) }

// HoldUserCreates holds every POST /v2/users after it has been carried out
// and before the answer is written.
func (s *Server) HoldUserCreates() *Hold { return s.hold(holdUserCreateAfter) }

// HoldUserCreatesBefore holds every POST /v2/users before anything is done.
func (s *Server) HoldUserCreatesBefore() *Hold { return s.hold(holdUserCreateBefore) }

// HoldRegistrantCreates holds every POST /v2/meetings/{meetingId}/registrants
// after it has been carried out and before the answer is written.
func (s *Server) HoldRegistrantCreates() *Hold { return s.hold(holdRegistrantCreateAfter) }

// HoldRegistrantCreatesBefore holds every POST
// /v2/meetings/{meetingId}/registrants before anything is done.
func (s *Server) HoldRegistrantCreatesBefore() *Hold { return s.hold(holdRegistrantCreateBefore) }

func (s *Server) hold(p holdPoint) *Hold {
	h := &Hold{s: s, point: p, arrived: make(chan struct{}, arrivedBuffer), release: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds[p] = append(s.holds[p], h)
	return h
}

// Arrived receives one value for each request that reached the hold.
func (h *Hold) Arrived() <-chan struct{} { return h.arrived }

// Waiting is the number of requests held right now.
func (h *Hold) Waiting() int { return int(h.waiting.Load()) }

// Release ends the hold: held requests go on, and later ones are not held.
// It may be called more than once.
func (h *Hold) Release() {
	h.once.Do(func() {
		h.s.mu.Lock()
		h.s.holds[h.point] = slices.DeleteFunc(h.s.holds[h.point], func(x *Hold) bool { return x == h })
		h.s.mu.Unlock()
		close(h.release)
	})
}

// wait holds one request; false means its context ended first.
func (h *Hold) wait(ctx context.Context) bool {
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case h.arrived <- struct{}{}:
	default:
	}
	select {
	case <-h.release:
		return true
	case <-ctx.Done():
		return false
	}
}

// waitHolds holds a request at point p while Holds there are active; false
// means the client went away.
func (s *Server) waitHolds(ctx context.Context, p holdPoint) bool {
	if p == holdNone {
		return true
	}
	s.mu.Lock()
	hs := slices.Clone(s.holds[p])
	s.mu.Unlock()
	for _, h := range hs {
		if !h.wait(ctx) {
			return false
		}
	}
	return true
}
