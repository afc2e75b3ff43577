package zoomtest

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

const dailyMsg = "You have exceeded the daily rate limit (3) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."

func TestDailyMeetingLimit(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 23, 58, 0, 0, time.UTC))
	e := newTestEnv(t, Options{Now: clock.Now, DailyMeetingLimit: 3})
	other := e.fake.AddUser("m@mi6.gov.uk", "M", "", 1)

	m := e.createMeeting("james@bond.com", map[string]any{"topic": "1"})
	e.createMeeting(e.host.ID, map[string]any{"topic": "2"})
	if resp, body := e.do("PATCH", meetingPath(t, m), map[string]any{"topic": "1b"}); resp.StatusCode != 204 {
		t.Fatalf("update: got %d %s, want 204", resp.StatusCode, body)
	}

	tests := []struct {
		name         string
		method, path string
		wantCategory string
	}{
		{name: "create", method: "POST", path: "/users/me/meetings", wantCategory: "Medium"},
		{name: "update", method: "PATCH", path: meetingPath(t, m), wantCategory: "Light"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" over the limit", func(t *testing.T) {
			resp, body := e.do(tt.method, tt.path, map[string]any{"topic": "one too many"})
			wantZoomError(t, resp, body, http.StatusTooManyRequests, 429, dailyMsg)
			h := resp.Header
			if h.Get("X-RateLimit-Type") != "Daily-limit" || h.Get("X-RateLimit-Category") != tt.wantCategory {
				t.Errorf("headers: got type %q category %q, want Daily-limit, %s",
					h.Get("X-RateLimit-Type"), h.Get("X-RateLimit-Category"), tt.wantCategory)
			}
			if ra := h.Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After: got %q, want none (Zoom sends none for the daily limit)", ra)
			}
		})
	}
	if n := len(e.fake.MeetingsForHost("me")); n != 2 {
		t.Errorf("meetings: got %d, want 2", n)
	}
	e.createMeeting(other.Email, map[string]any{"topic": "another host has its own limit"})
	if resp, body := e.do("GET", meetingPath(t, m), nil); resp.StatusCode != 200 {
		t.Errorf("GET is not limited: got %d %s", resp.StatusCode, body)
	}

	clock.Add(2 * time.Minute) // 00:00 UTC
	e.createMeeting("me", map[string]any{"topic": "a new day"})

	s := e.fake.Stats()
	if s.RateLimited != 2 || s.MeetingsCreated != 4 || s.MeetingsUpdated != 1 {
		t.Errorf("Stats: got RateLimited %d MeetingsCreated %d MeetingsUpdated %d, want 2, 4, 1",
			s.RateLimited, s.MeetingsCreated, s.MeetingsUpdated)
	}
}

func TestDailyMeetingLimitDefaultsTo100(t *testing.T) {
	e := newTestEnv(t, Options{})
	for i := range 100 {
		if resp, body := e.do("POST", "/users/me/meetings", map[string]any{"topic": strconv.Itoa(i)}); resp.StatusCode != 201 {
			t.Fatalf("create %d: got %d %s, want 201", i+1, resp.StatusCode, body)
		}
	}
	resp, body := e.do("POST", "/users/me/meetings", map[string]any{"topic": "101"})
	wantZoomError(t, resp, body, 429, 429, "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.")
}

func TestDailyMeetingLimitAs300(t *testing.T) {
	e := newTestEnv(t, Options{DailyMeetingLimit: 1, DailyLimitAs300: true})
	e.createMeeting("me", map[string]any{})
	resp, body := e.do("POST", "/users/me/meetings", map[string]any{})
	wantZoomError(t, resp, body, 300, 300, "A maximum of 1 meetings can be created/updated for a single user in one day.")
}

