package readside

import (
	"testing"
	"time"
)

func TestFailLogWarnsOncePerInterval(t *testing.T) {
	var l failLog
	t0 := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	redis := failKey{"meeting-get", "503"}
	steps := []struct {
		key      failKey
		at       time.Duration
		warn     bool
		leftOut  int
		describe string
	}{
		{redis, 0, true, 0, "the first failure is said at once"},
		{redis, time.Second, false, 0, "the next ones within the interval are left out"},
		{redis, 2 * time.Second, false, 0, ""},
		{failKey{"user-get", "503"}, 3 * time.Second, true, 0, "another endpoint has its own"},
		{failKey{"meeting-get", "502"}, 3 * time.Second, true, 0, "another code has its own"},
		{redis, failWarnEvery, true, 2, "after the interval, a warning that says how many were left out"},
		{redis, failWarnEvery + time.Second, false, 0, ""},
	}
	for i, s := range steps {
		warn, leftOut := l.admit(s.key, t0.Add(s.at))
		if warn != s.warn || leftOut != s.leftOut {
			t.Errorf("step %d (%s): admit = %v, %d; want %v, %d", i, s.describe, warn, leftOut, s.warn, s.leftOut)
		}
	}
}
