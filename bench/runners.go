package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// runner is what a child runs: the worker, the bare JetStream loop (or the
// minimal pipeline), or the fake Zoom.
type runner interface {
	mark() error
	inFlight() int
	stop() error
}

// workerRunner is the worker wired as cmd/zoom-worker/wire.go wires it: a
// Redis store with the pool sized from the concurrency, a Zoom client with
// Server-to-Server OAuth whose token is shared through Redis, the shared
// rate limiter when there is a limit, metrics on a registry, JSON logs at
// info (written to nowhere, but formatted as in production).
type workerRunner struct {
	w   *worker.Worker
	run *testenv.WorkerRun
	nc  *nats.Conn
	rdb redis.UniversalClient
}

func startWorker(ctx context.Context, cfg childConfig, counts *logCounts, trips *tripCounter) (runner, error) {
	var sink io.Writer = io.Discard
	level := slog.LevelInfo
	if cfg.Verbose {
		sink, level = os.Stderr, slog.LevelWarn
	}
	log := slog.New(&countingHandler{Handler: slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: level}), c: counts})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := worker.NewMetrics(reg)

	nc, err := nats.Connect(cfg.NATSURL, nats.Name(workerConnName), nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	rdb, err := redisstore.NewClient(cfg.RedisURL, redisstore.ClientOptions{BufferSize: cfg.RedisBuffer}) // as cmd/zoom-worker
	if err != nil {
		return nil, err
	}
	rdb.AddHook(trips)
	store := redisstore.New(rdb, redisstore.Options{})

	spec := testenv.AccountSpecAt(cfg.ZoomURL, "")
	spec.Limits, spec.Metrics = redisstore.Limits{PerSecond: cfg.RateLimit, Plan: redisstore.Plan(cfg.Plan), Burst: 1}, m
	acct, err := account.New(spec, store)
	if err != nil {
		return nil, err
	}
	accounts := map[string]worker.Account{worker.DefaultAccount: acct}
	if cfg.BacklogRate > 0 {
		spec := testenv.AccountSpecAt(cfg.ZoomURL, backlogAccount)
		spec.Limits, spec.Metrics = redisstore.Limits{PerSecond: cfg.BacklogRate, Burst: 1}, m
		if accounts[backlogAccount], err = account.New(spec, store); err != nil {
			return nil, err
		}
	}
	w, err := worker.New(worker.Config{Concurrency: cfg.Concurrency, InstanceID: cfg.Name, Logger: log, Metrics: m},
		worker.Deps{NATS: nc, Store: store, Cache: store, Accounts: accounts})
	if err != nil {
		return nil, err
	}
	run, err := testenv.RunWorker(w, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &workerRunner{w: w, run: run, nc: nc, rdb: rdb}, nil
}

func (r *workerRunner) mark() error   { return nil }
func (r *workerRunner) inFlight() int { return r.w.InFlight() }

func (r *workerRunner) stop() error {
	err := r.run.Stop(worker.DefaultShutdownTimeout + 10*time.Second)
	_ = r.nc.Drain()
	deadline := time.Now().Add(5 * time.Second)
	for !r.nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r.nc.Close()
	_ = r.rdb.Close()
	return err
}

// zoomRunner is the fake Zoom in a process of its own, as Zoom is: in the
// bench process its handlers shared two Ps with the NATS server, whose
// storing of a burst of publishes held the first calls' answers back.
type zoomRunner struct {
	fake  *zoomtest.Server
	url   string
	close func() error
}

func startZoom(cfg childConfig) (runner, error) {
	fake := zoomtest.New(zoomtest.Options{Latency: cfg.ZoomLatency, DailyMeetingLimit: benchDailyLimit,
		AccountID: testenv.AccountID, ClientID: testenv.ClientID, ClientSecret: testenv.ClientSecret})
	addHosts(fake)
	url, closeFn, err := fake.Serve("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake Zoom: %w", err)
	}
	return &zoomRunner{fake: fake, url: url, close: closeFn}, nil
}

func (z *zoomRunner) mark() error   { return nil }
func (z *zoomRunner) inFlight() int { return 0 }
func (z *zoomRunner) stop() error   { return z.close() }

