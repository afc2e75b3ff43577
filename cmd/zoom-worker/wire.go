package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

// runWorker is `zoom-worker run` (dev=false) and `zoom-worker dev`.
//
// Shutdown order, on SIGTERM or SIGINT: the worker stops fetching, hands
// back jobs fetched but not started, lets jobs in flight finish (or cancels
// and hands them back after ZOOMW_SHUTDOWN_TIMEOUT), flushes NATS; then the
// HTTP endpoint and the service API stop, Redis closes, the NATS connection
// drains, and in dev the embedded servers stop. Exit code 0.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, dev bool) (err error) {
	name := "run"
	if dev {
		name = "dev"
	}
	fs := flag.NewFlagSet("zoom-worker "+name, flag.ContinueOnError)
	cfg, err := loadCommandConfig(fs, args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	if dev {
		// dev serves the console: a bad console setting is refused before
		// anything starts, on one line, like every other bad setting.
		if err := checkConsoleAddr(cfg); err != nil {
			return err
		}
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	// From here on the reason for an exit is a log line too, in the log's
	// format, and the last one: every line run writes is JSON (or text).
	defer func() { err = logExit(log, err) }()

	var cleanup []func()
	defer func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}()
	// Background work (retries, watchers) stops before the cleanup above
	// closes what it uses, also when run returns with an error.
	ctx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	if dev {
		stop, err := startDev(ctx, cfg, log, stdout)
		if err != nil {
			return err
		}
		cleanup = append(cleanup, stop)
	}
	if err := cfg.checkCredentials(); err != nil {
		return err
	}
	accounts, err := loadAccounts(cfg, getenv)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := worker.NewMetrics(reg)

	nc, store, disconnect, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	cleanup = append(cleanup, disconnect)

	deps := worker.Deps{NATS: nc, Store: store, Cache: store, Accounts: map[string]worker.Account{}}
	readers := readSpecs(cfg, accounts) // before the jobs' clients: they get the rest of the rate
	for _, a := range accounts {
		acct, err := a.build(cfg, store, metrics)
		if err != nil {
			return err
		}
		deps.Accounts[a.Name] = acct
	}
	wcfg := cfg.Worker
	wcfg.Logger, wcfg.Metrics = log, metrics
	wcfg.Failpoint = failpoint(getenv("ZOOMW_TEST_FAILPOINT"), log)
	w, err := worker.New(wcfg, deps)
	if err != nil {
		return &badSetting{name: "worker", why: err.Error()}
	}

	stopReads, err := startReadSide(ctx, cfg, nc, store, readers, metrics, w, getenv, log)
	if err != nil {
		return err
	}
	cleanup = append(cleanup, stopReads)
	stopWebhooks, err := startWebhooks(cfg, nc, accounts, getenv, log)
	if err != nil {
		return err
	}
	cleanup = append(cleanup, stopWebhooks)

	if dev {
		// dev serves the operator console too (ZOOMW_CONSOLE_ADDR).
		stop, err := startConsole(ctx, cfg, nc, store, accounts, log)
		if err != nil {
			return err
		}
		cleanup = append(cleanup, stop)
	}

	if cfg.HTTPAddr != "off" && cfg.HTTPAddr != "" {
		stop, err := serveHTTP(cfg, w, reg, log)
		if err != nil {
			return err
		}
		cleanup = append(cleanup, stop)
	}
	err = w.Run(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// SIGINT or SIGTERM before the start was done: a stop asked for,
		// not a failure (exit 0, as after a start).
		return nil
	}
	var se *worker.StartError
	if errors.As(err, &se) {
		return fmt.Errorf("%w (NATS_URL is %s; ZOOMW_START_TIMEOUT=%s is how long a start waits)",
			err, redactURLs(cfg.NATSURL), cfg.Worker.StartTimeout)
	}
	return err
}

// failpoint is for crash tests only: ZOOMW_TEST_FAILPOINT="after_zoom" (or
// "after_zoom:JOB_ID") makes the process kill itself with SIGKILL at that
// recovery point, so a test can prove a crash there loses nothing and
// duplicates nothing. Unset in production.
func failpoint(spec string, log *slog.Logger) func(point, jobID string) {
	if spec == "" {
		return nil
	}
	want, job, _ := strings.Cut(spec, ":")
	log.Warn("test failpoint armed: this process will kill itself", "point", want, "job_id", job)
	return func(point, jobID string) {
		if point == want && (job == "" || job == jobID) {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}

// redactURLs hides passwords in a comma-separated list of URLs.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = redactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

func waitClosed(nc *nats.Conn, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	nc.Close()
}

func connectNATS(ctx context.Context, cfg *Config, log *slog.Logger) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("zoom-worker"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "server", c.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Warn("nats error", "err", err) }),
	}
	if cfg.NATSCreds != "" {
		if _, err := os.Stat(cfg.NATSCreds); err != nil {
			return nil, &badSetting{name: "NATS_CREDS", value: cfg.NATSCreds, why: "cannot read the file"}
		}
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	nc, err := nats.Connect(cfg.NATSURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", redactURLs(cfg.NATSURL), err)
	}
	// Wait briefly for the first connection so a wrong URL is said at once:
	// at most 5 s, and never longer than the start timeout itself (a 1 s
	// ZOOMW_START_TIMEOUT must not take 6 s to give up). A signal ends the
	// wait; the start that follows sees ctx ended and stops.
	wait := cfg.Worker.StartTimeout
	defaults.Set(&wait, worker.DefaultStartTimeout)
	deadline := time.Now().Add(min(5*time.Second, wait))
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !nc.IsConnected() && time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	if !nc.IsConnected() && ctx.Err() == nil {
		log.Warn("NATS not reachable yet at NATS_URL; retrying until ZOOMW_START_TIMEOUT", "url", redactURLs(cfg.NATSURL),
			"start_timeout", cfg.Worker.StartTimeout.String())
	}
	return nc, nil
}

