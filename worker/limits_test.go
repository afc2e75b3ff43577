package worker_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/account"
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
	e.Fake.SetOtherAppLoad(zoomtest.CategoryMedium, 30)
	limits := &redisstore.Limits{Plan: redisstore.PlanBusiness, MaxWait: 2 * time.Second}
	// Two processes, as a fleet shares the account.
	for range 2 {
		e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(limits)})
	}
	const hosts, n = 4, 300
	for h := range hosts {
		e.Fake.AddUser(fmt.Sprintf("host-%d@example.com", h), "Host", fmt.Sprint(h), 1)
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
	st := e.Fake.Stats()
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
	if n := e.Fake.Stats().MeetingsCreated; n != 0 {
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
	e.Fake.FailNext(1, 429)
	e.publish(messages.SubjectMeetingCreate, meetingJob("p-1"), "")
	e.waitEvent("p-1", messages.SubjectMeetingCreated, 1)
	if st := e.Fake.Stats(); st.RateLimited != 1 {
		t.Fatalf("the fake answered %d 429s; want 1", st.RateLimited)
	}
	if n := pc.pauses.Load(); n != 0 {
		t.Errorf("the worker paused the whole account %d times after a Medium 429; want 0 (the limiter pauses Medium only)", n)
	}
}

// TestBacklogOfOneAccountDoesNotDelayAnother: account "backlog", limited to
// 10/s, has 90 jobs queued (9 s of its quota); the default account's 20
// jobs, published after them, all finish while most of the backlog still
// waits, and the backlog's jobs handed back come back about when they can
// run (few deliveries per job). Before the per-account share, the backlog
// held every slot waiting for its limiter and the other account's jobs ran
// after it.
func TestBacklogOfOneAccountDoesNotDelayAnother(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	spec := e.AccountSpec("backlog")
	spec.Limits = redisstore.Limits{PerSecond: 10}
	backlog, err := account.New(spec, e.store)
	if err != nil {
		t.Fatal(err)
	}
	e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(nil), "backlog": backlog})

	const nb, n = 90, 20 // under a host's 100 meetings a day
	e.Fake.AddUser("backlog-host@example.com", "Backlog", "Host", 1)
	for i := range nb {
		body := strings.Replace(meetingJob(fmt.Sprintf("bl-%d", i)), "{", `{"account":"backlog",`, 1)
		body = strings.Replace(body, "james@bond.com", "backlog-host@example.com", 1)
		e.publish(messages.SubjectMeetingCreate, body, "")
	}
	e.waitEvent("bl-0", messages.SubjectMeetingCreated, 1) // the backlog runs first
	e.publishMeetings("other-", n)
	backlogDone := e.doneWhenAll("other-", n, "bl-", nb)
	if backlogDone >= nb/2 {
		t.Errorf("the other account's %d jobs finished after %d of the backlog's %d; want before half of it", n, backlogDone, nb)
	}

	for i := range nb {
		e.events.Wait(t, fmt.Sprintf("bl-%d", i), messages.SubjectMeetingCreated, 1, 120*time.Second)
	}
	e.waitIdle()
	cons, err := e.JS.Consumer(e.t.Context(), messages.StreamJobs, messages.ConsumerName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(e.t.Context())
	if err != nil {
		t.Fatal(err)
	}
	per := float64(info.Delivered.Consumer) / (nb + n)
	t.Logf("backlog done when the other account finished: %d of %d; %d deliveries for %d jobs (%.2f per job)",
		backlogDone, nb, info.Delivered.Consumer, nb+n, per)
	if per > 2.5 {
		t.Errorf("%.2f deliveries per job; want at most 2.5 (handed-back jobs come back spread by the account's pace)", per)
	}
	if got := e.Fake.Stats().MeetingsCreated; got != nb+n {
		t.Errorf("meetings created = %d; want %d", got, nb+n)
	}
}

