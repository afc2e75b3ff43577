package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/console"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

// runConsole is `zoom-worker console`: the operator console, reading the
// NATS and Redis the settings name (the workers' own settings).
//
// Shutdown order: the HTTP server stops taking requests and finishes those
// in flight, the console's followers stop, Redis closes, NATS drains.
func runConsole(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zoom-worker console", flag.ContinueOnError)
	cfg, err := loadCommandConfig(fs, args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	specs := []*accountSpec{{Name: worker.DefaultAccount, RateLimit: cfg.RateLimit, RateLimitLight: cfg.RateLimitLight, RateLimitMedium: cfg.RateLimitMedium}}
	if cfg.AccountsFile != "" {
		if specs, err = loadAccounts(cfg, getenv); err != nil {
			return err
		}
	}
	if err := checkConsoleAddr(cfg); err != nil {
		return err
	}
	nc, store, disconnect, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer disconnect()
	stop, err := startConsole(ctx, cfg, nc, store, specs, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	stop()
	return nil
}

// minConsoleToken is the shortest token accepted: the login form is the
// only thing between a network and replaying or deleting jobs.
const minConsoleToken = 16

// checkConsoleAddr refuses, without a token, an address other than
// loopback, and a token too short to be a secret.
func checkConsoleAddr(cfg *Config) error {
	if cfg.ConsoleToken != "" && len(cfg.ConsoleToken) < minConsoleToken {
		return &badSetting{name: "ZOOMW_CONSOLE_TOKEN", why: fmt.Sprintf("too short: use at least %d random characters (openssl rand -hex 24)", minConsoleToken)}
	}
	if cfg.ConsoleToken == "" && !console.LoopbackOnly(cfg.ConsoleAddr) {
		return &badSetting{name: "ZOOMW_CONSOLE_ADDR", value: cfg.ConsoleAddr,
			why: "without ZOOMW_CONSOLE_TOKEN the console listens only on a loopback address (127.0.0.1:8080, [::1]:8080, localhost:8080); set a token to listen there"}
	}
	return nil
}

// startConsole serves the console at cfg.ConsoleAddr until the returned
// stop is called (`zoom-worker console`, and `zoom-worker dev` beside the
// worker). A default address that is taken falls back to a free port.
func startConsole(ctx context.Context, cfg *Config, nc *nats.Conn, store *redisstore.Store, specs []*accountSpec, log *slog.Logger) (func(), error) {
	if err := checkConsoleAddr(cfg); err != nil {
		return nil, err
	}
	accts := make([]console.Account, len(specs))
	for i, a := range specs {
		accts[i] = console.Account{Name: a.Name, RateLimit: a.RateLimit, Light: a.RateLimitLight, Medium: a.RateLimitMedium}
	}
	con, err := console.New(console.Config{NATS: nc, Records: store, Limits: store, Accounts: accts,
		Token: cfg.ConsoleToken, ReadOnly: cfg.ConsoleReadOnly, Version: version, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := listen(cfg.ConsoleAddr, !cfg.explicitlySet["ZOOMW_CONSOLE_ADDR"], log, "ZOOMW_CONSOLE_ADDR")
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	followed := make(chan struct{})
	go func() { defer close(followed); con.Run(cctx) }()
	stopServing := serve(&http.Server{Handler: con.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second},
		ln, "console server", 3*time.Second, log)
	log.Info("operator console listening", "url", "http://"+ln.Addr().String()+"/",
		"login", cfg.ConsoleToken != "", "read_only", cfg.ConsoleReadOnly)
	return func() {
		stopServing()
		cancel()
		<-followed
	}, nil
}