// baselineRunner is the least any JetStream worker must do per job, at the
// same concurrency and on the same stream and consumer: take the job, publish
// one small event and wait for the server's ack, ack the job. In mode
// "pipeline" it does the same I/O as the worker with no framework: one Redis
// round trip (SET NX of the job's key), the job's create-meeting call to the
// fake Zoom (one POST with a token fetched once), one Redis round trip (SET
// of Zoom's answer), then publishes Zoom's answer as the event: the least a
// worker that calls Zoom and keeps a record must do.
type baselineRunner struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	cons   jetstream.Consumer
	c      int
	it     jetstream.MessagesContext
	wg     sync.WaitGroup
	flight atomic.Int64

	zoomURL string // "" = no HTTP call
	token   string
	httpc   *http.Client
	rdb     redis.UniversalClient // nil = no Redis
}

func startBaseline(ctx context.Context, cfg childConfig, trips *tripCounter) (runner, error) {
	nc, err := nats.Connect(cfg.NATSURL, nats.Name(workerConnName))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := worker.SetupStreams(sctx, js, worker.Config{})
	if err != nil {
		return nil, err
	}
	c := cfg.Concurrency
	if c <= 0 {
		c = worker.DefaultConcurrency
	}
	b := &baselineRunner{nc: nc, js: js, cons: cons, c: c}
	if cfg.Mode == "pipeline" {
		if b.rdb, err = redisstore.NewClient(cfg.RedisURL, redisstore.ClientOptions{}); err != nil {
			return nil, err
		}
		b.rdb.AddHook(trips)
		b.zoomURL, b.httpc = cfg.ZoomURL, zoom.NewHTTPClient(30*time.Second)
		app := testenv.AccountSpecAt(cfg.ZoomURL, "")
		tokens := zoom.NewOAuth(zoom.OAuthConfig{AccountID: app.AccountID, ClientID: app.ClientID, ClientSecret: app.ClientSecret,
			TokenURL: app.TokenURL, HTTPClient: b.httpc})
		if b.token, err = tokens.Token(ctx); err != nil {
			return nil, fmt.Errorf("zoom token: %w", err)
		}
	}
	return b, nil
}

// callZoom makes the job's create-meeting request and returns Zoom's answer.
func (b *baselineRunner) callZoom(job []byte) ([]byte, error) {
	var j struct {
		UserID  string          `json:"user_id"`
		Meeting json.RawMessage `json:"meeting"`
	}
	if err := json.Unmarshal(job, &j); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.zoomURL+"/v2/users/"+url.PathEscape(j.UserID)+"/meetings",
		bytes.NewReader(j.Meeting))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusCreated {
		err = fmt.Errorf("zoom answered %d: %.200s", resp.StatusCode, body)
	}
	return body, err
}

// pipeline is the pipeline mode's work on one job: Redis, Zoom, Redis.
func (b *baselineRunner) pipeline(msg jetstream.Msg) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := "pipeline:" + msg.Headers().Get(messages.HeaderMsgID)
	if err := b.rdb.SetNX(ctx, key, "running", time.Hour).Err(); err != nil {
		return nil, err
	}
	answer, err := b.callZoom(msg.Data())
	if err != nil {
		return nil, err
	}
	return answer, b.rdb.Set(ctx, key, answer, time.Hour).Err()
}

func (b *baselineRunner) inFlight() int { return int(b.flight.Load()) }

func (b *baselineRunner) mark() error {
	it, err := b.cons.Messages(jetstream.PullMaxMessages(b.c))
	if err != nil {
		return err
	}
	b.it = it
	body := []byte(`{"job_id":"x","user_id":"host@bench.example","meeting":{"id":85746065432}}`)
	for range b.c {
		b.wg.Go(func() {
			for {
				msg, err := it.Next()
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				if err != nil {
					time.Sleep(time.Millisecond)
					continue
				}
				b.flight.Add(1)
				ev := nats.NewMsg(messages.SubjectMeetingCreated)
				ev.Header.Set(messages.HeaderMsgID, messages.EventMsgID(msg.Headers().Get(messages.HeaderMsgID), messages.SubjectMeetingCreated))
				ev.Data = body
				if b.zoomURL != "" {
					ev.Data, err = b.pipeline(msg)
				}
				if err == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err = b.js.PublishMsg(ctx, ev)
					cancel()
				}
				if err != nil {
					_ = msg.Nak()
				} else {
					_ = msg.Ack()
				}
				b.flight.Add(-1)
			}
		})
	}
	return nil
}

func (b *baselineRunner) stop() error {
	if b.it != nil {
		b.it.Stop()
	}
	b.wg.Wait()
	err := b.nc.FlushTimeout(5 * time.Second)
	b.nc.Close()
	if b.rdb != nil {
		_ = b.rdb.Close()
	}
	return err
}
