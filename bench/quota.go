package main

import (
	"context"
	"fmt"
	"time"

	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// The quota scenario: three workers on a Business account (Medium, where
// meeting creates are, 60/s) that another app spends half of. The workers'
// limiter starts at the plan's 60/s and must learn from Zoom's
// X-RateLimit-Remaining what is left, before Zoom says 429.
const (
	scQuota = "quota"

	quotaPlanMedium = 60.0 // Business+ Medium, requests/s
	quotaOtherApp   = 30.0 // what the other app spends of it
	quotaSeconds    = 20   // jobs: this many seconds' worth of what is left
)

type quotaResult struct{ createRun }

// createRun is what three workers creating meetings on one stage measured
// (the ratelimit and quota scenarios).
type createRun struct {
	jobs, created, failed int
	elapsed               time.Duration
	achieved              float64 // creates per second
	requests, limited     int
	timeline              []float64 // creates per second in windows of rateStep
	costs                 costs
}

// runCreates starts three workers on st (rate: their shared limit),
// drives jobs through them and measures.
func (b *bench) runCreates(ctx context.Context, st *stage, jobs int, rate float64, tweak ...func(*childConfig)) (*createRun, error) {
	w, err := b.runWorkers(ctx, st, jobs, 3, rate, tweak...)
	if err != nil {
		return nil, err
	}
	span := st.events.span(0, jobs)
	_, failed, _, _ := st.events.counts()
	c := w.costs(jobs)
	created := w.zoom1.MeetingsCreated - w.zoom0.MeetingsCreated
	return &createRun{jobs: jobs, elapsed: span, created: created, failed: failed,
		achieved: float64(created) / span.Seconds(), requests: c.zoomRequests, limited: c.zoomLimited, costs: c,
		timeline: st.events.timeline(0, jobs, rateStep)}, nil
}

func (b *bench) runQuota(ctx context.Context) error {
	left := quotaPlanMedium - quotaOtherApp
	jobs := int(quotaSeconds * left)
	return b.onStage(ctx, scQuota, zoomtest.Options{Plan: zoomtest.PlanBusiness}, jobs, func(st *stage) error {
		st.Fake.SetOtherAppLoad(zoomtest.CategoryMedium, quotaOtherApp)
		cr, err := b.runCreates(ctx, st, jobs, 0, func(c *childConfig) { c.Plan = string(redisstore.PlanBusiness) })
		if err != nil {
			return err
		}
		b.res.quota = &quotaResult{*cr}
		b.log("quota: %d meetings in %s: %.1f/s of the %.0f/s the other app leaves; %d of %d requests answered 429",
			cr.created, cr.elapsed.Round(time.Millisecond), cr.achieved, left, cr.limited, cr.requests)
		return nil
	})
}

// rows are the quota scenario's lines of the table.
func (q *quotaResult) rows(add func(sc, metric, result, target, v string)) {
	left := quotaPlanMedium - quotaOtherApp
	used := q.achieved / left
	add(scQuota, fmt.Sprintf("creates/s, 3 workers, Medium %g/s of which another app spends %g/s", quotaPlanMedium, quotaOtherApp),
		fmt.Sprintf("**%.1f/s = %.1f%% of the %g/s left** (%d meetings in %s)", q.achieved, 100*used, left, q.created, fmtDur(q.elapsed)),
		"≥ 90% of what is left", verdict(used >= 0.90))
	share := 0.0
	if q.requests > 0 {
		share = float64(q.limited) / float64(q.requests)
	}
	add(scQuota, "429s the fake Zoom served", fmt.Sprintf("%d of %d requests = %.2f%%", q.limited, q.requests, 100*share),
		"≤ 1%", verdict(share <= 0.01))
}
