package zoomtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// tryCreate creates a meeting and returns the status, or -1 and the error
// when the client got no answer.
func (e *testEnv) tryCreate(ctx context.Context) (int, error) {
	req := e.newRequest(ctx, e.token, "POST", "/users/me/meetings", map[string]any{"topic": "x"})
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return -1, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		want       zoomErr
		wantHeader map[string]string
		wantStats  Stats // only the fault counters
	}{
		{name: "500", status: 500, want: zoomErr{500, 500, "Internal Error", nil}, wantStats: Stats{ServerErrors: 2}},
		{name: "502", status: 502, want: zoomErr{502, 502, "Bad Gateway", nil}, wantStats: Stats{ServerErrors: 2}},
		{name: "503", status: 503, want: zoomErr{503, 503, "Service Unavailable", nil}, wantStats: Stats{ServerErrors: 2}},
		{name: "429", status: 429, want: zoomErr{429, 429, msgQPS, nil},
			wantHeader: map[string]string{"Retry-After": "1", "X-RateLimit-Type": "QPS"}, wantStats: Stats{RateLimited: 2}},
		{name: "401", status: 401, want: zoomErr{401, 124, msgInvalidToken, nil}, wantStats: Stats{Unauthorized: 2}},
		{name: "404", status: 404, want: zoomErr{404, 404, "Not Found", nil}},
		{name: "0 means 500", status: 0, want: zoomErr{500, 500, "Internal Error", nil}, wantStats: Stats{ServerErrors: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{})
			e.fake.FailNext(2, tt.status)
			for range 2 {
				resp, body := e.do("POST", "/users/me/meetings", map[string]any{"topic": "x"})
				tt.want.check(t, resp, body)
				for k, v := range tt.wantHeader {
					if got := resp.Header.Get(k); got != v {
						t.Errorf("%s: got %q, want %q", k, got, v)
					}
				}
			}
			if n := len(e.fake.Meetings()); n != 0 {
				t.Fatalf("a failed request created %d meetings", n)
			}
			e.createMeeting("me", map[string]any{"topic": "third time lucky"})
			s := e.fake.Stats()
			got := Stats{ServerErrors: s.ServerErrors, RateLimited: s.RateLimited, Unauthorized: s.Unauthorized, Resets: s.Resets}
			if got != tt.wantStats {
				t.Errorf("fault counters: got %+v, want %+v", got, tt.wantStats)
			}
			if s.MeetingsCreated != 1 || s.Requests != 3 {
				t.Errorf("Stats: got MeetingsCreated %d Requests %d, want 1, 3", s.MeetingsCreated, s.Requests)
			}
		})
	}
}

func TestFailNextQueuesInOrder(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.fake.FailNext(1, 503)
	e.fake.ResetNext(1)
	e.fake.FailNext(1, 429)
	e.fake.FailNext(0, 500) // nothing
	var got []int
	for range 4 {
		code, _ := e.tryCreate(t.Context())
		got = append(got, code)
	}
	if want := []int{503, -1, 429, 201}; !slices.Equal(got, want) {
		t.Errorf("statuses: got %v, want %v", got, want)
	}
	if s := e.fake.Stats(); s.ServerErrors != 1 || s.Resets != 1 || s.RateLimited != 1 || s.MeetingsCreated != 1 {
		t.Errorf("Stats: got %+v", s)
	}
}

func TestFailRate(t *testing.T) {
	statuses := func(seed int64, rate float64, n int) []int {
		e := newTestEnv(t, Options{Seed: seed, FailRate: rate})
		var out []int
		for range n {
			resp, _ := e.do("GET", "/users/me", nil)
			out = append(out, resp.StatusCode)
		}
		if s := e.fake.Stats(); s.ServerErrors != n-count(out, 200) {
			t.Errorf("Stats.ServerErrors: got %d, want %d", s.ServerErrors, n-count(out, 200))
		}
		return out
	}

	all := statuses(1, 1, 30)
	for _, code := range all {
		if !slices.Contains([]int{500, 502, 503}, code) {
			t.Fatalf("FailRate 1: got %d, want 500, 502 or 503", code)
		}
	}
	if count(all, 500) == 0 || count(all, 502) == 0 || count(all, 503) == 0 {
		t.Errorf("FailRate 1: got %v, want each of 500, 502, 503", all)
	}

	half := statuses(7, 0.5, 200)
	if failed := 200 - count(half, 200); failed < 60 || failed > 140 {
		t.Errorf("FailRate 0.5: %d of 200 failed", failed)
	}
	if again := statuses(7, 0.5, 200); !slices.Equal(again, half) {
		t.Errorf("the same seed gave other faults")
	}

	t.Run("SetFailRate", func(t *testing.T) {
		e := newTestEnv(t, Options{FailRate: 1})
		e.fake.SetFailRate(0)
		if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Errorf("got %d, want 200", resp.StatusCode)
		}
	})
}

