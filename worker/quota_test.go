package worker_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
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

// TestDailyPoolUsedUpDefersJobs: once Zoom has said a daily pool of the
// account is used up, the shared limiter refuses that category's calls
// until the reset, and the worker defers those jobs (job.deferred, no
// attempt used, no Zoom call) as it does for a host's daily limit.
func TestDailyPoolUsedUpDefersJobs(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	limits := &redisstore.Limits{PerSecond: 1000}
	acct := e.account(limits)
	e.startWith(map[string]worker.Account{worker.DefaultAccount: acct})
	reset := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	lim := e.store.NewLimiter(worker.DefaultAccount, *limits)
	lim.ObserveQuota(context.Background(), zoom.Quota{Category: zoom.Medium, Type: "Daily-limit", Limit: 1000,
		Remaining: 0, Status: 429, Limited: true, RetryAfter: reset})
	e.publish(messages.SubjectMeetingCreate, meetingJob("dp-1"), "")
	ev := decode[messages.JobDeferred](t, e.waitEvent("dp-1", messages.SubjectJobDeferred, 1))
	if ev.Until != reset.Format(time.RFC3339) || !strings.Contains(ev.Reason, "daily quota") {
		t.Errorf("job.deferred = %+v; want until %s with the pool's reason", ev, reset.Format(time.RFC3339))
	}
	if n := e.fake.Stats().MeetingsCreated; n != 0 {
		t.Errorf("Zoom created %d meetings; want none while the pool is used up", n)
	}
	// Light is not in that pool: a user job still runs.
	e.publish(messages.SubjectUserCreate, `{"job_id":"dp-u","user_info":{"email":"a@b.c","type":1}}`, "")
	e.waitEvent("dp-u", messages.SubjectUserCreated, 1)
}

// pauseCounter is a shared limiter that counts account-wide pauses.
type pauseCounter struct {
	*redisstore.Limiter
	pauses atomic.Int32
}

func (p *pauseCounter) PauseUntil(ctx context.Context, until time.Time) error {
	p.pauses.Add(1)
	return p.Limiter.PauseUntil(ctx, until)
}

// TestA429PausesOnlyItsCategory: the limiter learns of Zoom's 429 from the
// client (ObserveQuota) and pauses that category; the worker does not
// pause the whole account on top, which would hold Light calls back for a
// Medium 429.
func TestA429PausesOnlyItsCategory(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	acct := e.account(&redisstore.Limits{Plan: redisstore.PlanBusiness})
	pc := &pauseCounter{Limiter: acct.Limiter.(*redisstore.Limiter)}
	acct.Limiter = pc // what the worker is told of; the client keeps the limiter itself
	e.startWith(map[string]worker.Account{worker.DefaultAccount: acct})
	e.fake.FailNext(1, 429)
	e.publish(messages.SubjectMeetingCreate, meetingJob("p-1"), "")
	e.waitEvent("p-1", messages.SubjectMeetingCreated, 1)
	if st := e.fake.Stats(); st.RateLimited != 1 {
		t.Fatalf("the fake answered %d 429s; want 1", st.RateLimited)
	}
	if n := pc.pauses.Load(); n != 0 {
		t.Errorf("the worker paused the whole account %d times after a Medium 429; want 0 (the limiter pauses Medium only)", n)
	}
}
