package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

// startReadSide starts the read side: the read service (zoom.svc.*) and
// the consumer that keeps the read cache following Zoom's webhooks. It
// returns what stops both.
func startReadSide(ctx context.Context, cfg *Config, nc *nats.Conn, store *redisstore.Store,
	readers []*accountSpec, m *worker.Metrics, w *worker.Worker, getenv func(string) string, log *slog.Logger) (func(), error) {
	sdk, err := sdkApps(cfg, readers, getenv)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	streamMade := setupWebhookStream(fctx, js, cfg.Worker.StreamReplicas, log)
	zc := make(map[string]readside.Zoom, len(readers))
	for _, r := range readers {
		acct, err := r.build(cfg, store, m)
		if err != nil {
			cancel()
			<-streamMade
			return nil, err
		}
		zc[r.Name] = acct.WithMetrics(m).Zoom
	}
	svc, err := readside.Start(nc, readside.Config{Jobs: store, Notes: store, JetStream: js, Cache: store, Accounts: zc,
		Version: version, Logger: log, IncludeStartURL: cfg.IncludeStartURL, NotFoundTTL: cfg.ReadNotFoundTTL,
		Instance: w.Instance(), InFlight: w.InFlight, RejectedAccounts: w.RejectedAccounts, SDK: sdk})
	if err != nil {
		cancel()
		<-streamMade
		return nil, fmt.Errorf("start the NATS service API: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		err := readside.Follow(fctx, readside.FollowConfig{JetStream: js, Cache: store, Accounts: zc,
			IncludeStartURL: cfg.IncludeStartURL, NotFoundTTL: cfg.ReadNotFoundTTL, Logger: log})
		if err != nil {
			log.Error("read cache stopped following webhooks", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := readside.NoteJobs(fctx, js, store, cfg.Worker.DeadLetterMaxAge, log); err != nil {
			log.Error("read side stopped noting deferrals and dead letters", "err", err)
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		<-streamMade
		_ = svc.Stop()
	}, nil
}

// readMaxWait is the longest a read waits for its share of the rate limit:
// a read that has a copy answers it after readside.DefaultStaleWait anyway,
// and one that has none gets a 503 it can retry rather than a long hold.
const readMaxWait = 500 * time.Millisecond

// readSpecs splits each account's rate limits between jobs and the read
// side (ZOOMW_READ_RATE_SHARE): it lowers the accounts' own limits to the
// jobs' share and returns copies holding the reads' share, whose limiters
// are their own (a job backlog cannot starve reads, nor reads jobs). An
// account without limits stays without for both.
func readSpecs(cfg *Config, accounts []*accountSpec) []*accountSpec {
	share := cfg.ReadRateShare
	if share <= 0 || share >= 1 {
		share = 0.1
	}
	out := make([]*accountSpec, 0, len(accounts))
	for _, a := range accounts {
		r := *a
		r.reads = true
		r.RateLimit, r.RateLimitLight, r.RateLimitMedium = a.RateLimit*share, a.RateLimitLight*share, a.RateLimitMedium*share
		a.RateLimit, a.RateLimitLight, a.RateLimitMedium = a.RateLimit-r.RateLimit, a.RateLimitLight-r.RateLimitLight, a.RateLimitMedium-r.RateLimitMedium
		out = append(out, &r)
	}
	return out
}

// sdkApps are the Meeting SDK apps by account, for
// zoom.svc.meeting.sdk_signature: ZOOMW_SDK_KEY and ZOOMW_SDK_SECRET for the
// default account, an accounts-file entry's sdk_key and sdk_secret_env
// (the secret by reference) for the others.
func sdkApps(cfg *Config, accounts []*accountSpec, getenv func(string) string) (map[string]readside.SDKApp, error) {
	if (cfg.SDKKey == "") != (cfg.SDKSecret == "") {
		return nil, &badSetting{name: "ZOOMW_SDK_KEY, ZOOMW_SDK_SECRET", why: "a Meeting SDK app needs both"}
	}
	apps := map[string]readside.SDKApp{}
	if cfg.SDKKey != "" {
		apps[worker.DefaultAccount] = readside.SDKApp{Key: cfg.SDKKey, Secret: cfg.SDKSecret}
	}
	for _, a := range accounts {
		if a.Name == worker.DefaultAccount || (a.SDKKey == "" && a.SDKSecretEnv == "") {
			continue
		}
		secret := ""
		if a.SDKSecretEnv != "" {
			secret = getenv(a.SDKSecretEnv)
		}
		if a.SDKKey == "" || secret == "" {
			return nil, &badSetting{name: "ZOOMW_ACCOUNTS_FILE account " + a.Name, why: "a Meeting SDK app needs sdk_key and sdk_secret_env naming a set variable"}
		}
		apps[a.Name] = readside.SDKApp{Key: a.SDKKey, Secret: secret}
	}
	return apps, nil
}
