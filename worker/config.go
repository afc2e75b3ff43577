package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/zoomworker/zoom-worker/internal/defaults"
)

// Defaults for Config. They are exported so docs and the command line can show them.
const (
	DefaultConcurrency        = 256
	DefaultAckWait            = 30 * time.Second
	DefaultMaxAckPending      = 20000
	DefaultMaxAttempts        = 10
	DefaultAttemptTimeout     = 60 * time.Second
	DefaultRetryBudget        = 10 * time.Second
	DefaultRetryInitial       = 250 * time.Millisecond
	DefaultRetryMax           = 2 * time.Second
	DefaultRedeliveryDelay    = 5 * time.Second
	DefaultRedeliveryMaxDelay = 5 * time.Minute
	DefaultDuplicateWindow    = 2 * time.Minute
	DefaultEventsMaxAge       = 7 * 24 * time.Hour
	DefaultDeadLetterMaxAge   = 30 * 24 * time.Hour
	DefaultShutdownTimeout    = 25 * time.Second
	DefaultEventSource        = "urn:zoom-worker"

	// DailyLimitDefer keeps a job whose host reached Zoom's daily meeting
	// limit in ZOOM_JOBS until 00:00 UTC; DailyLimitFail fails it instead.
	DailyLimitDefer = "defer"
	DailyLimitFail  = "fail"
)

// Config tunes a Worker. The zero value of every field means its default.
type Config struct {
	// Concurrency is how many jobs this process works on at once.
	Concurrency int
	// AckWait is how long JetStream waits for an ack before redelivering;
	// a running job sends InProgress every AckWait/3 so it is not redelivered.
	AckWait time.Duration
	// MaxAckPending bounds unacknowledged jobs across all workers on the consumer.
	MaxAckPending int
	// MaxAttempts is how many attempts a job gets before retries_exhausted.
	MaxAttempts int
	// AttemptTimeout bounds one attempt (Zoom calls and in-process retries);
	// another process may take the job over this long (plus a margin) after
	// an attempt began, so it is also the lease.
	AttemptTimeout time.Duration
	// RetryBudget is how long one attempt retries transient errors in process
	// before the job goes back to the stream with a delay.
	RetryBudget time.Duration
	// RetryInitial and RetryMax bound the in-process exponential backoff (with jitter).
	RetryInitial, RetryMax time.Duration
	// RedeliveryDelay is the NAK delay after a first failed attempt; it
	// doubles with each attempt up to RedeliveryMaxDelay.
	RedeliveryDelay, RedeliveryMaxDelay time.Duration
	// IncludeStartURL puts the meeting's start_url into events and the cache.
	IncludeStartURL bool
	// DailyLimit is DailyLimitDefer ("" means it) or DailyLimitFail.
	DailyLimit string
	// StreamReplicas is the replica count of the streams (3 in a cluster); 0 means 1.
	StreamReplicas int
	// DuplicateWindow is the streams' de-duplication window.
	DuplicateWindow time.Duration
	// EventsMaxAge is how long ZOOM_EVENTS keeps events.
	EventsMaxAge time.Duration
	// DeadLetterMaxAge is how long ZOOM_DLQ keeps failed jobs.
	DeadLetterMaxAge time.Duration
	// StartTimeout is how long a start keeps trying to reach NATS and set up
	// the streams and consumer; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// ShutdownTimeout is how long a stop waits for jobs in flight before it
	// cancels them (they are then handed back with a NAK).
	ShutdownTimeout time.Duration
	// EventSource is the CloudEvents source attribute of events.
	EventSource string
	// InstanceID names this process in leases and logs; "" means a random id.
	InstanceID string
	// Logger nil means slog.Default().
	Logger *slog.Logger
	// Metrics nil means no metrics are recorded.
	Metrics *Metrics
	// Now nil means time.Now.
	Now func() time.Time
	// Failpoint, when set, is called at the recovery points of a job
	// ("before_zoom", "after_zoom", "after_record", "after_publish") so crash
	// tests can kill the process exactly there. Nil in production.
	Failpoint func(point, jobID string)
}

func (c Config) withDefaults() Config {
	defaults.Set(&c.Concurrency, DefaultConcurrency)
	defaults.Set(&c.MaxAckPending, DefaultMaxAckPending)
	defaults.Set(&c.MaxAttempts, DefaultMaxAttempts)
	defaults.Set(&c.AckWait, DefaultAckWait)
	defaults.Set(&c.AttemptTimeout, DefaultAttemptTimeout)
	defaults.Set(&c.RetryBudget, DefaultRetryBudget)
	defaults.Set(&c.RetryInitial, DefaultRetryInitial)
	defaults.Set(&c.RetryMax, DefaultRetryMax)
	defaults.Set(&c.RedeliveryDelay, DefaultRedeliveryDelay)
	defaults.Set(&c.RedeliveryMaxDelay, DefaultRedeliveryMaxDelay)
	defaults.Set(&c.DuplicateWindow, DefaultDuplicateWindow)
	defaults.Set(&c.EventsMaxAge, DefaultEventsMaxAge)
	defaults.Set(&c.DeadLetterMaxAge, DefaultDeadLetterMaxAge)
	defaults.Set(&c.ShutdownTimeout, DefaultShutdownTimeout)
	if c.DailyLimit == "" {
		c.DailyLimit = DailyLimitDefer
	}
	defaults.Set(&c.StreamReplicas, 1)
	if c.EventSource == "" {
		c.EventSource = DefaultEventSource
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate names the first setting that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.DailyLimit != DailyLimitDefer && c.DailyLimit != DailyLimitFail:
		return fmt.Errorf("daily limit action %q: want %q or %q", c.DailyLimit, DailyLimitDefer, DailyLimitFail)
	case c.RetryBudget >= c.AttemptTimeout:
		return errors.New("retry budget must be shorter than the attempt timeout")
	case c.AckWait < time.Second:
		return errors.New("ack wait must be at least 1s")
	case c.MaxAckPending < c.Concurrency:
		return errors.New("max ack pending must be at least the concurrency")
	case c.StreamReplicas > 5:
		return errors.New("stream replicas must be 1 to 5")
	}
	return nil
}

// lease is how long an attempt holds its job against other deliveries.
func (c Config) lease() time.Duration { return c.AttemptTimeout + c.AttemptTimeout/4 + time.Second }

func (c Config) failpoint(point, jobID string) {
	if c.Failpoint != nil {
		c.Failpoint(point, jobID)
	}
}
