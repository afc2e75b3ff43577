package console

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

// activity counts jobs done, failed and deferred per minute and account,
// from one ordered consumer on ZOOM_EVENTS that starts a window back and
// then follows new events. The workers write nothing for it, and a page
// reads the counts from memory. It also remembers the jobs deferred now.
type activity struct {
	js     jetstream.JetStream
	window time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu       sync.Mutex
	minutes  map[string]map[int64]*counts // account → minute (unix) → counts
	deferred map[string]deferral          // job id → its latest deferral
	caughtUp bool
	seen     uint64 // events read
}

type counts struct{ Done, Failed, Deferred int }

// deferral is a job waiting for its host's daily limit to reset.
type deferral struct {
	JobID, Account, Subject, Host, Reason string
	Until                                 time.Time
}

func newActivity(js jetstream.JetStream, window time.Duration, now func() time.Time, log *slog.Logger) *activity {
	return &activity{js: js, window: window, now: now, log: log,
		minutes: map[string]map[int64]*counts{}, deferred: map[string]deferral{}}
}

// run follows ZOOM_EVENTS until ctx ends, waiting for the stream to exist
// and starting again (from a window back) after a lost consumer.
func (a *activity) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := a.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			a.log.Warn("console: follow ZOOM_EVENTS", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (a *activity) follow(ctx context.Context) error {
	s, err := a.js.Stream(ctx, messages.StreamEvents)
	if err != nil {
		return err
	}
	start := a.now().Add(-a.window)
	a.mu.Lock()
	a.minutes, a.deferred, a.caughtUp = map[string]map[int64]*counts{}, map[string]deferral{}, false
	a.mu.Unlock()
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		a.add(msg.Subject(), meta.Timestamp, msg.Data(), meta.NumPending == 0)
	}
}

// eventFields are the few fields the console reads of an event.
type eventFields struct {
	JobID   string `json:"job_id"`
	Account string `json:"account"`
	Until   string `json:"until"`
	Reason  string `json:"reason"`
	Subject string `json:"subject"`
}

func (a *activity) add(subject string, at time.Time, body []byte, last bool) {
	var ev eventFields
	_ = json.Unmarshal(body, &ev)
	account := ev.Account
	if account == "" {
		account = worker.DefaultAccount
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen++
	if last {
		a.caughtUp = true
	}
	m := a.minutes[account]
	if m == nil {
		m = map[int64]*counts{}
		a.minutes[account] = m
	}
	minute := at.Unix() / 60
	c := m[minute]
	if c == nil {
		c = &counts{}
		m[minute] = c
		a.prune(m)
	}
	switch subject {
	case messages.SubjectJobFailed:
		c.Failed++
		delete(a.deferred, ev.JobID)
	case messages.SubjectJobDeferred:
		c.Deferred++
		until, _ := time.Parse(time.RFC3339, ev.Until)
		a.deferred[ev.JobID] = deferral{JobID: ev.JobID, Account: account, Subject: ev.Subject,
			Host: hostOfReason(ev.Reason), Reason: ev.Reason, Until: until}
	default:
		// Every event but the job.* ones (failed, deferred, conflict: a
		// job id that came again with another body and was not run) says
		// that a job did what it asked.
		if !strings.HasPrefix(subject, "zoom.events.job.") && ev.JobID != "" {
			c.Done++
			delete(a.deferred, ev.JobID)
		}
	}
}

// prune drops minutes older than the window.
func (a *activity) prune(m map[int64]*counts) {
	oldest := a.now().Add(-a.window).Unix()/60 - 1
	for k := range m {
		if k < oldest {
			delete(m, k)
		}
	}
}

// hostOfReason reads the host out of a job.deferred reason ("... for host
// james@bond.com"); "" when the reason does not name one.
func hostOfReason(reason string) string {
	const marker = " for host "
	if i := strings.LastIndex(reason, marker); i >= 0 {
		return strings.ToLower(reason[i+len(marker):])
	}
	return ""
}

// accountSeries is one account's counts, one entry per minute of the
// window, oldest first.
type accountSeries struct {
	Account string
	Minutes []counts
	Total   counts
}

// series returns the counts of every account seen (and of those named),
// minute by minute over the window ending now.
func (a *activity) series(accounts []string) ([]accountSeries, bool) {
	n := int(a.window / time.Minute)
	end := a.now().Unix() / 60
	a.mu.Lock()
	defer a.mu.Unlock()
	names := map[string]bool{}
	for _, x := range accounts {
		names[x] = true
	}
	for x := range a.minutes {
		names[x] = true
	}
	var out []accountSeries
	for name := range names {
		s := accountSeries{Account: name, Minutes: make([]counts, n)}
		for i := 0; i < n; i++ {
			if c := a.minutes[name][end-int64(n-1-i)]; c != nil {
				s.Minutes[i] = *c
				s.Total.Done += c.Done
				s.Total.Failed += c.Failed
				s.Total.Deferred += c.Deferred
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Account == worker.DefaultAccount) != (out[j].Account == worker.DefaultAccount) {
			return out[i].Account == worker.DefaultAccount
		}
		return out[i].Account < out[j].Account
	})
	return out, a.caughtUp || a.seen == 0
}

// deferrals returns the jobs deferred now (until still ahead), by host.
func (a *activity) deferrals() []deferral {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []deferral
	for id, d := range a.deferred {
		if d.Until.Before(now) {
			delete(a.deferred, id)
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].JobID < out[j].JobID
	})
	return out
}

// deferralOf returns job id's deferral, if it waits now.
func (a *activity) deferralOf(jobID string) (deferral, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.deferred[jobID]
	return d, ok && d.Until.After(a.now())
}