func count(xs []int, x int) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func TestResets(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		wantCreated int           // meetings the dropped request created
		off         func(*Server) // turns the resets off
	}{
		{name: "ResetRate drops before anything is done", opts: Options{ResetRate: 1},
			off: func(s *Server) { s.SetResetRate(0) }},
		{name: "ResetAfterRate drops after the meeting is created", opts: Options{ResetAfterRate: 1}, wantCreated: 1,
			off: func(s *Server) { s.SetResetAfterRate(0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, tt.opts)
			code, err := e.tryCreate(t.Context())
			if err == nil {
				t.Fatalf("got an answer (%d), want a dropped connection", code)
			}
			s := e.fake.Stats()
			if s.Resets != 1 || s.Requests != 1 || s.MeetingsCreated != tt.wantCreated || len(e.fake.Meetings()) != tt.wantCreated {
				t.Errorf("Stats: got %+v, want 1 reset, 1 request, %d meetings created", s, tt.wantCreated)
			}
			tt.off(e.fake)
			if code, err := e.tryCreate(t.Context()); code != 201 {
				t.Errorf("with the resets off: got %d %v, want 201", code, err)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	e := newTestEnv(t, Options{Latency: 50 * time.Millisecond})
	start := time.Now()
	if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
		t.Fatalf("got %d", resp.StatusCode)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered in %v, want at least the 50ms latency", d)
	}
	start = time.Now()
	if _, err := e.fetchTokenErr(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 50*time.Millisecond {
		t.Errorf("the token endpoint took %v; latency is for API requests only", d)
	}

	t.Run("a client that gives up ends the wait, the work done", func(t *testing.T) {
		fake := New(Options{Latency: time.Hour})
		fake.AddUser("james@bond.com", "James", "Bond", 1)
		srv := newServer(t, fake)
		e := &testEnv{t: t, fake: fake, srv: srv, token: fake.IssueToken()}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if _, err := e.tryCreate(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the client's deadline", err)
		}
		// httptest.Server.Close waits for running handlers: the waiting one
		// must have returned.
		closed := make(chan struct{})
		go func() { srv.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the handler still waits out its latency after the client went away")
		}
		if s := fake.Stats(); s.Requests != 1 || s.MeetingsCreated != 1 {
			t.Errorf("Stats: got %+v, want 1 request and the meeting created", s)
		}
	})

	t.Run("SetLatency", func(t *testing.T) {
		e.fake.SetLatency(0)
		start := time.Now()
		e.do("GET", "/users/me", nil)
		if d := time.Since(start); d >= 50*time.Millisecond {
			t.Errorf("took %v after SetLatency(0)", d)
		}
	})
}

// fetchTokenErr is fetchToken for callers that time it.
func (e *testEnv) fetchTokenErr() (string, error) {
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token?grant_type=account_credentials&account_id="+testAccount, nil)
	req.SetBasicAuth(testClient, testSecret)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", errors.New(resp.Status)
	}
	return "ok", nil
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHoldMeetingCreates(t *testing.T) {
	tests := []struct {
		name        string
		before      bool // HoldMeetingCreatesBefore
		killClient  bool
		wantStored  int // meetings while held
		wantCreated int // meetings in the end
	}{
		{name: "after, client killed", killClient: true, wantStored: 1, wantCreated: 1},
		{name: "after, released", wantStored: 1, wantCreated: 1},
		{name: "before, client killed", before: true, killClient: true, wantStored: 0, wantCreated: 0},
		{name: "before, released", before: true, wantStored: 0, wantCreated: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{})
			var h *Hold
			if tt.before {
				h = e.fake.HoldMeetingCreatesBefore()
			} else {
				h = e.fake.HoldMeetingCreates()
			}
			t.Cleanup(h.Release) // before the server's Close, which waits for held requests

			ctx, kill := context.WithCancel(t.Context())
			defer kill()
			type result struct {
				code int
				err  error
			}
			done := make(chan result, 1)
			go func() {
				code, err := e.tryCreate(ctx)
				done <- result{code, err}
			}()
			select {
			case <-h.Arrived():
			case <-time.After(5 * time.Second):
				t.Fatal("the request never reached the hold")
			}
			if n := len(e.fake.Meetings()); n != tt.wantStored {
				t.Errorf("meetings while held: got %d, want %d", n, tt.wantStored)
			}
			if s := e.fake.Stats(); s.MeetingsCreated != tt.wantStored {
				t.Errorf("Stats.MeetingsCreated while held: got %d, want %d", s.MeetingsCreated, tt.wantStored)
			}
			if n := h.Waiting(); n != 1 {
				t.Errorf("Waiting: got %d, want 1", n)
			}
			select {
			case r := <-done:
				t.Fatalf("answered while held: %+v", r)
			case <-time.After(20 * time.Millisecond):
			}

			if tt.killClient {
				kill()
				if r := <-done; r.err == nil {
					t.Errorf("the killed client got an answer: %d", r.code)
				}
				waitFor(t, "the held request to end", func() bool { return h.Waiting() == 0 })
				h.Release()
			} else {
				h.Release()
				if r := <-done; r.code != 201 {
					t.Errorf("after Release: got %d %v, want 201", r.code, r.err)
				}
			}
			if n := len(e.fake.Meetings()); n != tt.wantCreated {
				t.Errorf("meetings in the end: got %d, want %d", n, tt.wantCreated)
			}
			// The hold is over: the next create is answered at once.
			if code, err := e.tryCreate(t.Context()); code != 201 {
				t.Errorf("after the hold: got %d %v, want 201", code, err)
			}
		})
	}
}

func TestHoldManyAndOtherRequests(t *testing.T) {
	e := newTestEnv(t, Options{DailyMeetingLimit: 1000})
	h := e.fake.HoldMeetingCreates()
	t.Cleanup(h.Release)
	const n = 5
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Go(func() {
			code, _ := e.tryCreate(t.Context())
			codes <- code
		})
	}
	for range n {
		<-h.Arrived()
	}
	// Other operations are not held.
	if resp, _ := e.do("GET", "/users/me/meetings", nil); resp.StatusCode != 200 {
		t.Errorf("list while creates are held: got %d", resp.StatusCode)
	}
	h.Release()
	h.Release() // twice is fine
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 201 {
			t.Errorf("got %d, want 201", code)
		}
	}
	if got := len(e.fake.Meetings()); got != n {
		t.Errorf("meetings: got %d, want %d", got, n)
	}
}

