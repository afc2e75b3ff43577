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

type quotaResult struct {
	jobs, created, failed int
	elapsed               time.Duration
	achieved              float64 // creates per second
	requests, limited     int
	costs                 costs
}

func (b *bench) runQuota(ctx context.Context) error {
	left := quotaPlanMedium - quotaOtherApp
	jobs := int(quotaSeconds * left)
	st, err := newStage(ctx, b.dir, scQuota, b.redis, zoomtest.Options{Plan: zoomtest.PlanBusiness}, jobs)
	if err != nil {
		return err
	}
	defer st.close()
	st.fake.SetOtherAppLoad(zoomtest.CategoryMedium, quotaOtherApp)
	kids, err := b.startKids(ctx, st, "worker", scQuota, 3, b.opts.concurrency, 0,
		func(c *childConfig) { c.Plan = string(redisstore.PlanBusiness) })
	if err != nil {
		return err
	}
	defer func() { b.stopKids(kids) }()
	w, err := b.begin(ctx, st, kids)
	if err != nil {
		return err
	}
	if err := b.drive(ctx, st, 0, jobs, 0); err != nil {
		return err
	}
	if err := b.end(ctx, w); err != nil {
		return err
	}
	span := st.events.span(0, jobs)
	_, failed, _, _ := st.events.counts()
	c := w.costs(jobs)
	created := w.zoom1.MeetingsCreated - w.zoom0.MeetingsCreated
	r := &quotaResult{jobs: jobs, created: created, failed: failed, elapsed: span,
		achieved: float64(created) / span.Seconds(), requests: c.zoomRequests, limited: c.zoomLimited, costs: c}
	b.res.quota = r
	b.log("quota: %d meetings in %s: %.1f/s of the %.0f/s the other app leaves; %d of %d requests answered 429",
		created, span.Round(time.Millisecond), r.achieved, left, r.limited, r.requests)
	b.stopKids(kids)
	kids = nil
	return nil
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
