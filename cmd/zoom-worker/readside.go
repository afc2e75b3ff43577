package main

import (
	"context"
	"fmt"
	"log/slog"

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
	accounts map[string]worker.Account, log *slog.Logger) (func(), error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	setupWebhookStream(ctx, js, cfg.Worker.StreamReplicas, log)
	zc := make(map[string]readside.Zoom, len(accounts))
	for name, a := range accounts {
		zc[name] = a.Zoom
	}
	svc, err := readside.Start(nc, readside.Config{Jobs: store, Cache: store, Accounts: zc, Version: version,
		Logger: log, IncludeStartURL: cfg.IncludeStartURL})
	if err != nil {
		return nil, fmt.Errorf("start the NATS service API: %w", err)
	}
	fctx, cancel := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		err := readside.Follow(fctx, readside.FollowConfig{JetStream: js, Cache: store, Accounts: zc,
			IncludeStartURL: cfg.IncludeStartURL, Logger: log})
		if err != nil {
			log.Error("read cache stopped following webhooks", "err", err)
		}
	}()
	return func() {
		cancel()
		<-followed
		_ = svc.Stop()
	}, nil
}
