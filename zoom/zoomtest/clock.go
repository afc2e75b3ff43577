package zoomtest

import (
	"sync"
	"time"
)

// Clock is a settable clock for tests: its Now serves as Options.Now (and as
// a Zoom client's or token source's Now), and Add moves it. It is safe for
// concurrent use. NewClock sets the start.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t until Add moves it.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
