// Command zoom-worker creates Zoom users and meetings for jobs published to
// NATS JetStream. See README.md for the commands and settings.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/zoomworker/zoom-worker/internal/defaults"
)

func main() {
	defaults.GC(os.Getenv) // the process's, so here and not in run
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
