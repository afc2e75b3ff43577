//go:build !dev

package main

import (
	"context"
	"io"
	"log/slog"
)

// devBuild says whether this binary was built with -tags dev. The
// production build leaves dev mode out (see README, "Why dev is a build
// tag"): no embedded NATS server, no in-process Redis, no Zoom simulator.
const devBuild = false

func startDev(context.Context, *Config, *slog.Logger, io.Writer) (func(), error) {
	return nil, &usageError{devMissing}
}
