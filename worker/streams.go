package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/defaults"
)

// DefaultStartTimeout is how long a worker keeps trying to reach NATS and set
// up its streams and consumer at start before it gives up.
const DefaultStartTimeout = 2 * time.Minute

// StartError is a start that did not get NATS ready within the start
// timeout: NATS was not reachable, or the stream and consumer set-up kept
// failing (a fresh JetStream cluster electing its leaders, several workers
// creating the same R3 stream at once). Server is the NATS server it
// reached, with any password removed, or "" when it reached none.
type StartError struct {
	Waited time.Duration
	Server string
	Err    error
}

func (e *StartError) Error() string {
	if e.Server == "" {
		return fmt.Sprintf("NATS not reachable within %s: %v", e.Waited.Round(time.Second), e.Err)
	}
	return fmt.Sprintf("stream and consumer set-up on NATS %s did not succeed within %s: %v",
		e.Server, e.Waited.Round(time.Second), e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// setupRetrying runs SetupStreams until it succeeds, fails in a way no retry
// can fix, ctx ends, or cfg.StartTimeout passes. Between tries it waits with
// exponential backoff and full jitter, so that workers started together do
// not keep colliding. A try that reports "already exists" or "in progress"
// (another worker created the stream first; the cluster is still placing
// it) is retried: the next CreateOrUpdate finds the stream and updates it.
func setupRetrying(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, cfg Config, log *slog.Logger) (jetstream.Consumer, error) {
	timeout := cfg.StartTimeout
	defaults.Set(&timeout, DefaultStartTimeout)
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	deadline := start.Add(timeout)
	backoff := 200 * time.Millisecond
	for try := 1; ; try++ {
		// Each try gets at most 10 s: long enough for an R3 stream to be
		// placed, short enough to try again before the deadline.
		tctx, cancel := context.WithDeadline(ctx, earliest(deadline, time.Now().Add(10*time.Second)))
		cons, err := SetupStreams(tctx, js, cfg)
		cancel()
		if err == nil {
			if try > 1 {
				log.Info("streams and consumer set up", "tries", try, "took_ms", time.Since(start).Milliseconds())
			}
			return cons, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !setupRetryable(err) {
			return nil, err
		}
		if !time.Now().Before(deadline) {
			server := ""
			if nc.IsConnected() {
				server = nc.ConnectedUrlRedacted()
			}
			return nil, &StartError{Waited: time.Since(start), Server: server, Err: err}
		}
		wait := rand.N(backoff) + backoff/2
		if left := time.Until(deadline); wait > left {
			wait = left
		}
		log.Warn("stream set-up failed; trying again", "try", try, "retry_in_ms", wait.Milliseconds(),
			"connected", nc.IsConnected(), "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// setupRetryable says whether a failed set-up may succeed if tried again.
// Timeouts, a connection not (yet) up, an unavailable or leaderless
// JetStream, and creation races are; a configuration the server refuses
// (overlapping subjects, replicas it cannot have, JetStream disabled) is not.
func setupRetryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeJetStreamNotEnabled, jetstream.JSErrCodeJetStreamNotEnabledForAccount,
			10074: // replicas > 1 not supported in non-clustered mode
			return false
		case 10058, 10013, 10105, 10148: // stream or consumer name taken: created meanwhile
			return true
		}
		if apiErr.Code >= 500 {
			return true
		}
		d := strings.ToLower(apiErr.Description)
		return strings.Contains(d, "in progress") || strings.Contains(d, "already") ||
			strings.Contains(d, "temporarily") || strings.Contains(d, "leader")
	}
	return true // timeouts, no responders, not connected
}
