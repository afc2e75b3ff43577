package worker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestBacklogOfOneAccountDoesNotDelayAnother: account "backlog", limited to
// 10/s, has 90 jobs queued (9 s of its quota); the default account's 20
// jobs, published after them, all finish while most of the backlog still
// waits, and the backlog's jobs handed back come back about when they can
// run (few deliveries per job). Before the per-account share, the backlog
// held every slot waiting for its limiter and the other account's jobs ran
// after it.
func TestBacklogOfOneAccountDoesNotDelayAnother(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	spec := e.stack.AccountSpec("backlog")
	spec.Limits = redisstore.Limits{PerSecond: 10}
	backlog, err := account.New(spec, e.store)
	if err != nil {
		t.Fatal(err)
	}
	e.startWith(map[string]worker.Account{worker.DefaultAccount: e.account(nil), "backlog": backlog})

	const nb, n = 90, 20 // under a host's 100 meetings a day
	e.fake.AddUser("backlog-host@example.com", "Backlog", "Host", 1)
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
	cons, err := e.js.Consumer(e.t.Context(), messages.StreamJobs, messages.ConsumerName)
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
	if got := e.fake.Stats().MeetingsCreated; got != nb+n {
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
	e.fake.AddUser("host-a@example.com", "Host", "A", 1)
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
	if got := e.fake.Stats().MeetingsCreated; got != na+nb {
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
