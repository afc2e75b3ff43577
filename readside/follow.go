package readside

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom"
)

// Names of what the cache follows.
const (
	// WebhookStream and WebhookSubjects are where the webhook receiver
	// stores Zoom's webhooks (package webhook).
	WebhookStream   = "ZOOM_WEBHOOKS"
	WebhookSubjects = "zoom.webhooks.>"
	// FollowConsumer is the durable consumer on WebhookStream that every
	// process shares: each webhook is applied to the cache by one of them.
	FollowConsumer = "zoom-worker-cache"
	// HeaderAccount names the zoom-worker account a webhook is for.
	HeaderAccount = "Zoomw-Account"
)

// DefaultFollowMaxDeliver is how often a webhook whose refresh from Zoom
// failed is tried before the copy is dropped instead.
const DefaultFollowMaxDeliver = 8

// FollowConfig configures Follow.
type FollowConfig struct {
	// JetStream reads WebhookStream. Required.
	JetStream jetstream.JetStream
	// Cache is the read cache the webhooks are applied to. Required.
	Cache ReadCache
	// Accounts are the accounts' Zoom read clients by name, to refresh
	// changed objects from; a webhook for an account not here is acked and
	// ignored.
	Accounts map[string]Zoom
	// IncludeStartURL keeps start_url in the copies fetched.
	IncludeStartURL bool
	// NotFoundTTL is how long a deletion is remembered as a 404; zero
	// means DefaultNotFoundTTL.
	NotFoundTTL time.Duration
	// MaxDeliver: see DefaultFollowMaxDeliver (zero means it).
	MaxDeliver int
	// Concurrency is how many webhooks are applied at once; zero means 16.
	Concurrency int
	// Logger nil means slog.Default().
	Logger *slog.Logger
	// Ready, if set, is called once the consumer is bound.
	Ready func()
}

// change is what one Zoom event does to one cached object.
type change struct {
	kind   string
	drop   bool // the object is gone
	create bool // fetch it even if not cached
}

// changes maps the Zoom events that touch cached objects to what they do;
// any other event is acked and ignored.
var changes = map[string]change{
	"meeting.created":             {kind: KindMeeting, create: true},
	"meeting.updated":             {kind: KindMeeting},
	"meeting.started":             {kind: KindMeeting}, // status changes
	"meeting.ended":               {kind: KindMeeting},
	"meeting.recovered":           {kind: KindMeeting, create: true},
	"meeting.deleted":             {kind: KindMeeting, drop: true}, // one occurrence: refreshed instead
	"meeting.permanently_deleted": {kind: KindMeeting, drop: true},
	"user.created":                {kind: KindUser, create: true},
	"user.updated":                {kind: KindUser},
	"user.activated":              {kind: KindUser},
	"user.deactivated":            {kind: KindUser},
	"user.settings_updated":       {kind: KindUser},
	"user.deleted":                {kind: KindUser, drop: true},
	"user.disassociated":          {kind: KindUser, drop: true},
}

// zoomEvent is the part of a webhook Follow reads.
type zoomEvent struct {
	Event   string `json:"event"`
	EventTS int64  `json:"event_ts"`
	Payload struct {
		Object struct {
			ID          json.RawMessage `json:"id"`
			Email       string          `json:"email"`
			Occurrences []any           `json:"occurrences"`
		} `json:"object"`
	} `json:"payload"`
}

// Follow keeps the read cache true to Zoom: it consumes WebhookStream with
// the shared durable consumer FollowConsumer and applies each event that
// touches a cached meeting or user. A deletion drops the copy (and
// remembers the 404); any other change marks the copy stale and fetches it
// again from Zoom, and a copy that cannot be fetched after MaxDeliver tries
// is dropped, so no wrong copy stays. Each change is applied only if its
// event_ts is newer than the newest applied to that object, so repeats and
// late or reordered webhooks change nothing. Follow waits for the stream to
// exist and returns when ctx ends.
func Follow(ctx context.Context, cfg FollowConfig) error {
	if cfg.JetStream == nil || cfg.Cache == nil {
		return errors.New("readside: FollowConfig.JetStream and Cache are required")
	}
	defaults.Set(&cfg.NotFoundTTL, DefaultNotFoundTTL)
	defaults.Set(&cfg.MaxDeliver, DefaultFollowMaxDeliver)
	defaults.Set(&cfg.Concurrency, 16)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "cache-follower")
	cons, ok := bindConsumer(ctx, cfg.JetStream, WebhookStream, jetstream.ConsumerConfig{
		Durable:       FollowConsumer,
		Description:   "zoom-worker processes apply Zoom's webhooks to the read cache",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1, // counted here: the last try drops the copy
		MaxAckPending: 1000,
		// All: webhooks the receiver stored before any process bound this
		// consumer are applied too. Replaying old ones is harmless: only
		// newer event_ts change anything, and uncached objects cost no call.
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: WebhookSubjects,
	}, log)
	if !ok {
		return nil
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(cfg.Concurrency), jetstream.PullExpiry(5*time.Second),
		jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("readside: consume %s: %w", FollowConsumer, err)
	}
	go func() { <-ctx.Done(); it.Stop() }()
	if cfg.Ready != nil {
		cfg.Ready()
	}
	f := &follower{cfg: cfg, log: log}
	slots := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			f.apply(context.WithoutCancel(ctx), msg)
		}()
	}
}

