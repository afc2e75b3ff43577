package worker

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
)

// jobLog writes the line a.log.With(attempt, took_ms) writes.
func TestJobLogWritesWhatWithWrites(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 2, 3, 0, time.UTC)
	line := func(write func(l *slog.Logger)) string {
		var buf bytes.Buffer
		h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				a.Value = slog.TimeValue(at)
			}
			return a
		}})
		write(slog.New(h).With("job_id", "j-1", "subject", "zoom.jobs.meeting.create", "delivery", 2))
		return buf.String()
	}
	want := line(func(l *slog.Logger) {
		l.With("attempt", 3, "took_ms", int64(12)).Info("job done", "outcome", OutcomeSucceeded, "event", "e")
	})
	got := line(func(l *slog.Logger) {
		j := &jobLog{l: l, attrs: [...]any{"attempt", 3, "took_ms", int64(12)}}
		j.Info("job done", "outcome", OutcomeSucceeded, "event", "e")
	})
	if got != want {
		t.Errorf("jobLog wrote\n%s\nWith writes\n%s", got, want)
	}
}
