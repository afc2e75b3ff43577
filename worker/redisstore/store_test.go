package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
)

func newStore(t *testing.T) (*redisstore.Store, *redis.Client) {
	t.Helper()
	r := testenv.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return redisstore.New(rdb, redisstore.Options{}), rdb
}

func TestJobRecordLifecycle(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	b := worker.Begin{JobID: "j-1", Subject: messages.SubjectMeetingCreate, Owner: "a", Lease: time.Minute}

	c, err := s.Begin(ctx, b)
	if err != nil || c.State != worker.Started || c.Attempts != 1 || c.Uncertain {
		t.Fatalf("first Begin = %+v, %v; want started, attempt 1, certain", c, err)
	}
	other := b
	other.Owner = "b"
	if c, _ := s.Begin(ctx, other); c.State != worker.Busy || c.Until.Before(time.Now()) {
		t.Errorf("Begin by another owner during the lease = %+v; want busy until the lease ends", c)
	}
	if err := s.Finish(ctx, worker.Finish{JobID: "j-1", Owner: "a", State: worker.StateRetrying, Uncertain: true}); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Begin(ctx, other)
	if c.State != worker.Started || c.Attempts != 2 || !c.Uncertain {
		t.Errorf("Begin after an uncertain retry = %+v; want started, attempt 2, uncertain", c)
	}
	ev := []byte(`{"job_id":"j-1"}`)
	if err := s.Finish(ctx, worker.Finish{JobID: "j-1", Owner: "b", State: worker.StateSucceeded,
		EventSubject: messages.SubjectMeetingCreated, Event: ev,
		Meetings: []worker.MeetingJSON{{ID: 42, JSON: []byte(`{"id":42,"topic":"t"}`)}}, ClaimMeeting: 42}); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Begin(ctx, b)
	if c.State != worker.Succeeded || string(c.Record.Event) != string(ev) || c.Record.EventSubject != messages.SubjectMeetingCreated {
		t.Errorf("Begin after success = %+v; want succeeded with the stored event", c)
	}
	// A success is final: a late failure does not overwrite it.
	_ = s.Finish(ctx, worker.Finish{JobID: "j-1", Owner: "a", State: worker.StateFailed, Error: &messages.FailError{Kind: "x"}})
	if r, _ := s.JobRecord(ctx, "", "j-1"); r == nil || r.State != worker.StateSucceeded || r.Attempts != 2 {
		t.Errorf("record = %+v; want succeeded after 2 attempts", r)
	}
	if owners, _ := s.ClaimedMeetings(ctx, "", []int64{42, 43}); owners[0] != "j-1" || owners[1] != "" {
		t.Errorf("claims = %q; want [j-1 \"\"]", owners)
	}
	if m, _ := s.CachedMeeting(ctx, "", 42); m == nil || m.Topic != "t" {
		t.Errorf("cached meeting = %+v", m)
	}
}

func TestExpiredLeaseMakesTheNextAttemptUncertain(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	b := worker.Begin{JobID: "j-2", Owner: "a", Lease: 50 * time.Millisecond}
	if _, err := s.Begin(ctx, b); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the owner "crashed"; its lease runs out
	b.Owner = "b"
	c, _ := s.Begin(ctx, b)
	if c.State != worker.Started || !c.Uncertain || c.Attempts != 2 {
		t.Errorf("Begin after a lost attempt = %+v; want started and uncertain", c)
	}
}

func TestHostLimitedDefersWithoutAnAttempt(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	until := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := s.SetHostLimited(ctx, "", "James@Bond.com", until); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Begin(ctx, worker.Begin{JobID: "j-3", Owner: "a", Lease: time.Minute, HostLimitKey: "james@bond.com"})
	if c.State != worker.HostLimited || !c.Until.Equal(until) || c.Attempts != 0 {
		t.Errorf("Begin for a limited host = %+v; want host-limited until %s with no attempt", c, until)
	}
}

func TestLimiterSharesOneRate(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	// Two processes' limiters on one account share the same slots.
	a := s.NewLimiter("", redisstore.Limits{PerSecond: 1, MaxWait: 10 * time.Millisecond})
	b := s.NewLimiter("", redisstore.Limits{PerSecond: 1, MaxWait: 10 * time.Millisecond})
	if err := a.Wait(ctx, zoom.Light); err != nil {
		t.Fatalf("first request: %v", err)
	}
	err := b.Wait(ctx, zoom.Light)
	var we *redisstore.WaitError
	if !errors.As(err, &we) {
		t.Fatalf("second request at 1/s = %v; want a WaitError", err)
	}
	if d := time.Until(we.Until); d < 500*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("next slot in %s; want about 1s", d)
	}
	// Another account is not affected.
	if err := s.NewLimiter("other", redisstore.Limits{PerSecond: 1}).Wait(ctx, zoom.Light); err != nil {
		t.Errorf("another account's first request: %v", err)
	}
}

func TestPauseStopsEveryProcess(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := s.NewLimiter("", redisstore.Limits{PerSecond: 1000, MaxWait: 50 * time.Millisecond})
	b := s.NewLimiter("", redisstore.Limits{PerSecond: 1000, MaxWait: 50 * time.Millisecond})
	until := time.Now().Add(2 * time.Second)
	if err := a.PauseUntil(ctx, until); err != nil {
		t.Fatal(err)
	}
	_ = a.PauseUntil(ctx, time.Now()) // an earlier time changes nothing
	var we *redisstore.WaitError
	if err := b.Wait(ctx, zoom.Medium); !errors.As(err, &we) || we.Until.Before(until.Add(-100*time.Millisecond)) {
		t.Errorf("Wait during a pause = %v; want a WaitError until %s", err, until)
	}
}

func TestTokenCache(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	c := s.TokenCache("")
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if _, _, ok, err := c.GetToken(ctx, "k"); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	_ = c.SetToken(ctx, "k", "tok-1", exp)
	tok, got, ok, _ := c.GetToken(ctx, "k")
	if !ok || tok != "tok-1" || !got.Equal(exp) {
		t.Errorf("GetToken = %q, %s, %v; want tok-1, %s", tok, got, ok, exp)
	}
	_ = c.DeleteToken(ctx, "k", "tok-0") // not the cached one: kept
	if _, _, ok, _ := c.GetToken(ctx, "k"); !ok {
		t.Errorf("DeleteToken of another token dropped the cached one")
	}
	_ = c.DeleteToken(ctx, "k", "tok-1")
	if _, _, ok, _ := c.GetToken(ctx, "k"); ok {
		t.Errorf("DeleteToken of the cached token kept it")
	}
}
