package zoom

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// quotaLimiter is a Limiter that records the quotas it is told.
type quotaLimiter struct {
	mu     sync.Mutex
	waits  []Category
	quotas []Quota
}

func (l *quotaLimiter) Wait(_ context.Context, cat Category) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits = append(l.waits, cat)
	return nil
}

func (l *quotaLimiter) ObserveQuota(_ context.Context, q Quota) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.quotas = append(l.quotas, q)
}

// wantWaits checks the categories the client waited for.
func (l *quotaLimiter) wantWaits(t *testing.T, want ...Category) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Equal(l.waits, want) {
		t.Errorf("waited for %v, want %v", l.waits, want)
	}
}

func (l *quotaLimiter) seen() []Quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Quota(nil), l.quotas...)
}

func TestClientTellsTheLimiterTheQuota(t *testing.T) {
	reset := fixedNow.Add(time.Second).Truncate(time.Second)
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    Quota
		wantErr func(t *testing.T, err error)
	}{
		{name: "a 2xx with Zoom's headers", status: 200, body: userJSON,
			header: map[string]string{"X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS",
				"X-RateLimit-Limit": "80", "X-RateLimit-Remaining": "55"},
			want: Quota{Op: "get user", Category: Light, ZoomCategory: Light, Type: "QPS", Limit: 80, Remaining: 55, Status: 200}},
		{name: "a per-second 429", status: 429,
			body: `{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`,
			header: map[string]string{"X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS",
				"X-RateLimit-Limit": "80", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795724606"},
			want: Quota{Op: "get user", Category: Light, ZoomCategory: Light, Type: "QPS", Limit: 80, Remaining: 0,
				Reset: time.Unix(1795724606, 0).UTC(), RetryAfter: time.Unix(1795724606, 0).UTC(), Status: 429, Limited: true},
			wantErr: func(t *testing.T, err error) {
				// Zoom's per-second 429 says when in X-RateLimit-Reset only.
				if c, at := Classify(err); c != RetryLater || !at.Equal(time.Unix(1795724606, 0)) {
					t.Errorf("Classify = %v, %v, want RetryLater at the reset", c, at)
				}
			}},
		{name: "a daily pool spent", status: 429,
			body: `{"code":429,"message":"You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."}`,
			header: map[string]string{"X-RateLimit-Category": "Resource-intensive", "X-RateLimit-Type": "Daily-limit",
				"X-RateLimit-Limit": "60000", "X-RateLimit-Remaining": "0", "Retry-After": reset.Format(time.RFC3339)},
			want: Quota{Op: "get user", Category: Light, ZoomCategory: ResourceIntensive, Type: "Daily-limit", Limit: 60000,
				Remaining: 0, RetryAfter: reset, Status: 429, Limited: true},
			wantErr: func(t *testing.T, err error) {
				if c, at := Classify(err); c != RetryLater || !at.Equal(reset) {
					t.Errorf("Classify = %v, %v, want RetryLater, %v", c, at, reset)
				}
			}},
		{name: "another request for the user in progress", status: 429,
			body:   `{"code":429,"message":"Too many concurrent requests. A request to disassociate this user has already been made."}`,
			header: map[string]string{"Retry-After": "1"},
			want:   Quota{Op: "get user", Category: Light, Remaining: -1, RetryAfter: fixedNow.Add(time.Second), Status: 429, UserBusy: true},
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || !ae.UserBusy {
					t.Fatalf("err = %v, want an APIError with UserBusy", err)
				}
				if c, _ := Classify(err); c != RetrySoon {
					t.Errorf("Classify = %v, want RetrySoon for this call only", c)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, answering(tt.status, tt.header, tt.body))
			lim := &quotaLimiter{}
			c := newTestClient(t, srv, func(o *Options) { o.Limiter = lim; o.Now = func() time.Time { return fixedNow } })
			_, err := c.GetUser(context.Background(), "x")
			if (err != nil) != (tt.status >= 300) {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != nil {
				tt.wantErr(t, err)
			}
			got := lim.seen()
			if len(got) != 1 {
				t.Fatalf("ObserveQuota calls = %d, want 1", len(got))
			}
			if got[0] != tt.want {
				t.Errorf("quota = %+v\nwant    %+v", got[0], tt.want)
			}
		})
	}
}

// Zoom counts a host's meeting creates and updates in the rate-limit
// headers of their answers: that count is the host's, not an account pool.
func TestHostsDailyCountIsPerUser(t *testing.T) {
	srv := newTestServer(t, answering(201, map[string]string{"X-RateLimit-Type": "Daily-limit",
		"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}, meetingJSON))
	lim := &quotaLimiter{}
	c := newTestClient(t, srv, func(o *Options) { o.Limiter = lim })
	if _, err := c.CreateMeeting(context.Background(), "me", map[string]any{"topic": "x"}); err != nil {
		t.Fatal(err)
	}
	q := lim.seen()
	if len(q) != 1 || !q[0].PerUser || q[0].Limited || q[0].Category != Medium || q[0].Remaining != 0 {
		t.Errorf("quota = %+v; want the host's count (PerUser) of a Medium call", q)
	}
}

func TestClientSkipsAnswersWithoutQuota(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { answer(w, 200, userJSON) })
	lim := &quotaLimiter{}
	c := newTestClient(t, srv, func(o *Options) { o.Limiter = lim })
	if _, err := c.GetUser(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if n := len(lim.seen()); n != 0 {
		t.Errorf("ObserveQuota calls = %d, want 0 for an answer that says nothing of the quota", n)
	}
	lim.wantWaits(t, Light)
}

func TestAPIErrorCarriesTheTrackingID(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-zm-trackingid", "v=2.0;clid=us06;rid=WEB_0a1b2c")
		answer(w, 404, `{"code":1001,"message":"User does not exist: x."}`)
	})
	c := newTestClient(t, srv)
	_, err := c.GetUser(context.Background(), "x")
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	if got, want := ae.TrackingID, "v=2.0;clid=us06;rid=WEB_0a1b2c"; got != want {
		t.Errorf("TrackingID = %q, want %q", got, want)
	}
	if got, want := err.Error(), "zoom: get user: 404 (code 1001): User does not exist: x. (tracking id v=2.0;clid=us06;rid=WEB_0a1b2c)"; got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("Error() holds the token")
	}
}
