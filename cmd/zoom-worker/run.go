package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `zoom-worker creates Zoom users and meetings for jobs published to NATS JetStream.

Usage:
  zoom-worker run      run one worker against the NATS, Redis and Zoom the settings name
  zoom-worker dev      run everything in one process: embedded NATS, a Zoom simulator, the worker
                       (in dev builds only: make run, or go run -tags dev ./cmd/zoom-worker dev)
  zoom-worker console  serve the operator console: streams, workers, jobs, dead letters (zoom-worker console --help)
  zoom-worker dlq      list or replay dead-lettered jobs (zoom-worker dlq --help)
  zoom-worker submit   publish a job and optionally wait for its event (zoom-worker submit --help)
  zoom-worker version  print the version

Settings come from the environment (flags mirror them): zoom-worker run --help lists them.
`

// devMissing is what a binary built without -tags dev says to `zoom-worker dev`.
const devMissing = "dev is not in this build (the production binary leaves it out): use `make run`, or `go run -tags dev ./cmd/zoom-worker dev`"

// run is the whole program; main only catches signals and sets the exit
// code. Exit codes: 0 success, 1 failure, 2 bad usage or a bad setting.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = runWorker(ctx, rest, getenv, stdout, stderr, false)
	case "dev":
		if !devBuild {
			fmt.Fprintln(stderr, "zoom-worker:", devMissing)
			return 2
		}
		err = runWorker(ctx, rest, getenv, stdout, stderr, true)
	case "console":
		err = runConsole(ctx, rest, getenv, stdout, stderr)
	case "dlq":
		err = runDLQ(ctx, rest, getenv, stdout, stderr)
	case "submit":
		err = runSubmit(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "zoom-worker", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "zoom-worker: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	return exitCode(err, stderr)
}

// usageError is a command line that cannot work: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitCode says the error on one line of stderr (unless it was logged
// already) and returns the exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var logged *loggedError
	if !errors.As(err, &logged) {
		fmt.Fprintln(stderr, "zoom-worker:", err)
	}
	return codeOf(err)
}

func codeOf(err error) int {
	var bad *badSetting
	var ue *usageError
	if errors.As(err, &bad) || errors.As(err, &ue) {
		return 2
	}
	return 1
}
