package defaults_test

import (
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