// connect opens what the serving commands (run, dev, console) work on: the
// NATS connection and the Redis store the settings name, the Redis client
// (one server, Sentinel or Cluster) logging go-redis's own messages through
// log. disconnect closes Redis, then drains NATS.
func connect(ctx context.Context, cfg *Config, log *slog.Logger) (nc *nats.Conn, store *redisstore.Store, disconnect func(), err error) {
	nc, err = connectNATS(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	drain := func() { _ = nc.Drain(); waitClosed(nc, 5*time.Second) }
	rdb, err := redisstore.NewClient(cfg.RedisURL, redisstore.ClientOptions{Logger: log, SentinelPassword: cfg.RedisSentinelPassword})
	if err != nil {
		drain()
		return nil, nil, nil, &badSetting{name: "REDIS_URL", why: err.Error()}
	}
	store = redisstore.New(rdb, redisstore.Options{Prefix: cfg.RedisPrefix, ResultTTL: cfg.ResultTTL, CacheTTL: cfg.CacheTTL,
		WaitReplicas: cfg.redisWaitReplicas()})
	return nc, store, func() { _ = rdb.Close(); drain() }, nil
}

// redisWaitReplicas resolves ZOOMW_REDIS_WAIT_REPLICAS=auto: behind
// Sentinel a failover must not lose a job record, so each write waits for
// one replica; one server has no replica to wait for.
func (cfg *Config) redisWaitReplicas() int {
	if cfg.RedisWaitReplicas >= 0 {
		return cfg.RedisWaitReplicas
	}
	if u, err := redisstore.ParseURL(cfg.RedisURL); err == nil && u.Topology == redisstore.Sentinel {
		return 1
	}
	return 0
}

func serveHTTP(cfg *Config, w *worker.Worker, reg *prometheus.Registry, log *slog.Logger) (func(), error) {
	mux := http.NewServeMux()
	// OpenMetrics when the scraper asks for it (Accept header), the text format otherwise.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, _ *http.Request) {
		if err := w.Ready(); err != nil {
			rw.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(rw, "not ready:", err)
			return
		}
		fmt.Fprintln(rw, "ready")
	})
	ln, err := listen(cfg.HTTPAddr, !cfg.explicitlySet["ZOOMW_HTTP_ADDR"], log, "ZOOMW_HTTP_ADDR")
	if err != nil {
		return nil, err
	}
	stop := serve(&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln, "http server", 2*time.Second, log)
	log.Info("http endpoint listening", "addr", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	return stop, nil
}

// serve serves srv on ln in the background (an error other than the stop
// is logged as what) until stop, which lets requests in flight finish for
// up to grace and returns when the server has.
func serve(srv *http.Server, ln net.Listener, what string, grace time.Duration, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what, "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
}

// listen listens on addr. When the address is only the default and is
// taken, it says so and takes a free port instead; an address the user set
// that is taken is a bad setting.
func listen(addr string, isDefault bool, log *slog.Logger, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if !isDefault {
		return nil, &badSetting{name: setting, value: addr, why: "cannot listen there: " + errText(err)}
	}
	host, _, _ := net.SplitHostPort(addr)
	ln, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, &badSetting{name: setting, value: addr, why: "cannot listen there: " + errText(err)}
	}
	log.Warn("default address taken; using a free port instead (set "+setting+" to choose)",
		"wanted", addr, "using", ln.Addr().String())
	return ln, nil
}

func errText(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// redactURL drops the password from a URL before it is logged.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// loggedError is an error already written to the log as the process's last line.
type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

// logExit writes why the process stops as its last log line.
func logExit(log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	log.Error("zoom-worker stopped", "err", err.Error(), "exit_code", codeOf(err))
	return &loggedError{err}
}

// newLogger builds the process's structured logger. Attributes whose key
// names a secret are redacted as a second line of defence: the code never
// logs secrets, tokens or start URLs in the first place.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: redact}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func redact(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, s := range []string{"secret", "token", "password", "start_url", "authorization", "zak"} {
		if strings.Contains(k, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}
