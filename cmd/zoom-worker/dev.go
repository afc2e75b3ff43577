package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// Credentials of the Zoom simulator in dev mode. They are not secrets.
const (
	devAccountID    = "dev-account"
	devClientID     = "dev-client"
	devClientSecret = "dev-secret"
)

// devHosts are the host users the simulator knows at start, so the
// contract's example jobs work as they are.
var devHosts = []struct{ email, first, last string }{
	{"james@bond.com", "James", "Bond"},
	{"dev@example.com", "Dev", "Host"},
}

// startDev starts what `zoom-worker dev` needs beside the worker: an
// embedded NATS server with JetStream, the Zoom simulator, and an
// in-process Redis when none answers at REDIS_URL. It points cfg at them.
func startDev(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) (_ func(), err error) {
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stopAll()
		}
	}()

	// NATS.
	ln, err := listen(cfg.DevNATSAddr, !cfg.explicitlySet["ZOOMW_DEV_NATS_ADDR"], log, "ZOOMW_DEV_NATS_ADDR")
	if err != nil {
		return nil, err
	}
	host, portStr, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(portStr)
	ln.Close() // nats-server listens itself; the check above said whether the port is free
	dir := cfg.DevDataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "zoom-worker-dev-*"); err != nil {
			return nil, err
		}
		stops = append(stops, func() { os.RemoveAll(dir) })
	}
	ns, err := server.NewServer(&server.Options{Host: host, Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, fmt.Errorf("dev: embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, &badSetting{name: "ZOOMW_DEV_NATS_ADDR", value: cfg.DevNATSAddr, why: "the embedded NATS could not start there (is the port taken?)"}
	}
	stops = append(stops, func() { ns.Shutdown(); ns.WaitForShutdown() })
	cfg.NATSURL = ns.ClientURL()
	cfg.NATSCreds = ""

	// Zoom simulator.
	fake := zoomtest.New(zoomtest.Options{AccountID: devAccountID, ClientID: devClientID, ClientSecret: devClientSecret,
		Latency: cfg.DevZoomDelay})
	for _, h := range devHosts {
		fake.AddUser(h.email, h.first, h.last, 1)
	}
	zurl, zclose, err := fake.Serve(cfg.DevZoomAddr)
	if err != nil {
		return nil, &badSetting{name: "ZOOMW_DEV_ZOOM_ADDR", value: cfg.DevZoomAddr, why: err.Error()}
	}
	stops = append(stops, func() { _ = zclose() })
	cfg.ZoomAPIURL, cfg.ZoomTokenURL = zurl+"/v2", zurl+"/oauth/token"
	cfg.AccountID, cfg.ClientID, cfg.ClientSecret = devAccountID, devClientID, devClientSecret
	cfg.APIKey, cfg.APISecret = "", ""
	cfg.AccountsFile = ""

	// Redis, or an in-process stand-in.
	redisNote := "Redis at " + redactURL(cfg.RedisURL)
	if !redisAnswers(ctx, cfg.RedisURL) {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, fmt.Errorf("dev: in-process store: %w", err)
		}
		stops = append(stops, mr.Close)
		log.Warn("no Redis answers at REDIS_URL: using an in-process store (its state is lost at exit)", "redis_url", redactURL(cfg.RedisURL))
		cfg.RedisURL = "redis://" + mr.Addr() + "/0"
		redisNote = "an in-process store (no Redis answered)"
	}

	log.Info("dev mode ready", "nats_url", cfg.NATSURL, "zoom_simulator", zurl, "hosts", "james@bond.com dev@example.com")
	fmt.Fprintf(stdout, `zoom-worker dev: everything runs in this process.
  NATS (JetStream): %s
  Zoom simulator:   %s (hosts: james@bond.com, dev@example.com)
  store:            %s

Publish a job and watch its event:
  nats --server %s sub 'zoom.events.>' &
  nats --server %s pub zoom.jobs.meeting.create '{"job_id":"m-1","user_id":"james@bond.com","meeting":{"topic":"Demo","type":2,"start_time":"2026-12-05T12:00:00Z","duration":45}}'
or without the nats CLI:
  go run ./cmd/zoom-worker submit meeting --nats-url %s --user james@bond.com --topic Demo --wait

`, cfg.NATSURL, zurl, redisNote, cfg.NATSURL, cfg.NATSURL, cfg.NATSURL)
	return stopAll, nil
}

func redisAnswers(ctx context.Context, url string) bool {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return false
	}
	opts.MaxRetries = -1
	opts.DialTimeout = 500 * time.Millisecond
	c := redis.NewClient(opts)
	defer c.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return c.Ping(pctx).Err() == nil
}

// redactURL drops the password from a URL before it is logged.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
