package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandLineContract: exit codes and what each command says for its
// help, a bad flag, a stray argument or a missing value. Usage is printed
// once and the error is the last line.
func TestCommandLineContract(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // each must appear on stdout
		stderr   []string // each must appear on stderr
		lastLine string   // the last line of stderr must contain it
		not      []string // none may appear anywhere
	}{
		{name: "run extra argument", args: []string{"run", "extra-arg"}, code: 2,
			lastLine: `run: unexpected argument "extra-arg"`},
		{name: "run bad flag", args: []string{"run", "--bogus"}, code: 2,
			lastLine: "run: flag provided but not defined: -bogus"},
		{name: "run --help", args: []string{"run", "--help"}, code: 0,
			stdout: []string{"--concurrency int", "(default 256, env ZOOMW_CONCURRENCY)", "--ack-wait duration",
				"--events-include-start-url bool", "--nats-url url", "ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_API_KEY"},
			not: []string{"dev-nats-addr", "ZOOMW_DEV_", "console-addr"}},
		{name: "console --help", args: []string{"console", "--help"}, code: 0,
			stdout: []string{"--console-addr string", "ZOOMW_CONSOLE_TOKEN", "--nats-url url", "--redis-url url",
				"--accounts-file file", "--rate-limit number", "ZOOM_CLIENT_SECRET"},
			not: []string{"dev-nats-addr", "--concurrency", "--retry-budget", "--webhook-addr", "ZOOMW_MAX_ATTEMPTS"}},
		{name: "console takes no worker flag", args: []string{"console", "--concurrency", "5"}, code: 2,
			lastLine: "console: flag provided but not defined: -concurrency"},
		{name: "console bad flag", args: []string{"console", "--bogus"}, code: 2,
			lastLine: "console: flag provided but not defined: -bogus"},
		{name: "submit --help", args: []string{"submit", "--help"}, code: 0,
			stdout: []string{"--wait", "--start time", "--duration minutes", "--nats-url", "--file file"}},
		{name: "dlq --help", args: []string{"dlq", "--help"}, code: 0,
			stdout: []string{"--seq", "--all", "--keep", "--json", "--nats-url"}},
		{name: "dlq list --help", args: []string{"dlq", "list", "--help"}, code: 0, stdout: []string{"--seq", "--nats-url"}},
		{name: "dlq bad flag", args: []string{"dlq", "list", "--bogus"}, code: 2,
			lastLine: "dlq list: flag provided but not defined: -bogus"},
		{name: "dlq extra argument", args: []string{"dlq", "list", "more"}, code: 2, lastLine: `unexpected argument "more"`},
		{name: "dlq replay says which", args: []string{"dlq", "replay"}, code: 2, lastLine: "--seq, --job-id or --all"},
		{name: "submit bad flag", args: []string{"submit", "meeting", "--bogus"}, code: 2,
			lastLine: "submit meeting: flag provided but not defined: -bogus"},
		{name: "submit meeting without --start", args: []string{"submit", "meeting", "--user", "a@b.c", "--topic", "t"}, code: 2,
			lastLine: "--start is required"},
		{name: "submit meeting without --duration",
			args: []string{"submit", "meeting", "--user", "a@b.c", "--topic", "t", "--start", "2026-12-05T12:00:00Z"}, code: 2,
			lastLine: "--duration is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, func(string) string { return "" }, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d; want %d (stdout %q, stderr %q)", code, tt.code, stdout.String(), stderr.String())
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout does not say %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
			if tt.lastLine != "" {
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				if last := lines[len(lines)-1]; !strings.Contains(last, tt.lastLine) {
					t.Errorf("last line %q; want it to say %q", last, tt.lastLine)
				}
				if n := strings.Count(stderr.String(), "Usage:"); n > 1 {
					t.Errorf("usage printed %d times:\n%s", n, stderr.String())
				}
				if n := strings.Count(stderr.String(), tt.lastLine); n != 1 {
					t.Errorf("the error is said %d times:\n%s", n, stderr.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(stdout.String()+stderr.String(), w) {
					t.Errorf("output shows %q", w)
				}
			}
		})
	}
}

// TestConsoleSettingsExist: every name the console offers is a setting, so
// a renamed setting cannot silently drop out of the console's --help.
func TestConsoleSettingsExist(t *testing.T) {
	known := map[string]bool{}
	for _, s := range Settings {
		known[s.env] = true
	}
	for env := range consoleSettings {
		if !known[env] {
			t.Errorf("consoleSettings names %s, which is no setting", env)
		}
	}
}
