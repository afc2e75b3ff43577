package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// binary is the zoom-worker binary the end-to-end tests run as a subprocess.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zoom-worker-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "zoom-worker")
	out, err := exec.Command("go", buildArgs(devBuild, binary)...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build zoom-worker: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// e2e is testenv's stack (a real NATS, a real redis-server and the fake
// Zoom), with helpers to run the zoom-worker binary against it.
type e2e struct {
	t       *testing.T
	stack   *testenv.Stack
	nats    *testenv.NATS
	redis   *testenv.Redis
	fake    *zoomtest.Server
	zoomURL string
	nc      *nats.Conn
	js      jetstream.JetStream

	events *testenv.Events
}

const testSecret = testenv.ClientSecret

func newE2E(t *testing.T, opts zoomtest.Options) *e2e {
	t.Helper()
	st := testenv.Start(t, testenv.Options{Zoom: opts})
	e := &e2e{t: t, stack: st, nats: st.NATS, redis: st.Redis, fake: st.Fake, zoomURL: st.ZoomURL, nc: st.NC, js: st.JS}
	e.events = testenv.RecordEvents(t, e.nc)
	return e
}

// env is the stack's settings with the fast ones (testenv.FastEnv), then extra.
func (e *e2e) env(extra ...string) []string {
	env := append([]string{"PATH=" + os.Getenv("PATH")}, e.stack.Env()...)
	env = append(env, "ZOOMW_HTTP_ADDR=off", "ZOOMW_RATE_LIMIT=0", "ZOOMW_LOG_LEVEL=debug")
	return append(env, extra...)
}

// proc is a zoom-worker subprocess.
type proc struct {
	cmd  *exec.Cmd
	logs *testenv.Buffer
	done chan error
}

// natsOnly is the settings of a client subcommand (submit, dlq) run
// in-process against the stack: NATS_URL and nothing else.
func (e *e2e) natsOnly(k string) string {
	if k == "NATS_URL" {
		return e.nats.URL
	}
	return ""
}

func (e *e2e) startProc(extra ...string) *proc {
	e.t.Helper()
	return e.startCommand("run", "worker started", extra...)
}

// startCommand runs `zoom-worker <command>` and waits for its log to say ready.
func (e *e2e) startCommand(command, ready string, extra ...string) *proc {
	e.t.Helper()
	p := e.spawn(command, extra...)
	// Ready when the worker says so.
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.logs.String(), ready) {
		if time.Now().After(deadline) {
			e.t.Fatalf("zoom-worker did not start within 15s:\n%s", p.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// spawn runs `zoom-worker <command>` with e's environment plus extra, and
// kills it when the test ends (logging its output if the test failed).
func (e *e2e) spawn(command string, extra ...string) *proc {
	e.t.Helper()
	p := &proc{logs: &testenv.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, command)
	p.cmd.Env = e.env(extra...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	e.t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if e.t.Failed() {
			e.t.Logf("zoom-worker logs:\n%s", p.logs.String())
		}
		p.done <- nil
		e.checkNoSecrets(p.logs.String())
	})
	return p
}

// wait waits for the process to exit and returns its exit code (-1 when killed).
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(limit):
		t.Fatalf("zoom-worker did not exit within %s", limit)
	}
	return 0
}

func (e *e2e) checkNoSecrets(logs string) {
	for _, secret := range []string{testSecret, "zak=", "/s/", "Bearer ", "access_token", "start_url"} {
		if strings.Contains(logs, secret) {
			e.t.Errorf("the log contains %q", secret)
		}
	}
}

func (e *e2e) publish(subject, body, msgID string) {
	e.t.Helper()
	testenv.PublishJob(e.t, e.js, subject, body, msgID)
}

func (e *e2e) waitEvent(jobID, subject string, limit time.Duration) *nats.Msg {
	e.t.Helper()
	return e.events.Wait(e.t, jobID, subject, 1, limit)
}

func (e *e2e) storedEvents(subject string) uint64 {
	e.t.Helper()
	return testenv.StreamCount(e.t, e.js, messages.StreamEvents, subject)
}

func meetingJob(id string) string {
	return `{"job_id":"` + id + `","user_id":"james@bond.com","meeting":{"topic":"Crash test ` + id + `","type":2,` +
		`"start_time":"2026-12-05T12:00:00Z","duration":30,"password":"abc123"}}`
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, limit time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		why := check()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after %s", what, why, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
