package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// ServiceName is the micro service every worker process registers; the
// console lists its instances as the workers alive.
const ServiceName = "zoom-worker"

// workerInfo is one worker process as its $SRV.STATS answer shows it.
type workerInfo struct {
	ID       string
	Instance string // the instance name, where the worker reports one
	Version  string
	Started  time.Time
	InFlight int  // jobs being worked on now
	HasLoad  bool // InFlight was reported
	Requests int  // service requests answered
	// Rejected names the accounts whose credentials this worker finds
	// rejected now (account → why); HasGate says the worker reports it.
	Rejected map[string]string
	HasGate  bool
}

// workerList asks $SRV.STATS.zoom-worker every few seconds in the
// background, so a page never waits for the workers to answer.
type workerList struct {
	nc  *nats.Conn
	log *slog.Logger

	mu   sync.Mutex
	list []workerInfo
	at   time.Time
}

func newWorkerList(nc *nats.Conn, log *slog.Logger) *workerList {
	return &workerList{nc: nc, log: log}
}

const (
	workersEvery = 3 * time.Second
	// workersWait is how long one ask collects answers: every instance
	// answers at once, so a quiet spell after the last answer ends it.
	workersWait  = time.Second
	workersQuiet = 150 * time.Millisecond
)

func (l *workerList) run(ctx context.Context) {
	for {
		l.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(workersEvery):
		}
	}
}

func (l *workerList) refresh(ctx context.Context) {
	got, err := askAll(ctx, l.nc, "$SRV.STATS."+ServiceName)
	if err != nil {
		l.log.Debug("console: ask workers", "err", err)
		return
	}
	list := make([]workerInfo, 0, len(got))
	for _, b := range got {
		var st micro.Stats
		if json.Unmarshal(b, &st) != nil || st.ID == "" {
			continue
		}
		wi := workerInfo{ID: st.ID, Instance: st.Metadata["instance"], Version: st.Version, Started: st.Started}
		if v := st.Metadata["build"]; v != "" {
			wi.Version += " (" + v + ")"
		}
		for _, ep := range st.Endpoints {
			wi.Requests += ep.NumRequests
			var d struct {
				InFlight *int              `json:"in_flight"`
				Instance string            `json:"instance"`
				Rejected map[string]string `json:"credentials_rejected"`
			}
			if len(ep.Data) > 0 && json.Unmarshal(ep.Data, &d) == nil {
				if d.Rejected != nil {
					wi.Rejected, wi.HasGate = d.Rejected, true
				}
				if d.InFlight != nil {
					wi.InFlight, wi.HasLoad = *d.InFlight, true
				}
				if d.Instance != "" {
					wi.Instance = d.Instance
				}
			}
		}
		list = append(list, wi)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Started.Before(list[j].Started) })
	l.mu.Lock()
	l.list, l.at = list, time.Now()
	l.mu.Unlock()
}

// get returns the workers last seen and when they were asked.
func (l *workerList) get() ([]workerInfo, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.list, l.at
}

// askAll publishes an empty request to subject and collects every answer
// until workersQuiet passes without one (or workersWait in all).
func askAll(ctx context.Context, nc *nats.Conn, subject string) ([][]byte, error) {
	inbox := nc.NewInbox()
	ch := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return nil, err
	}
	var out [][]byte
	all := time.NewTimer(workersWait)
	defer all.Stop()
	quiet := time.NewTimer(workersWait)
	defer quiet.Stop()
	for {
		select {
		case m := <-ch:
			if len(m.Data) > 0 {
				out = append(out, m.Data)
			}
			quiet.Reset(workersQuiet)
		case <-quiet.C:
			return out, nil
		case <-all.C:
			return out, nil
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
}
