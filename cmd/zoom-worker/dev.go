//go:build dev

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// devBuild says whether this binary was built with -tags dev (it was).
const devBuild = true

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
// embedded NATS server with JetStream, the Zoom simulator, and its own store
// (see devStore). It points cfg at them.
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

	// The store: in-process unless a Redis was asked for, so that dev's state
	// lives and dies with the process and a user's Redis is never written
	// silently.
	redisNote, err := devStore(ctx, cfg, log, &stops)
	if err != nil {
		return nil, err
	}

	// The HTTP endpoint: loopback unless set.
	if !cfg.explicitlySet["ZOOMW_HTTP_ADDR"] {
		cfg.HTTPAddr = devHTTPAddr
	}

	// Zoom's webhooks to dev's own receiver (webhook_dev.go).
	hookNote, err := devWebhooks(cfg, fake, zurl)
	if err != nil {
		return nil, err
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
  go run ./cmd/zoom-worker submit meeting --nats-url %s --user james@bond.com --topic Demo --start 2026-12-05T12:00:00Z --duration 45 --wait

`, cfg.NATSURL, zurl, redisNote, cfg.NATSURL, cfg.NATSURL, cfg.NATSURL)
	fmt.Fprint(stdout, hookNote)
	return stopAll, nil
}

// devHTTPAddr is dev's HTTP endpoint unless ZOOMW_HTTP_ADDR says otherwise:
// loopback, since dev serves a laptop, not a network.
const devHTTPAddr = "127.0.0.1:9090"

// devPrefixSuffix ends the key prefix dev uses in a real Redis, so that dev
// never reads or clears keys a worker wrote.
const devPrefixSuffix = "-dev"

// devStore points cfg at dev's store and says which it is. By default that is
// an in-process Redis stand-in whose state is lost at exit. With REDIS_URL
// set, dev uses that Redis under its own prefix (ZOOMW_REDIS_PREFIX + "-dev")
// and deletes that prefix's keys at start, so no state survives from an
// earlier run (a cached meeting from a simulator that no longer exists).
func devStore(ctx context.Context, cfg *Config, log *slog.Logger, stops *[]func()) (string, error) {
	if !cfg.explicitlySet["REDIS_URL"] {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return "", fmt.Errorf("dev: in-process store: %w", err)
		}
		*stops = append(*stops, mr.Close)
		cfg.RedisURL = "redis://" + mr.Addr() + "/0"
		log.Info("dev: using an in-process store (its state is lost at exit; set REDIS_URL to use a Redis)")
		return "an in-process store (state lost at exit; set REDIS_URL to use a Redis)", nil
	}
	if cfg.RedisPrefix == "" {
		cfg.RedisPrefix = redisstore.DefaultPrefix
	}
	cfg.RedisPrefix += devPrefixSuffix
	n, err := clearPrefix(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return "", &badSetting{name: "REDIS_URL", value: redactURL(cfg.RedisURL), why: "dev could not clear its keys there: " + err.Error()}
	}
	log.Info("dev: using the Redis at REDIS_URL under its own prefix, cleared at start",
		"redis_url", redactURL(cfg.RedisURL), "prefix", cfg.RedisPrefix, "keys_deleted", n)
	return fmt.Sprintf("Redis at %s, keys %s:* (cleared at start: %d deleted)", redactURL(cfg.RedisURL), cfg.RedisPrefix, n), nil
}

// clearPrefix deletes every key under prefix and says how many there were.
func clearPrefix(ctx context.Context, url, prefix string) (int, error) {
	c, err := redisstore.NewClient(url, redisstore.ClientOptions{})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n := 0
	iter := c.Scan(ctx, 0, prefix+":*", 500).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			return n, err
		}
		n++
	}
	return n, iter.Err()
}
