package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
)

// held reports whether a second request right after a first one is held
// back (a WaitError: its slot is further than MaxWait).
func held(t *testing.T, l *redisstore.Limiter, cat zoom.Category) bool {
	t.Helper()
	ctx := context.Background()
	var we *redisstore.WaitError
	for i := 0; i < 2; i++ {
		err := l.Wait(ctx, cat)
		if errors.As(err, &we) {
			return true
		}
		if err != nil {
			t.Fatalf("Wait(%s) = %v", cat, err)
		}
	}
	return false
}

// TestLimiterSlowsBeforeZoomSays429: answers whose X-RateLimit-Remaining
// is low (another app spends the quota) slow the category for every
// process sharing the account; readings with room left bring it back.
func TestLimiterSlowsBeforeZoomSays429(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	// 100/s with MaxWait 50 ms: back-to-back requests pass.
	lim := redisstore.Limits{Medium: 100, MaxWait: 50 * time.Millisecond}
	a, b := s.NewLimiter("", lim), s.NewLimiter("", lim)
	if held(t, a, zoom.Medium) {
		t.Fatal("held at 100/s before any answer")
	}
	low := zoom.Quota{Category: zoom.Medium, Type: "QPS", Limit: 100, Remaining: 10, Status: 200}
	for i := 0; i < 40; i++ { // cuts are spaced in time; keep telling until they add up
		a.ObserveQuota(ctx, low)
		if held(t, b, zoom.Medium) {
			break
		}
		time.Sleep(120 * time.Millisecond)
	}
	if !held(t, b, zoom.Medium) {
		t.Fatal("another process is not slowed after many low Remaining readings")
	}
	if held(t, b, zoom.Light) {
		t.Error("Light is slowed by Medium's readings")
	}
	high := zoom.Quota{Category: zoom.Medium, Type: "QPS", Limit: 100, Remaining: 95, Status: 200}
	deadline := time.Now().Add(60 * time.Second)
	for held(t, b, zoom.Medium) {
		if time.Now().After(deadline) {
			t.Fatal("the rate never grew back on readings with room left")
		}
		a.ObserveQuota(ctx, high)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLimiter429PausesTheCategory: Zoom's per-second 429 pauses that
// category for everyone until Retry-After; other categories go on.
func TestLimiter429PausesTheCategory(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	lim := redisstore.Limits{Plan: redisstore.PlanBusiness, MaxWait: 50 * time.Millisecond}
	a, b := s.NewLimiter("", lim), s.NewLimiter("", lim)
	until := time.Now().Add(time.Minute)
	a.ObserveQuota(ctx, zoom.Quota{Category: zoom.Medium, Type: "QPS", Limit: 60, Remaining: 0, Status: 429,
		Limited: true, RetryAfter: until})
	var we *redisstore.WaitError
	if err := b.Wait(ctx, zoom.Medium); !errors.As(err, &we) || we.Until.Before(until.Add(-time.Second)) {
		t.Errorf("Medium after its 429 = %v; want a WaitError until %s", err, until)
	}
	if err := b.Wait(ctx, zoom.Light); err != nil {
		t.Errorf("Light after Medium's 429 = %v; want it to go", err)
	}
	// One user's 429 says nothing about the account.
	a.ObserveQuota(ctx, zoom.Quota{Category: zoom.Light, Status: 429, UserBusy: true, RetryAfter: until})
	if err := b.Wait(ctx, zoom.Light); err != nil {
		t.Errorf("Light after a user-busy 429 = %v; want it to go", err)
	}
}

// TestLimiterDailyPool: Heavy and Resource-intensive share one daily pool;
// once Zoom says it is used up, both are refused with a DailyLimitError
// (a zoom.Held the worker defers) until the reset, Light and Medium not.
func TestLimiterDailyPool(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := s.NewLimiter("", redisstore.Limits{Plan: redisstore.PlanPro})
	b := s.NewLimiter("", redisstore.Limits{Plan: redisstore.PlanPro})
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	a.ObserveQuota(ctx, zoom.Quota{Category: zoom.Heavy, Type: "Daily-limit", Limit: 30000, Remaining: 0,
		Status: 429, Limited: true, RetryAfter: reset})
	for _, cat := range []zoom.Category{zoom.Heavy, zoom.ResourceIntensive} {
		err := b.Wait(ctx, cat)
		var de *redisstore.DailyLimitError
		if !errors.As(err, &de) || !de.DeferUntil().Equal(reset) && de.DeferUntil().Sub(reset).Abs() > time.Second {
			t.Errorf("Wait(%s) after the pool ran out = %v; want a DailyLimitError until %s", cat, err, reset)
			continue
		}
		if h, ok := zoom.AsHeld(err); !ok || h.RetryAt().IsZero() {
			t.Errorf("DailyLimitError is not a zoom.Held")
		}
	}
	for _, cat := range []zoom.Category{zoom.Light, zoom.Medium} {
		if err := b.Wait(ctx, cat); err != nil {
			t.Errorf("Wait(%s) = %v; want it to go (not in the daily pool)", cat, err)
		}
	}
}