type follower struct {
	cfg FollowConfig
	log *slog.Logger
}

// apply applies one webhook and acks it, or hands it back for a retry.
func (f *follower) apply(ctx context.Context, msg jetstream.Msg) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	retry, err := f.applyOnce(ctx, msg)
	if err == nil {
		_ = msg.Ack()
		return
	}
	meta, _ := msg.Metadata()
	tries := 1
	if meta != nil {
		tries = int(meta.NumDelivered)
	}
	if retry && tries < f.cfg.MaxDeliver {
		delay := min(time.Second<<(tries-1), time.Minute)
		f.log.Info("webhook not applied yet; retrying", "subject", msg.Subject(), "try", tries, "in", delay, "err", err)
		_ = msg.NakWithDelay(delay)
		return
	}
	f.log.Warn("webhook not applied", "subject", msg.Subject(), "tries", tries, "err", err)
	_ = msg.Ack()
}

// applyOnce returns nil when the webhook is applied (or concerns nothing
// cached), else whether a retry may help.
func (f *follower) applyOnce(ctx context.Context, msg jetstream.Msg) (retry bool, err error) {
	var ev zoomEvent
	if json.Unmarshal(msg.Data(), &ev) != nil {
		return false, nil // not JSON: the receiver let it through signed; nothing to apply
	}
	ch, ok := changes[ev.Event]
	if !ok {
		return false, nil
	}
	account := msg.Headers().Get(HeaderAccount)
	if account == "" {
		account = worker.DefaultAccount
	}
	zc, known := f.cfg.Accounts[account]
	if !known {
		return false, nil
	}
	id := strings.Trim(string(ev.Payload.Object.ID), `"`)
	if id == "" {
		return false, nil
	}
	ts := ev.EventTS
	if ts <= 0 {
		if meta, err := msg.Metadata(); err == nil {
			ts = meta.Timestamp.UnixMilli()
		}
	}
	if ch.drop && ch.kind == KindMeeting && len(ev.Payload.Object.Occurrences) > 0 {
		ch.drop = false // one occurrence deleted: the meeting is still there
	}
	var k Key
	var fetch func(context.Context, Zoom) ([]byte, error)
	switch ch.kind {
	case KindMeeting:
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return false, nil
		}
		k, fetch = MeetingKey(n), fetchMeeting(n, f.cfg.IncludeStartURL)
	default:
		k, fetch = UserKey(id), fetchUser(id)
		if email := ev.Payload.Object.Email; ch.drop && email != "" {
			// The email index goes too.
			if _, _, err := f.cfg.Cache.Apply(ctx, account, UserKey(email), ts, true, false, f.cfg.NotFoundTTL); err != nil {
				return true, err
			}
		}
	}
	applied, refresh, err := f.cfg.Cache.Apply(ctx, account, k, ts, ch.drop, ch.create, f.cfg.NotFoundTTL)
	if err != nil {
		return true, err
	}
	f.log.Debug("webhook", "event", ev.Event, "id", id, "applied", applied, "refresh", refresh)
	if !applied || !refresh || zc == nil {
		return false, nil
	}
	b, err := fetch(ctx, zc)
	switch {
	case err == nil:
		_, err = f.cfg.Cache.WriteBack(ctx, account, k, ts, b, time.Now())
		return true, err
	case zoom.IsNotFound(err):
		_, err = f.cfg.Cache.Forget(ctx, account, k, ts, f.cfg.NotFoundTTL)
		return true, err
	}
	if meta, _ := msg.Metadata(); meta != nil && int(meta.NumDelivered) >= f.cfg.MaxDeliver {
		// Out of tries: drop the copy rather than leave a wrong one.
		if _, ferr := f.cfg.Cache.Forget(ctx, account, k, ts, 0); ferr != nil {
			return false, ferr
		}
	}
	return true, err
}