// TestBacklogOfOneHostDoesNotDelayAnother: in one account limited to 10/s,
// host A has 90 create-meeting jobs queued (9 s of the account's quota);
// host B's 10 jobs, published after them, all finish while most of A's
// backlog still waits. Before the per-host share, A's jobs held every slot
// and the fetch loop waited behind them, so B's jobs ran after A's.
func TestBacklogOfOneHostDoesNotDelayAnother(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.Concurrency = 8 })
	e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(&redisstore.Limits{PerSecond: 10})})

	const na, nb = 90, 10 // under a host's 100 meetings a day
	e.Fake.AddUser("host-a@example.com", "Host", "A", 1)
	for i := range na {
		body := strings.Replace(meetingJob(fmt.Sprintf("a-%d", i)), "james@bond.com", "host-a@example.com", 1)
		e.publish(messages.SubjectMeetingCreate, body, "")
	}
	e.waitEvent("a-0", messages.SubjectMeetingCreated, 1) // A's backlog runs first
	e.publishMeetings("b-", nb)
	aDone := e.doneWhenAll("b-", nb, "a-", na)
	t.Logf("host A done when host B finished: %d of %d", aDone, na)
	if aDone >= na/2 {
		t.Errorf("host B's %d jobs finished after %d of host A's %d; want before half of them", nb, aDone, na)
	}
	for i := range na {
		e.events.Wait(t, fmt.Sprintf("a-%d", i), messages.SubjectMeetingCreated, 1, 120*time.Second)
	}
	e.waitIdle()
	if got := e.Fake.Stats().MeetingsCreated; got != na+nb {
		t.Errorf("meetings created = %d; want %d", got, na+nb)
	}
}

// doneWhenAll waits for the meetings of jobs prefix0 to prefix(n-1), then
// says how many of the backlog's jobs (backlog0 to backlog(nb-1)) are done.
func (e *testEnv) doneWhenAll(prefix string, n int, backlog string, nb int) int {
	for i := range n {
		e.events.Wait(e.t, fmt.Sprintf("%s%d", prefix, i), messages.SubjectMeetingCreated, 1, 60*time.Second)
	}
	done := 0
	for i := range nb {
		if len(e.eventsFor(fmt.Sprintf("%s%d", backlog, i))) > 0 {
			done++
		}
	}
	return done
}

func TestDailyHostLimitDefersJobs(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{DailyMeetingLimit: 2})
	e.start()
	for i := range 3 {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("d-%d", i)), "")
		if i < 2 {
			e.waitEvent(fmt.Sprintf("d-%d", i), messages.SubjectMeetingCreated, 1)
		}
	}
	ev := decode[messages.JobDeferred](t, e.waitEvent("d-2", messages.SubjectJobDeferred, 1))
	until, err := time.Parse(time.RFC3339, ev.Until)
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if err != nil || !until.Equal(midnight) || !strings.Contains(ev.Reason, "james@bond.com") {
		t.Errorf("job.deferred = %+v; want until %s naming the host", ev, midnight.Format(time.RFC3339))
	}
	// The job waits in ZOOM_JOBS; a fourth job for the host is deferred
	// without a call to Zoom.
	callsBefore := e.Fake.Stats().Requests
	e.publish(messages.SubjectMeetingCreate, meetingJob("d-3"), "")
	e.waitEvent("d-3", messages.SubjectJobDeferred, 1)
	if got := e.Fake.Stats().Requests - callsBefore; got != 0 {
		t.Errorf("Zoom requests for a host known to be limited = %d; want 0", got)
	}
	if got := e.streamCount(messages.StreamJobs, messages.SubjectMeetingCreate); got != 2 {
		t.Errorf("ZOOM_JOBS holds %d deferred jobs; want 2", got)
	}
	if got := len(e.eventsFor("d-2")); got != 1 {
		t.Errorf("job d-2 has %d events; want only job.deferred", got)
	}
}

func TestDailyHostLimitCanFailJobs(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{DailyMeetingLimit: 1}, func(c *worker.Config) { c.DailyLimit = worker.DailyLimitFail })
	e.start()
	e.publish(messages.SubjectMeetingCreate, meetingJob("f-0"), "")
	e.waitEvent("f-0", messages.SubjectMeetingCreated, 1)
	e.publish(messages.SubjectMeetingCreate, meetingJob("f-1"), "")
	ev := decode[messages.JobFailed](t, e.waitEvent("f-1", messages.SubjectJobFailed, 1))
	if ev.Error.Kind != messages.KindZoomRejected || ev.Error.HTTPStatus != 429 {
		t.Errorf("job.failed = %+v; want zoom_rejected 429", ev.Error)
	}
}

