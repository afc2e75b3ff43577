package defaults_test

import (
	"runtime/debug"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/defaults"
)

func TestSet(t *testing.T) {
	tests := []struct {
		name    string
		v, want time.Duration
	}{
		{"zero takes the default", 0, time.Minute},
		{"negative takes the default", -time.Second, time.Minute},
		{"positive stays", time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.v
			defaults.Set(&got, time.Minute)
			if got != tt.want {
				t.Errorf("Set(%v, 1m) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
	n := 0
	defaults.Set(&n, 4)
	if n != 4 {
		t.Errorf("Set(0, 4) = %d, want 4", n)
	}
}

func TestGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	defaults.GC(func(string) string { return "150" })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the target became %d; want it left at 100", got)
	}
	defaults.GC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != defaults.GCPercent {
		t.Errorf("without GOGC, the target is %d; want %d", got, defaults.GCPercent)
	}
}
