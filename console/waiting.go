package console

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

type hostRow struct {
	Account  string
	Host     string
	Until    time.Time // when the limit resets; zero when Redis holds no mark
	Deferred int       // jobs deferred for this host now
	JobIDs   []string  // the first few
}

type limiterRow struct {
	Account Account // the configured rates
	State   redisstore.LimiterState
	Backlog time.Duration // how far ahead of now the shared schedule runs
	Paused  bool
	Err     string
}

type waitingData struct {
	Hosts    []hostRow
	Deferred int
	Limiters []limiterRow
	Failing  []failingAccount
	HasGate  bool // some worker reports its credentials gate
	Errors   []string
}

func (c *Console) waiting(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	c.render(w, r, "waiting", page{Title: "Waiting", Nav: "waiting", Refresh: 10, Data: c.waitingData(ctx)})
}

func (c *Console) waitingData(ctx context.Context) waitingData {
	var d waitingData
	now := c.cfg.Now()
	hosts := map[string]*hostRow{}
	row := func(account, host string) *hostRow {
		k := account + "\x00" + host
		if hosts[k] == nil {
			hosts[k] = &hostRow{Account: account, Host: host}
		}
		return hosts[k]
	}
	for _, a := range c.cfg.Accounts {
		limits, err := c.cfg.Limits.HostLimits(ctx, a.Name)
		if err != nil {
			d.Errors = append(d.Errors, err.Error())
		}
		for _, l := range limits {
			row(a.Name, l.Host).Until = l.Until
		}
		lr := limiterRow{Account: a}
		st, err := c.cfg.Limits.LimiterState(ctx, a.Name)
		if err != nil {
			lr.Err = err.Error()
		}
		lr.State = st
		if st.Next.After(now) {
			lr.Backlog = st.Next.Sub(now)
		}
		lr.Paused = st.PausedUntil.After(now)
		d.Limiters = append(d.Limiters, lr)
	}
	for _, df := range c.activity.deferrals() {
		h := row(df.Account, df.Host)
		h.Deferred++
		d.Deferred++
		if len(h.JobIDs) < 5 {
			h.JobIDs = append(h.JobIDs, df.JobID)
		}
		if h.Until.IsZero() {
			h.Until = df.Until
		}
	}
	for _, h := range hosts {
		d.Hosts = append(d.Hosts, *h)
	}
	sort.Slice(d.Hosts, func(i, j int) bool {
		if d.Hosts[i].Account != d.Hosts[j].Account {
			return d.Hosts[i].Account < d.Hosts[j].Account
		}
		return d.Hosts[i].Host < d.Hosts[j].Host
	})
	d.Failing, d.HasGate = c.failingAccounts()
	return d
}

// failingAccount is an account whose Zoom credentials the workers find
// rejected: its jobs wait in ZOOM_JOBS, no attempt used.
type failingAccount struct {
	Account string
	Why     string
	Workers []string // the instances that report it
}

// failingAccounts gathers what the workers alive report of their
// credentials gates; hasGate is false while no worker reports one.
func (c *Console) failingAccounts() (out []failingAccount, hasGate bool) {
	workers, _ := c.workers.get()
	by := map[string]*failingAccount{}
	for _, w := range workers {
		if !w.HasGate {
			continue
		}
		hasGate = true
		for a, why := range w.Rejected {
			f := by[a]
			if f == nil {
				f = &failingAccount{Account: a, Why: scrubText(why)}
				by[a] = f
			}
			name := w.Instance
			if name == "" {
				name = w.ID
			}
			f.Workers = append(f.Workers, name)
		}
	}
	for _, f := range by {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, hasGate
}