func TestSharedRateLimitAvoids429s(t *testing.T) {
	const rate = 40.0
	e := newTestEnv(t, zoomtest.Options{RateLimit: rate})
	limits := &redisstore.Limits{PerSecond: rate}
	// Three workers share the account's limit through Redis.
	for range 3 {
		e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(limits)})
	}
	const n = 80
	start := time.Now()
	e.publishMeetings("rl-", n)
	e.waitAll("rl-", n)
	took := time.Since(start)
	st := e.Fake.Stats()
	if st.RateLimited > n/100+1 {
		t.Errorf("fake Zoom answered %d of %d requests with 429; want (almost) none", st.RateLimited, st.Requests)
	}
	if st.TokensIssued != 1 {
		t.Errorf("three workers minted %d OAuth tokens; want 1, shared through Redis", st.TokensIssued)
	}
	// n calls at `rate`/s cannot finish much faster than n/rate.
	if min := time.Duration(float64(n-2) / rate * float64(time.Second)); took < min {
		t.Errorf("%d jobs took %s; the limit of %.0f/s allows no less than %s", n, took, rate, min)
	}
}

func TestZoom429SlowsEveryone(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	limits := &redisstore.Limits{PerSecond: 1000}
	e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(limits)})
	e.Fake.FailNext(1, 429)
	e.publish(messages.SubjectMeetingCreate, meetingJob("p-0"), "")
	e.waitEvent("p-0", messages.SubjectMeetingCreated, 1)
	if got := e.Fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1", got)
	}
}

func TestRateLimitWaitsDoNotUseAttempts(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.MaxAttempts = 2 })
	// A slow limit and a short in-process wait: most jobs go back to the
	// stream to wait for their slot, again and again.
	e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(&redisstore.Limits{PerSecond: 4, MaxWait: 50 * time.Millisecond})})
	const n = 10
	e.publishMeetings("w-", n)
	e.waitAll("w-", n)
	for i := range n {
		for _, m := range e.eventsFor(fmt.Sprintf("w-%d", i)) {
			if m.Subject == messages.SubjectJobFailed {
				t.Errorf("job w-%d failed while waiting for the rate limiter: %s", i, m.Data)
			}
		}
	}
}

func TestTwoAccountsOneRateLimited(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	// A second Zoom account, with its own fake Zoom that allows 2 requests/s.
	slow := zoomtest.New(zoomtest.Options{AccountID: "acct-b", ClientID: "client-b", ClientSecret: "secret-b", RateLimit: 2})
	slow.AddUser("james@bond.com", "James", "Bond", 1)
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	b, err := account.New(account.Spec{Name: "school-b", AccountID: "acct-b", ClientID: "client-b", ClientSecret: "secret-b",
		APIURL: srv.URL + "/v2", TokenURL: srv.URL + "/oauth/token", Limits: redisstore.Limits{PerSecond: 2}}, e.store)
	if err != nil {
		t.Fatal(err)
	}
	e.startWith(map[string]worker.Account{
		worker.DefaultAccount: e.account(&redisstore.Limits{PerSecond: 1000}),
		"school-b":            b,
	})
	const n = 10
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, `{"job_id":"b-`+strconv.Itoa(i)+`","account":"school-b","user_id":"james@bond.com","meeting":{"topic":"B"}}`, "")
	}
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, meetingJob("a-"+strconv.Itoa(i)), "")
	}
	for i := range n {
		e.waitEvent("a-"+strconv.Itoa(i), messages.SubjectMeetingCreated, 1)
	}
	// The default account did not wait for the rate-limited one: at 2/s
	// its 10 jobs take over 4 s, and they are not all done yet. (A count,
	// not a clock: the order in which the two accounts' jobs end.)
	if got := slow.Stats().MeetingsCreated; got >= n {
		t.Errorf("all %d of school-b's meetings were made before the default account's %d jobs ended; want the default account not to wait for school-b", got, n)
	}
	// The rate-limited account's jobs finish too, at its own pace.
	for i := range n {
		ev := decode[messages.MeetingCreated](t, e.waitEvent("b-"+strconv.Itoa(i), messages.SubjectMeetingCreated, 1))
		if ev.Account != "school-b" {
			t.Errorf("event account = %q; want school-b", ev.Account)
		}
	}
	if got := e.Fake.Stats().MeetingsCreated; got != n+0 {
		t.Errorf("default account meetings = %d; want %d", got, n)
	}
	if got := slow.Stats().MeetingsCreated; got != n {
		t.Errorf("school-b meetings = %d; want %d", got, n)
	}
	if got := slow.Stats().RateLimited; got > 1 {
		t.Errorf("school-b's Zoom answered %d requests with 429; want (almost) none", got)
	}
}
