package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zoomworker/zoom-worker/zoom"
)

// TestZoomRequestStatus: zoomworker_zoom_requests_total counts what reached
// Zoom (or tried to); a request the limiter held back, which never left the
// process, is counted apart.
func TestZoomRequestStatus(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus string // "" means not counted as a request
	}{
		{"ok", nil, "2xx"},
		{"zoom answered 404", &zoom.APIError{StatusCode: 404}, "404"},
		{"network", errors.New("dial tcp: connection refused"), "error"},
		{"held by the limiter", fmt.Errorf("zoom: create_meeting: wait for rate limiter: %w", heldErr{time.Now()}), ""},
		{"stopped", fmt.Errorf("zoom: create_meeting: %w", context.Canceled), "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics(nil)
			m.zoomCall("default", "create_meeting", time.Millisecond, tt.err)
			requests := testutil.CollectAndCount(m.ZoomRequests)
			held := testutil.ToFloat64(m.ZoomHeld.WithLabelValues("default", "create_meeting"))
			if tt.wantStatus == "" {
				if requests != 0 || held != 1 {
					t.Errorf("requests series %d, held %v; want 0 and 1", requests, held)
				}
				return
			}
			if got := testutil.ToFloat64(m.ZoomRequests.WithLabelValues("default", "create_meeting", tt.wantStatus)); got != 1 || held != 0 {
				t.Errorf("status %s count %v, held %v; want 1 and 0", tt.wantStatus, got, held)
			}
		})
	}
}

func TestSubjectLabel(t *testing.T) {
	for subject, want := range map[string]string{
		"zoom.jobs.meeting.create":    "zoom.jobs.meeting.create",
		"zoom.events.meeting.created": "zoom.events.meeting.created",
		"zoom.jobs.x29556.y":          "other",
		"":                            "other",
	} {
		if got := SubjectLabel(subject); got != want {
			t.Errorf("SubjectLabel(%q) = %q; want %q", subject, got, want)
		}
	}
}
