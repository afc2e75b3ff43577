package zoomtest

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestPlanHeaders(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name       string
		plan       Plan
		method     string
		path       string
		body       any
		wantCat    string
		wantLimit  string
		wantRemain string
	}{
		{name: "pro light", plan: PlanPro, method: "GET", path: "/users/me", wantCat: "Light", wantLimit: "30", wantRemain: "29"},
		{name: "pro medium", plan: PlanPro, method: "POST", path: "/users/me/meetings", body: map[string]any{}, wantCat: "Medium", wantLimit: "20", wantRemain: "19"},
		{name: "business light", plan: PlanBusiness, method: "GET", path: "/users/me", wantCat: "Light", wantLimit: "80", wantRemain: "79"},
		{name: "business medium", plan: PlanBusiness, method: "GET", path: "/users/me/meetings", wantCat: "Medium", wantLimit: "60", wantRemain: "59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{Now: clock.Now, Plan: tt.plan})
			resp, body := e.do(tt.method, tt.path, tt.body)
			if resp.StatusCode >= 300 {
				t.Fatalf("got %d %s", resp.StatusCode, body)
			}
			h := resp.Header
			if h.Get("X-RateLimit-Category") != tt.wantCat || h.Get("X-RateLimit-Type") != "QPS" ||
				h.Get("X-RateLimit-Limit") != tt.wantLimit || h.Get("X-RateLimit-Remaining") != tt.wantRemain {
				t.Errorf("headers: got category %q type %q limit %q remaining %q, want %s QPS %s %s",
					h.Get("X-RateLimit-Category"), h.Get("X-RateLimit-Type"), h.Get("X-RateLimit-Limit"),
					h.Get("X-RateLimit-Remaining"), tt.wantCat, tt.wantLimit, tt.wantRemain)
			}
		})
	}
	t.Run("no plan", func(t *testing.T) {
		e := newTestEnv(t, Options{})
		resp, _ := e.do("GET", "/users/me", nil)
		if h := resp.Header; h.Get("X-RateLimit-Category") != "Light" || h.Get("X-RateLimit-Limit") != "" {
			t.Errorf("headers: got %v, want the category and no limit", h)
		}
	})
}

func TestPlanPerSecond(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	e := newTestEnv(t, Options{Now: clock.Now, Plan: PlanPro})
	for i := range 30 {
		if resp, body := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: got %d %s, want 200 (30 Light a second)", i+1, resp.StatusCode, body)
		}
	}
	resp, body := e.do("GET", "/users/me", nil)
	wantZoomError(t, resp, body, http.StatusTooManyRequests, 429, msgQPS)
	h := resp.Header
	reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if h.Get("X-RateLimit-Type") != "QPS" || h.Get("X-RateLimit-Remaining") != "0" || h.Get("Retry-After") != "1" ||
		reset != clock.Now().Unix()+1 {
		t.Errorf("429 headers: got %v, want QPS, 0 remaining, Retry-After 1, X-RateLimit-Reset in a second", h)
	}
	// Medium has its own quota.
	if resp, body := e.do("GET", "/users/me/meetings", nil); resp.StatusCode != 200 {
		t.Errorf("Medium while Light is used up: got %d %s, want 200", resp.StatusCode, body)
	}
	clock.Add(100 * time.Millisecond) // 3 Light refilled
	for i := range 3 {
		if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Errorf("after 100 ms, request %d: got %d, want 200", i+1, resp.StatusCode)
		}
	}
	if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 429 {
		t.Errorf("a 4th after 100 ms: got %d, want 429", resp.StatusCode)
	}
	e.fake.SetPlan(PlanNone)
	if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
		t.Errorf("with PlanNone: got %d, want 200", resp.StatusCode)
	}
}

// TestOtherAppLoad runs clients against a Pro account whose Light quota
// (30/s) another app spends 10/s of, on a clock stepped by hand.
func TestOtherAppLoad(t *testing.T) {
	const step = 10 * time.Millisecond
	run := func(t *testing.T, every time.Duration, dur time.Duration) (ok, limited int) {
		clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
		fake := New(Options{Now: clock.Now, Plan: PlanPro})
		fake.SetOtherAppLoad(CategoryLight, 10)
		var since time.Duration
		for elapsed := time.Duration(0); elapsed < dur; elapsed += step {
			clock.Add(step)
			since += step
			for ; since >= every; since -= every {
				if _, _, over := fake.takeQuota(CategoryLight); over {
					limited++
				} else {
					ok++
				}
			}
		}
		return ok, limited
	}
	t.Run("greedy client gets what is left", func(t *testing.T) {
		ok, limited := run(t, step/5, 10*time.Second) // 500/s asked
		// 20/s left for 10 s, plus the full bucket at the start.
		if ok < 200 || ok > 230 || limited == 0 {
			t.Errorf("got %d answered and %d 429s, want 200..230 answered", ok, limited)
		}
	})
	t.Run("client pacing below what is left sees no 429", func(t *testing.T) {
		ok, limited := run(t, 60*time.Millisecond, 10*time.Second) // 16.7/s
		if limited != 0 || ok < 160 {
			t.Errorf("got %d answered and %d 429s, want all of about 166 answered", ok, limited)
		}
	})
	t.Run("client pacing above what is left", func(t *testing.T) {
		ok, limited := run(t, 40*time.Millisecond, 10*time.Second) // 25/s
		if limited == 0 || ok > 230 {
			t.Errorf("got %d answered and %d 429s, want some 429s", ok, limited)
		}
	})
}

