package worker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestSharedQuotaWithAnotherApp: a Business account whose Medium quota
// (60/s) another app spends half of. The limiter starts at the plan's
// 60/s, learns from X-RateLimit-Remaining that only about 30/s are left,
// and the workers end with few 429s. (The share of the remaining quota
// used is measured by `make bench`, which times it; this test only counts.)
func TestSharedQuotaWithAnotherApp(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{Plan: zoomtest.PlanBusiness, Latency: 5 * time.Millisecond})
	e.fake.SetOtherAppLoad(zoomtest.CategoryMedium, 30)
	limits := &redisstore.Limits{Plan: redisstore.PlanBusiness, MaxWait: 2 * time.Second}
	// Two processes, as a fleet shares the account.
	for range 2 {
		e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(limits)})
	}
	const hosts, n = 4, 300
	for h := range hosts {
		e.fake.AddUser(fmt.Sprintf("host-%d@example.com", h), "Host", fmt.Sprint(h), 1)
	}
	start := time.Now()
	for i := range n {
		id := fmt.Sprintf("q-%d", i)
		body := strings.NewReplacer("james@bond.com", fmt.Sprintf("host-%d@example.com", i%hosts),
			"Demo Meeting 1", "topic "+id).Replace(meetingJob(id))
		e.publish(messages.SubjectMeetingCreate, body, "")
	}
	e.waitAll("q-", n)
	took := time.Since(start)
	st := e.fake.Stats()
	share := float64(st.RateLimited) / float64(st.RateLimited+n)
	t.Logf("%d meetings in %s (%.1f/s of the ~30/s left), %d 429s (%.2f%% of Medium calls)",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), st.RateLimited, 100*share)
	if share > 0.05 {
		t.Errorf("429s were %.1f%% of the calls; want few (target ≤ 1%%): the limiter did not learn what the other app leaves", 100*share)
	}
}