func TestPerSecondRateLimit(t *testing.T) {
	httpDate := regexp.MustCompile(`^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$`)
	tests := []struct {
		name        string
		format      string
		wantRetry   string
		matchFormat *regexp.Regexp
	}{
		{name: "default is seconds", format: "", wantRetry: "1"},
		{name: "seconds", format: "seconds", wantRetry: "1"},
		{name: "http-date", format: "http-date", wantRetry: "Thu, 26 Nov 2026 12:00:01 GMT", matchFormat: httpDate},
		{name: "rfc3339", format: "rfc3339", wantRetry: "2026-11-26T12:00:01Z"},
		{name: "none", format: "none", wantRetry: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) // stopped
			e := newTestEnv(t, Options{Now: clock.Now, RateLimit: 5, RetryAfterFormat: tt.format})
			for i := range 5 {
				if resp, body := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
					t.Fatalf("request %d: got %d %s, want 200", i+1, resp.StatusCode, body)
				}
			}
			resp, body := e.do("GET", "/users/me", nil)
			wantZoomError(t, resp, body, 429, 429, msgQPS)
			h := resp.Header
			if h.Get("X-RateLimit-Type") != "QPS" || h.Get("X-RateLimit-Category") != "Light" {
				t.Errorf("headers: got type %q category %q, want QPS, Light", h.Get("X-RateLimit-Type"), h.Get("X-RateLimit-Category"))
			}
			if got := h.Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After: got %q, want %q", got, tt.wantRetry)
			}
			if tt.matchFormat != nil && !tt.matchFormat.MatchString(h.Get("Retry-After")) {
				t.Errorf("Retry-After %q is not an HTTP date", h.Get("Retry-After"))
			}
			resp, _ = e.do("POST", "/users/me/meetings", map[string]any{})
			if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Category") != "Medium" {
				t.Errorf("create: got %d category %q, want 429 Medium", resp.StatusCode, resp.Header.Get("X-RateLimit-Category"))
			}
			if n := len(e.fake.Meetings()); n != 0 {
				t.Errorf("a rate-limited create made a meeting")
			}
			e.fetchToken() // the token endpoint is not limited

			clock.Add(time.Second)
			for i := range 5 {
				if resp, body := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
					t.Fatalf("a second later, request %d: got %d %s, want 200", i+1, resp.StatusCode, body)
				}
			}
			if s := e.fake.Stats(); s.RateLimited != 2 || s.Requests != 12 {
				t.Errorf("Stats: got RateLimited %d Requests %d, want 2, 12", s.RateLimited, s.Requests)
			}
		})
	}
}

func TestSetRateLimit(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	e := newTestEnv(t, Options{Now: clock.Now})
	for range 20 {
		if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Fatalf("no limit: got %d", resp.StatusCode)
		}
	}
	e.fake.SetRateLimit(1)
	if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
		t.Fatalf("first under 1/s: got %d, want 200", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 429 {
		t.Fatalf("second under 1/s: got %d, want 429", resp.StatusCode)
	}
	e.fake.SetRateLimit(0)
	if resp, _ := e.do("GET", "/users/me", nil); resp.StatusCode != 200 {
		t.Fatalf("limit lifted: got %d, want 200", resp.StatusCode)
	}
}

// TestPerSecondRateLimitRealClock sends a burst faster than the limit and
// checks that what got through fits the limit and every refusal is counted.
func TestPerSecondRateLimitRealClock(t *testing.T) {
	const rate = 20
	e := newTestEnv(t, Options{RateLimit: rate})
	start := time.Now()
	var ok, limited int
	for range 100 {
		resp, _ := e.do("GET", "/users/me", nil)
		switch resp.StatusCode {
		case 200:
			ok++
		case 429:
			limited++
		default:
			t.Fatalf("got %d", resp.StatusCode)
		}
	}
	elapsed := time.Since(start)
	if maxOK := rate + int(elapsed.Seconds()*rate) + 1; ok > maxOK {
		t.Errorf("%d requests got through in %v; the limit allows at most %d", ok, elapsed, maxOK)
	}
	if limited == 0 {
		t.Errorf("no 429 in 100 requests at %v", elapsed)
	}
	if s := e.fake.Stats(); s.RateLimited != limited {
		t.Errorf("Stats.RateLimited: got %d, want %d", s.RateLimited, limited)
	}
}
