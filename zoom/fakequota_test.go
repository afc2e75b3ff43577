package zoom

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// newFakeZoom is a fake Zoom and a client of it that tells lim the quota.
func newFakeZoom(t *testing.T, opts zoomtest.Options, lim Limiter) (*zoomtest.Server, *Client) {
	t.Helper()
	fake := zoomtest.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := NewClient(Options{BaseURL: srv.URL + "/v2", Tokens: StaticToken(fake.IssueToken()), Limiter: lim})
	if err != nil {
		t.Fatal(err)
	}
	fake.AddUser("james@bond.com", "James", "Bond", 1)
	return fake, c
}

// The fake sends the quota headers of a Pro account as Zoom does; the
// limiter hears them with the operation's category.
func TestQuotaFromZoomsHeaders(t *testing.T) {
	lim := &quotaLimiter{}
	_, c := newFakeZoom(t, zoomtest.Options{Plan: zoomtest.PlanPro}, lim)
	ctx := context.Background()
	if _, err := c.GetUser(ctx, "james@bond.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListAllMeetings(ctx, "james@bond.com", ""); err != nil {
		t.Fatal(err)
	}
	q := lim.seen()
	if len(q) != 2 {
		t.Fatalf("quotas = %+v; want one per answer", q)
	}
	for i, want := range []struct {
		cat   Category
		limit int
	}{{Light, 30}, {Medium, 20}} {
		if got := q[i]; got.Category != want.cat || got.ZoomCategory != want.cat || got.Type != "QPS" ||
			got.Limit != want.limit || got.Remaining < 0 || got.Remaining >= want.limit || got.Limited {
			t.Errorf("quota %d = %+v; want %s, QPS, limit %d, some remaining", i, got, want.cat, want.limit)
		}
	}
}

// A write to a user that another write holds is Zoom's 429 for that user
// only: UserBusy, RetrySoon, and not the account's quota.
func TestUserBusyFromZoom(t *testing.T) {
	lim := &quotaLimiter{}
	fake, c := newFakeZoom(t, zoomtest.Options{}, lim)
	// Each create holds its user for 2 s inside Zoom: two creates of one
	// user started 100 ms apart overlap, and the later one is refused.
	fake.SetOpLatency("userCreate", 2*time.Second)
	errs := make(chan error, 2)
	create := func() {
		_, err := c.CreateUser(context.Background(), "custCreate", map[string]any{"email": "new@bond.com", "type": 1})
		errs <- err
	}
	go create()
	time.Sleep(100 * time.Millisecond)
	go create()
	var busy *APIError
	for range 2 {
		var ae *APIError
		if err := <-errs; errors.As(err, &ae) && ae.StatusCode == 429 {
			busy = ae
		}
	}
	if busy == nil || !busy.UserBusy {
		t.Fatalf("two overlapping creates of one user: 429 = %+v; want one with UserBusy", busy)
	}
	if class, _ := Classify(busy); class != RetrySoon {
		t.Errorf("Classify = %v; want RetrySoon", class)
	}
	var q []Quota
	for _, x := range lim.seen() {
		if x.Status == 429 {
			q = append(q, x)
		}
	}
	if len(q) != 1 || !q[0].UserBusy || q[0].Limited {
		t.Errorf("quotas of the 429 = %+v; want one UserBusy, not Limited", q)
	}
}
