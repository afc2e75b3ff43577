package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// streamWebhooks is the stream of Zoom webhooks, shown when it exists.
const streamWebhooks = "ZOOM_WEBHOOKS"

type streamRow struct {
	Name      string
	Missing   bool
	Msgs      uint64
	Bytes     uint64
	First     time.Time // oldest message kept
	Last      time.Time
	Consumers int
	Err       string
}

type consumerView struct {
	Missing       bool
	Err           string
	Pending       uint64 // not yet delivered
	AckPending    int    // delivered, not yet acknowledged
	Redelivered   int
	Waiting       int // pull requests waiting (idle workers)
	OldestPending time.Time
	OldestJob     time.Time // oldest job in ZOOM_JOBS, delivered or not
	OldestSubject string
}

type overviewData struct {
	Streams  []streamRow
	Consumer consumerView
	Workers  []workerInfo
	AskedAt  time.Time
	Charts   []chart
	CaughtUp bool
	Window   time.Duration
	Failing  []failingAccount
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	d := c.overviewData(r.Context())
	c.render(w, r, "overview", page{Title: "Overview", Nav: "overview", Refresh: 10, Data: d})
}

// overviewData reads stream and consumer info (a few requests, whatever
// the number of messages) and one message: the oldest undelivered job.
func (c *Console) overviewData(ctx context.Context) overviewData {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d := overviewData{Window: c.cfg.Window}
	for _, name := range []string{messages.StreamJobs, messages.StreamEvents, messages.StreamDeadLetters, streamWebhooks} {
		row := streamRow{Name: name}
		s, err := c.js.Stream(ctx, name)
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			if name == streamWebhooks {
				continue
			}
			row.Missing = true
		case err != nil:
			row.Err = err.Error()
		default:
			info := s.CachedInfo()
			row.Msgs, row.Bytes, row.Consumers = info.State.Msgs, info.State.Bytes, info.State.Consumers
			row.First, row.Last = info.State.FirstTime, info.State.LastTime
			if name == messages.StreamJobs {
				d.Consumer = c.consumerView(ctx, s)
				if info.State.Msgs > 0 {
					d.Consumer.OldestJob = info.State.FirstTime
				}
			}
		}
		d.Streams = append(d.Streams, row)
	}
	d.Workers, d.AskedAt = c.workers.get()
	d.Failing, _ = c.failingAccounts()
	names := make([]string, len(c.cfg.Accounts))
	for i, a := range c.cfg.Accounts {
		names[i] = a.Name
	}
	series, caughtUp := c.activity.series(names)
	d.CaughtUp = caughtUp
	end := c.cfg.Now()
	for _, s := range series {
		d.Charts = append(d.Charts, barChart(s, end))
	}
	return d
}

func (c *Console) consumerView(ctx context.Context, s jetstream.Stream) consumerView {
	var v consumerView
	cons, err := s.Consumer(ctx, messages.ConsumerName)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		v.Missing = true
		return v
	}
	if err != nil {
		v.Err = err.Error()
		return v
	}
	info := cons.CachedInfo()
	v.Pending, v.AckPending, v.Redelivered, v.Waiting = info.NumPending, info.NumAckPending, info.NumRedelivered, info.NumWaiting
	if info.NumPending > 0 {
		// The next job the consumer will deliver is the oldest one waiting
		// for a worker: one lookup, by subject, from the delivered floor.
		msg, err := s.GetMsg(ctx, info.Delivered.Stream+1, jetstream.WithGetMsgSubject(messages.SubjectJobsAll))
		if err == nil {
			v.OldestPending, v.OldestSubject = msg.Time, msg.Subject
		}
	}
	return v
}
