//go:build dev

package main

import (
	"fmt"
	"net"
	"time"

	"github.com/zoomworker/zoom-worker/webhook"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// devWebhookSecret signs the simulator's webhooks in dev. It is not a secret.
const devWebhookSecret = "dev-webhook-secret-token"

// devWebhooks turns on dev's webhook receiver (on a free loopback port
// unless ZOOMW_WEBHOOK_ADDR is set) and has the Zoom simulator sign and send
// its webhooks there, retrying within seconds rather than Zoom's minutes,
// so that the read cache follows a meeting changed "in Zoom". It returns
// the lines dev prints about it.
func devWebhooks(cfg *Config, fake *zoomtest.Server, zoomURL string) (string, error) {
	if !cfg.explicitlySet["ZOOMW_WEBHOOK_ADDR"] || cfg.WebhookAddr == "off" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("dev: webhook receiver: %w", err)
		}
		cfg.WebhookAddr = ln.Addr().String()
		ln.Close()
	}
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = devWebhookSecret
	}
	hookURL := "http://" + cfg.WebhookAddr + webhook.Path
	fake.SetWebhook(hookURL, cfg.WebhookSecret)
	fake.SetWebhookRetryDelays(time.Second, 2*time.Second, 5*time.Second)
	return fmt.Sprintf(`Zoom's webhooks: the simulator signs them and posts them to %s;
they land on stream ZOOM_WEBHOOKS and the read cache follows them. "Edit a meeting
in Zoom" (ID from the meeting.created event) and watch the answer change:
  nats --server %s sub 'zoom.webhooks.>' &
  nats --server %s req zoom.svc.meeting.get '{"meeting_id": ID}'
  curl -X PATCH %s/_sim/meetings/ID -H 'Content-Type: application/json' -d '{"topic":"Edited in Zoom"}'
  nats --server %s req zoom.svc.meeting.get '{"meeting_id": ID}'

`, hookURL, cfg.NATSURL, cfg.NATSURL, zoomURL, cfg.NATSURL), nil
}
