package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// CredentialsChecker asks an account's token endpoint for a token
// (*zoom.Client has it). The worker probes an account whose credentials
// were rejected with it until it answers nil.
type CredentialsChecker interface {
	CheckCredentials(ctx context.Context) error
}

// Rejected credentials are a fault of the whole account, not of the job that
// met them (zoom.IsCredentialsRejected: the token endpoint refused the app,
// 401 invalid_client, a wrong account id, an app deactivated). The worker
// closes the account's gate: its jobs go back to the stream without using an
// attempt and without calling Zoom, Ready names the account, and a probe
// asks the token endpoint again with backoff; the gate opens when it
// answers. Other accounts keep running.
type credentials struct {
	log *slog.Logger
	m   *Metrics
	// check by account; an account without one reopens after each backoff
	// step and lets its next job find out.
	check map[string]CredentialsChecker

	mu     sync.Mutex
	down   map[string]error // account → what the token endpoint said
	change chan struct{}    // closed and replaced when an account reopens
	total  int              // accounts configured
	ctx    context.Context  // Run's; nil before Run
	probes sync.WaitGroup
}

// Probe backoff bounds.
const (
	probeInitial = time.Second
	probeMax     = 30 * time.Second
)

// credentialsWait is how long a job of a closed account stays back.
const credentialsWait = 5 * time.Second

func newCredentials(accounts map[string]Account, m *Metrics, log *slog.Logger) *credentials {
	c := &credentials{log: log, m: m, check: map[string]CredentialsChecker{}, down: map[string]error{},
		change: make(chan struct{}), total: len(accounts)}
	for name, a := range accounts {
		if ch, ok := a.Zoom.(CredentialsChecker); ok {
			c.check[name] = ch
		}
		c.gauge(name, true)
	}
	return c
}

// start lets the gate run probes on ctx; stop waits for them to end.
func (c *credentials) start(ctx context.Context) {
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()
}

func (c *credentials) stop() { c.probes.Wait() }

// open reports whether account's jobs may call Zoom, and if not why.
func (c *credentials) open(account string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.down[account]; err != nil {
		return fmt.Errorf("zoom account %q: credentials rejected: %w", account, err)
	}
	return nil
}

// rejected closes account's gate after its token endpoint refused the app,
// and starts its probe.
func (c *credentials) rejected(account string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[account] != nil {
		return
	}
	c.down[account] = err
	c.gauge(account, false)
	c.log.Error("zoom rejected the account's credentials: its jobs wait (no attempt used) until the token endpoint accepts them again",
		"account", account, "err", err)
	if c.ctx == nil {
		return
	}
	c.probes.Add(1)
	go c.probe(c.ctx, account)
}

// probe asks the token endpoint with backoff until it accepts the
// credentials or ctx ends, then opens the gate.
func (c *credentials) probe(ctx context.Context, account string) {
	defer c.probes.Done()
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = probeInitial, probeMax, 0
	b.Reset()
	for {
		t := time.NewTimer(b.NextBackOff())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ch := c.check[account]
		if ch == nil {
			break
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := ch.CheckCredentials(pctx)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		c.log.Debug("credentials still rejected", "account", account, "err", err)
	}
	c.mu.Lock()
	delete(c.down, account)
	c.gauge(account, true)
	close(c.change)
	c.change = make(chan struct{})
	c.mu.Unlock()
	c.log.Info("zoom accepts the account's credentials again: taking its jobs", "account", account)
}

// wait blocks while every account's credentials are rejected (the fetch
// loop then takes no job at all: there is nothing it could run), or until
// ctx ends.
func (c *credentials) wait(ctx context.Context) {
	for {
		c.mu.Lock()
		all, ch := c.total > 0 && len(c.down) >= c.total, c.change
		c.mu.Unlock()
		if !all {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// notReady names the accounts whose credentials are rejected ("" for none).
func (c *credentials) notReady() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.down) == 0 {
		return ""
	}
	names := make([]string, 0, len(c.down))
	for name := range c.down {
		names = append(names, fmt.Sprintf("%q", name))
	}
	sort.Strings(names)
	return "zoom credentials rejected for account " + strings.Join(names, ", ")
}

// rejectedAccounts maps each account whose credentials are rejected to
// what its token endpoint said.
func (c *credentials) rejectedAccounts() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.down))
	for name, err := range c.down {
		out[name] = err.Error()
	}
	return out
}

func (c *credentials) gauge(account string, ok bool) {
	if c.m == nil {
		return
	}
	v := 0.0
	if ok {
		v = 1
	}
	c.m.CredentialsOK.WithLabelValues(account).Set(v)
}