func TestHoldUserCreatesBefore(t *testing.T) {
	e := newTestEnv(t, Options{})
	h := e.fake.HoldUserCreatesBefore()
	t.Cleanup(h.Release)
	ctx, kill := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		req := e.newRequest(ctx, e.token, "POST", "/users",
			map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "held@bond.com", "type": 1}})
		resp, err := e.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-h.Arrived()
	kill()
	if err := <-done; err == nil {
		t.Error("the killed client got an answer")
	}
	waitFor(t, "the held request to end", func() bool { return h.Waiting() == 0 })
	if n := len(e.fake.Users()); n != 1 {
		t.Errorf("users: got %d, want only the seeded one", n)
	}
}

func TestConcurrentCreates(t *testing.T) {
	e := newTestEnv(t, Options{DailyMeetingLimit: 1000})
	const n = 100
	ids := make(chan int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := e.newRequest(t.Context(), e.token, "POST", "/users/me/meetings", map[string]any{"topic": strconv.Itoa(i)})
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			var m struct{ ID int64 }
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 201 {
				t.Errorf("create %d: got %d (%v), want 201", i, resp.StatusCode, err)
				return
			}
			ids <- m.ID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %d answered twice", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("unique ids: got %d, want %d", len(seen), n)
	}
	if got := len(e.fake.Meetings()); got != n {
		t.Errorf("meetings: got %d, want %d", got, n)
	}
	if s := e.fake.Stats(); s.MeetingsCreated != n || s.Requests != n {
		t.Errorf("Stats: got MeetingsCreated %d Requests %d, want %d, %d", s.MeetingsCreated, s.Requests, n, n)
	}
}
