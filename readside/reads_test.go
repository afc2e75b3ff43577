package readside_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

func meetingBody(id int64) string { return `{"meeting_id": ` + strconv.FormatInt(id, 10) + `}` }

func TestMissesCoalescedAndWrittenBack(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})
	f := e.fixtures()
	e.Fake.SetLatency(300 * time.Millisecond) // the misses overlap
	before := e.Fake.Stats().Requests

	const n = 32
	var wg sync.WaitGroup
	answers := make([]answer, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting))
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.Code != "" || !strings.Contains(string(a.Body), `"Gadgets"`) {
			t.Fatalf("read %d: %s %s", i, a.Code, a.Body)
		}
	}
	if got := e.Fake.Stats().Requests - before; got != 1 {
		t.Errorf("%d concurrent misses made %d Zoom calls, want 1", n, got)
	}
	if a := e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting)); !strings.Contains(string(a.Body), `"source":"cache"`) {
		t.Errorf("after the miss: %s, want it from the cache", a.Body)
	}
	if got := e.Fake.Stats().Requests - before; got != 1 {
		t.Errorf("the written-back copy was not used: %d Zoom calls", got)
	}
}

func TestNotFoundRemembered(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{}, func(c *readside.Config) { c.NotFoundTTL = time.Hour })
	before := e.Fake.Stats().Requests
	for i := range 20 {
		if a := e.request(readside.SubjectMeetingGet, meetingBody(999000111)); a.Code != "404" {
			t.Fatalf("read %d of an unknown meeting: %q %s", i, a.Code, a.Description)
		}
	}
	if got := e.Fake.Stats().Requests - before; got != 1 {
		t.Errorf("20 reads of an unknown meeting made %d Zoom calls, want 1", got)
	}
}

func TestHitNeverWaitsForMiss(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})
	e.fixtures()
	e.Fake.SetLatency(3 * time.Second)
	missDone := make(chan answer, 1)
	go func() { missDone <- e.request(readside.SubjectMeetingGet, meetingBody(999000222)) }()
	time.Sleep(100 * time.Millisecond) // let the miss reach Zoom first
	for i := range 5 {
		if a := e.request(readside.SubjectMeetingGet, `{"meeting_id": 111}`); a.Code != "" {
			t.Fatalf("hit %d: %s %s", i, a.Code, a.Description)
		}
		select {
		case <-missDone:
			t.Fatalf("hit %d answered only after the miss that Zoom holds for 3 s", i)
		default:
		}
	}
	<-missDone
}

func TestStaleCopyWhenZoomCannotAnswer(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{}, func(c *readside.Config) { c.IncludeStartURL = true })
	f := e.fixtures()
	if a := e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting)); a.Code != "" {
		t.Fatal(a.Description)
	}
	// A webhook said it changed; Zoom then fails every call.
	if _, _, err := e.Store.Apply(ctx(t), worker.DefaultAccount, readside.MeetingKey(f.zoomMeeting),
		time.Now().UnixMilli(), false, false, time.Minute); err != nil {
		t.Fatal(err)
	}
	e.Fake.SetFailRate(1)
	a := e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting))
	if a.Code != "" {
		t.Fatalf("with Zoom failing and a stale copy: %s %s, want the copy", a.Code, a.Description)
	}
	r := decodeAs[readside.MeetingResponse](t, a.Body)
	if !r.Stale || r.Source != "cache" || r.Meeting.Topic != "Gadgets" {
		t.Errorf("answer %s, want the cached copy marked stale", a.Body)
	}
	if strings.Contains(string(a.Body), "start_url") {
		t.Errorf("a stale copy carries start_url: %s", a.Body)
	}
	// Zoom answers again: the copy is fresh again.
	e.Fake.SetFailRate(0)
	if a := e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting)); strings.Contains(string(a.Body), `"stale"`) ||
		!strings.Contains(string(a.Body), "start_url") {
		t.Errorf("after Zoom recovered: %s", a.Body)
	}
}

func TestReadsHaveTheirOwnRateShare(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})
	_ = e.svc.Stop()
	// The read side's line: one call a minute, waits of at most 100 ms.
	spec := e.AccountSpec("")
	spec.LimiterName, spec.Limits = "default:read", redisstore.Limits{PerSecond: 1.0 / 60, MaxWait: 100 * time.Millisecond}
	reads, err := account.New(spec, e.Store)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := readside.Start(e.NC, readside.Config{Jobs: e.Store, Cache: e.Store, Logger: testenv.Logger(),
		Accounts: map[string]readside.Zoom{worker.DefaultAccount: reads.Zoom}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	// The jobs' line of the same account is used up: it does not matter.
	jobs := e.Store.NewLimiter("default", redisstore.Limits{PerSecond: 1.0 / 60, MaxWait: time.Millisecond})
	_ = jobs.Wait(ctx(t), zoom.Light)

	if a := e.request(readside.SubjectMeetingGet, meetingBody(999000333)); a.Code != "404" {
		t.Fatalf("first miss: %q %s, want Zoom's 404 (the reads' share has room)", a.Code, a.Description)
	}
	a := e.request(readside.SubjectMeetingGet, meetingBody(999000444))
	if a.Code != "503" || !strings.Contains(a.Description, "rate limit") {
		t.Errorf("second miss with the reads' share used up: %q %s, want 503 naming the rate limit", a.Code, a.Description)
	}
}

// A job's copy written after a webhook was applied (its Zoom answer may
// predate the change the webhook reported) is fetched again, not trusted.
func TestJobCopyAfterWebhookFetchedAgain(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})
	f := e.fixtures()
	if _, _, err := e.Store.Apply(ctx(t), worker.DefaultAccount, readside.MeetingKey(f.zoomMeeting),
		time.Now().UnixMilli(), false, true, time.Minute); err != nil {
		t.Fatal(err)
	}
	if a := e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting)); !strings.Contains(string(a.Body), `"Gadgets"`) {
		t.Fatalf("after the webhook: %s", a.Body)
	}
	// A job finishes late with what Zoom answered it before the change.
	e.begin("m-late", "zoom.jobs.meeting.update")
	e.finish(worker.Finish{JobID: "m-late", State: worker.StateSucceeded,
		Meetings: []worker.MeetingJSON{{ID: f.zoomMeeting, JSON: []byte(`{"id":` + strconv.FormatInt(f.zoomMeeting, 10) + `,"topic":"Before the change"}`)}}})
	a := e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting))
	if a.Code != "" || !strings.Contains(string(a.Body), `"Gadgets"`) || !strings.Contains(string(a.Body), `"source":"zoom"`) {
		t.Errorf("after a job's late copy: %s %s; want Zoom's meeting, fetched again", a.Code, a.Body)
	}
	if a := e.request(readside.SubjectMeetingGet, meetingBody(f.zoomMeeting)); !strings.Contains(string(a.Body), `"source":"cache"`) {
		t.Errorf("the fetched copy was not written back: %s", a.Body)
	}
}
