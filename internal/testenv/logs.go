package testenv

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"sync"
)

// Logger is the logger a test gives the code under test: it discards
// everything, unless ZOOMW_TEST_LOG is set, when it writes every level from
// debug up to stderr.
func Logger() *slog.Logger {
	if os.Getenv("ZOOMW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// LogOutput is w, for a test that reads the logs it gets, and stderr too
// when ZOOMW_TEST_LOG is set.
func LogOutput(w io.Writer) io.Writer {
	if os.Getenv("ZOOMW_TEST_LOG") != "" {
		return io.MultiWriter(w, os.Stderr)
	}
	return w
}

// Buffer is a bytes.Buffer that a process's or logger's writes and a
// test's reads may share: the logs a test checks.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
