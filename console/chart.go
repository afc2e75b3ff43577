package console

import (
	"fmt"
	"time"
)

// chart is one account's activity as an inline SVG bar chart: one stacked
// bar per minute (done, deferred, failed), drawn on the server, so the
// page needs no script and stays small.
type chart struct {
	Account string
	Total   counts
	Max     int
	Width   int
	Height  int
	Bars    []bar
	Ticks   []tick
}

type bar struct {
	X, W  float64
	Parts []barPart
	Title string
}

type barPart struct {
	Y, H  float64
	Class string
}

type tick struct {
	X      float64
	Label  string
	Anchor string // SVG text-anchor: the first label starts, the last ends at its bar
}

const (
	chartW, chartH = 600, 120
	chartTop       = 4
	chartBottom    = 16 // room for the time labels
)

func barChart(s accountSeries, end time.Time) chart {
	ch := chart{Account: s.Account, Total: s.Total, Width: chartW, Height: chartH}
	for _, m := range s.Minutes {
		ch.Max = max(ch.Max, m.Done+m.Failed+m.Deferred)
	}
	n := len(s.Minutes)
	if n == 0 {
		return ch
	}
	slot := float64(chartW) / float64(n)
	plot := float64(chartH - chartTop - chartBottom)
	scale := 0.0
	if ch.Max > 0 {
		scale = plot / float64(ch.Max)
	}
	start := end.Add(-time.Duration(n-1) * time.Minute).Truncate(time.Minute)
	for i, m := range s.Minutes {
		b := bar{X: float64(i) * slot, W: max(slot-1, 1)}
		y := float64(chartH - chartBottom)
		for _, p := range []struct {
			n     int
			class string
		}{{m.Done, "done"}, {m.Deferred, "deferred"}, {m.Failed, "failed"}} {
			if p.n == 0 {
				continue
			}
			h := float64(p.n) * scale
			y -= h
			b.Parts = append(b.Parts, barPart{Y: y, H: h, Class: p.class})
		}
		at := start.Add(time.Duration(i) * time.Minute)
		b.Title = fmt.Sprintf("%s: %d done, %d deferred, %d failed", at.UTC().Format("15:04"), m.Done, m.Deferred, m.Failed)
		ch.Bars = append(ch.Bars, b)
		switch {
		case i == 0:
			ch.Ticks = append(ch.Ticks, tick{X: b.X, Label: at.UTC().Format("15:04"), Anchor: "start"})
		case i == n-1:
			ch.Ticks = append(ch.Ticks, tick{X: b.X + b.W, Label: at.UTC().Format("15:04"), Anchor: "end"})
		case i%15 == 0 && n-i > 8:
			ch.Ticks = append(ch.Ticks, tick{X: b.X, Label: at.UTC().Format("15:04"), Anchor: "middle"})
		}
	}
	return ch
}
