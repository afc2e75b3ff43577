package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
)

// startWaitEnv is what `zoom-worker run` needs to reach its NATS connect,
// with NATS_URL on a port nothing listens on.
func startWaitEnv(t *testing.T, startTimeout string) []string {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + os.Getenv("PATH"), fmt.Sprintf("NATS_URL=nats://127.0.0.1:%d", port),
		"REDIS_URL=redis://127.0.0.1:1/0", "ZOOM_ACCOUNT_ID=acct", "ZOOM_CLIENT_ID=client", "ZOOM_CLIENT_SECRET=" + testSecret,
		"ZOOMW_HTTP_ADDR=off", "ZOOMW_START_TIMEOUT=" + startTimeout}
}

// runUntil runs `zoom-worker run` with env, calls during (if any) while it
// runs, and waits for it to end; limit only detects a hang.
func runUntil(t *testing.T, env []string, during func(*os.Process), limit time.Duration) (int, string) {
	cmd := exec.Command(binary, "run")
	cmd.Env = env
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if during != nil {
		during(cmd.Process)
	}
	select {
	case <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("zoom-worker run did not stop within %s:\n%s", limit, out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// A short ZOOMW_START_TIMEOUT with NATS unreachable: exit 1 on one line
// saying so (the first-connection wait no longer adds 5 s of its own; the
// bound is only a hang detector).
func TestShortStartTimeoutWithNATSDown(t *testing.T) {
	code, out := runUntil(t, startWaitEnv(t, "1s"), nil, 21*time.Second)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.Contains(last, "NATS not reachable within 1s") || !strings.Contains(last, "NATS_URL") {
		t.Errorf("exit %d, last line %q; want 1 and NATS not reachable within 1s naming NATS_URL", code, last)
	}
}

// SIGINT while the worker waits for its first NATS connection stops it
// cleanly (exit 0), as it would after the start; it was not watched during
// that wait and ended in "context canceled", exit 1.
func TestSignalWhileWaitingForNATS(t *testing.T) {
	code, out := runUntil(t, startWaitEnv(t, "2m"), func(p *os.Process) {
		// Give it time to reach main and its signal handler; the 5 s wait
		// for the first connection starts right after.
		time.Sleep(time.Second)
		if err := p.Signal(syscall.SIGINT); err != nil {
			t.Error(err)
		}
	}, 30*time.Second)
	if code != 0 {
		t.Errorf("exit %d after SIGINT during the start; want 0. Output:\n%s", code, out)
	}
}
