package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/webhook"
	"github.com/zoomworker/zoom-worker/worker"
)

// startWebhooks starts the Zoom webhook receiver on its own listener
// (ZOOMW_WEBHOOK_ADDR) when one is set, and returns what stops it. It faces
// the internet, so it serves POST /zoom/webhook and nothing else.
func startWebhooks(cfg *Config, nc *nats.Conn, accounts []*accountSpec, getenv func(string) string, log *slog.Logger) (func(), error) {
	if cfg.WebhookAddr == "" || cfg.WebhookAddr == "off" {
		return func() {}, nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	rc := webhook.Config{JetStream: js, Logger: log}
	for _, a := range accounts {
		wa := webhook.Account{Name: a.Name, ZoomAccountID: a.AccountID}
		if a.Name == worker.DefaultAccount {
			wa.ZoomAccountID, wa.SecretToken = "", cfg.WebhookSecret
			rc.Default = wa
			continue
		}
		if a.WebhookSecretTokenEnv != "" {
			wa.SecretToken = getenv(a.WebhookSecretTokenEnv)
			if wa.SecretToken == "" {
				return nil, &badSetting{name: "ZOOMW_ACCOUNTS_FILE account " + a.Name, why: "webhook_secret_token_env names " + a.WebhookSecretTokenEnv + ", which is not set"}
			}
			rc.Others = append(rc.Others, wa)
		}
	}
	recv, err := webhook.NewReceiver(rc)
	if err != nil {
		return nil, &badSetting{name: "ZOOM_WEBHOOK_SECRET_TOKEN", why: "ZOOMW_WEBHOOK_ADDR is set, so the receiver needs the Zoom app's webhook secret token (or an accounts-file webhook_secret_token_env)"}
	}
	ln, err := listen(cfg.WebhookAddr, false, log, "ZOOMW_WEBHOOK_ADDR")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(webhook.Path, recv)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10}
	stop := serve(srv, ln, "webhook receiver", 3*time.Second, log)
	log.Info("webhook receiver listening", "addr", ln.Addr().String(), "path", webhook.Path)
	return stop, nil
}

// setupWebhookStream creates ZOOM_WEBHOOKS, retrying in the background
// while NATS is not reachable: until then the receiver answers 503 (Zoom
// retries) and the cache consumer waits.
func setupWebhookStream(ctx context.Context, js jetstream.JetStream, replicas int, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for delay := 200 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := webhook.SetupStream(sctx, js, replicas)
			cancel()
			if err == nil || ctx.Err() != nil {
				return
			}
			log.Warn("create stream "+webhook.Stream+"; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
	}()
	return done
}
