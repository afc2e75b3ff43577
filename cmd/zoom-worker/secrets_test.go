package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
)

// TestNoSubcommandPrintsAPassword runs every subcommand with a password in
// NATS_URL and REDIS_URL, both pointing at nothing, and greps all they
// print: no password, and `run` gives up naming NATS_URL (redacted) and the
// setting that says how long it waited.
func TestNoSubcommandPrintsAPassword(t *testing.T) {
	const natsPW, redisPW = "natsPW-s3cr3t", "redisPW-s3cr3t"
	free := func() int {
		p, err := testenv.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	natsURL := fmt.Sprintf("nats://zw:%s@127.0.0.1:%d", natsPW, free())
	redisURL := fmt.Sprintf("redis://zw:%s@127.0.0.1:%d/0", redisPW, free())
	env := []string{"PATH=" + os.Getenv("PATH"), "NATS_URL=" + natsURL, "REDIS_URL=" + redisURL,
		"ZOOM_ACCOUNT_ID=acct", "ZOOM_CLIENT_ID=client", "ZOOM_CLIENT_SECRET=" + testSecret,
		"ZOOMW_HTTP_ADDR=off", "ZOOMW_START_TIMEOUT=2s", fmt.Sprintf("ZOOMW_DEV_NATS_ADDR=127.0.0.1:%d", free())}
	commands := [][]string{
		{"run"}, {"run", "--help"}, {"run", "--bogus"},
		{"dev"}, {"dev", "--help"},
		{"dlq", "list"}, {"dlq", "list", "--json"}, {"dlq", "replay", "--all"}, {"dlq", "replay", "--seq", "1"},
		{"dlq", "--help"}, {"dlq", "replay", "--help"},
		{"submit", "user", "--email", "q@mi6.gov.uk", "--wait"},
		{"submit", "meeting", "--user", "james@bond.com", "--topic", "t", "--start", "2026-12-05T12:00:00Z", "--duration", "30"},
		{"submit", "--help"}, {"submit", "meeting", "--help"},
		{"console"}, {"console", "--help"},
		{"version"}, {"help"},
	}
	for _, args := range commands {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			// A command that serves (console) is stopped as a user would,
			// after it had time to try and fail to connect.
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, args...)
			cmd.Env = env
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
			cmd.WaitDelay = 10 * time.Second
			out, _ := cmd.CombinedOutput()
			for _, pw := range []string{natsPW, redisPW, testSecret} {
				if strings.Contains(string(out), pw) {
					t.Errorf("output shows a password:\n%s", out)
				}
			}
			if args[0] == "run" && len(args) == 1 {
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				last := lines[len(lines)-1]
				for _, want := range []string{"NATS not reachable", "NATS_URL", "127.0.0.1", "ZOOMW_START_TIMEOUT", "zw:xxxxx@"} {
					if !strings.Contains(last, want) {
						t.Errorf("last line %q does not say %q", last, want)
					}
				}
				if cmd.ProcessState.ExitCode() != 1 {
					t.Errorf("run: exit %d; want 1", cmd.ProcessState.ExitCode())
				}
			}
		})
	}
}