func TestDailyPool(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	fake := New(Options{Now: clock.Now, Plan: PlanPro})
	// Heavy is 10/s: step the clock so only the daily pool can stop them;
	// the last 10 are Resource-intensive (10 a minute, a full bucket).
	for i := range 30_000 {
		cat := CategoryHeavy
		if i >= 29_990 {
			cat = CategoryResourceIntensive
		} else {
			clock.Add(100 * time.Millisecond)
		}
		if h, a, over := fake.takeQuota(cat); over {
			t.Fatalf("request %d (%s): %d %v %+v", i+1, cat, a.status, h, a.body)
		}
	}
	clock.Add(time.Second)
	for _, cat := range []string{CategoryHeavy, CategoryResourceIntensive} {
		h, a, over := fake.takeQuota(cat)
		wantNext := formatTime(time.Date(clock.Now().Year(), clock.Now().Month(), clock.Now().Day()+1, 0, 0, 0, 0, time.UTC))
		if !over || a.status != 429 || a.body.(errorBody).Message != msgDailyQuota || h.Get("X-RateLimit-Type") != "Daily-limit" ||
			h.Get("X-RateLimit-Limit") != "30000" || h.Get("Retry-After") != wantNext {
			t.Errorf("%s after 30,000 shared: got over %v %d %+v %v, want the daily 429 until %s", cat, over, a.status, a.body, h, wantNext)
		}
	}
	if _, _, over := fake.takeQuota(CategoryLight); over {
		t.Errorf("Light is not in the daily pool")
	}
	clock.Add(24 * time.Hour)
	if _, _, over := fake.takeQuota(CategoryHeavy); over {
		t.Errorf("a new UTC day: still limited")
	}

	t.Run("other apps spend the pool too", func(t *testing.T) {
		clock := NewClock(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
		fake := New(Options{Now: clock.Now, Plan: PlanPro})
		fake.SetOtherAppLoad(CategoryHeavy, 1)
		clock.Add(30_000 * time.Second) // 8h20m: the other app sent 30,000
		if _, _, over := fake.takeQuota(CategoryHeavy); !over {
			t.Errorf("got through, want the daily 429: the other app used the pool")
		}
	})
}

func TestUserBusy(t *testing.T) {
	const opTime = 3 * time.Second // long enough for the second request to arrive
	waitBusy := func(t *testing.T, fake *Server) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			fake.mu.Lock()
			n := len(fake.busy)
			fake.mu.Unlock()
			if n > 0 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatal("the first request never got under way")
	}
	t.Run("while a delete is in progress", func(t *testing.T) {
		e := newTestEnv(t, Options{})
		e.fake.SetOpLatency("userDelete", opTime)
		first := e.doAsync("DELETE", "/users/james@bond.com", nil)
		waitBusy(t, e.fake)
		resp, body := e.do("DELETE", "/users/"+e.host.ID+"?action=delete", nil)
		wantZoomError(t, resp, body, 429, 429, "Too many concurrent requests. A request to disassociate this user has already been made.")
		resp, body = e.do("POST", "/users", map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "James@Bond.com", "type": 1}})
		wantZoomError(t, resp, body, 429, 429, "Too many concurrent requests. A request to disassociate this user has already been made.")
		if resp, body := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Errorf("a read meanwhile: got %d %s, want 200", resp.StatusCode, body)
		}
		if code := <-first; code != 204 {
			t.Errorf("the first delete: got %d, want 204", code)
		}
		if s := e.fake.Stats(); s.UserBusy != 2 || s.UsersDeleted != 1 {
			t.Errorf("Stats: got UserBusy %d UsersDeleted %d, want 2 and 1", s.UserBusy, s.UsersDeleted)
		}
	})
	t.Run("while a create is in progress", func(t *testing.T) {
		e := newTestEnv(t, Options{})
		e.fake.SetOpLatency("userCreate", opTime)
		first := e.doAsync("POST", "/users", map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "q@mi6.gov.uk", "type": 1}})
		waitBusy(t, e.fake)
		resp, body := e.do("DELETE", "/users/q@mi6.gov.uk", nil)
		wantZoomError(t, resp, body, 429, 429, "Too many concurrent requests. A request to create this user has already been made.")
		// Another user is not held up.
		if resp, body := e.do("DELETE", "/users/james@bond.com", nil); resp.StatusCode != 204 {
			t.Errorf("another user: got %d %s, want 204", resp.StatusCode, body)
		}
		if code := <-first; code != 201 {
			t.Errorf("the create: got %d, want 201", code)
		}
		e.fake.SetOpLatency("userCreate", 0)
		if resp, body := e.do("DELETE", "/users/q@mi6.gov.uk", nil); resp.StatusCode != 204 {
			t.Errorf("after the create: got %d %s, want 204", resp.StatusCode, body)
		}
	})
}
