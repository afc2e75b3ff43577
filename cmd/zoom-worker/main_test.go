package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

func TestBadSettingsExit2NamingTheSetting(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"concurrency not a number", map[string]string{"ZOOMW_CONCURRENCY": "many"}, nil, "ZOOMW_CONCURRENCY"},
		{"negative rate limit", map[string]string{"ZOOMW_RATE_LIMIT": "-1"}, nil, "ZOOMW_RATE_LIMIT"},
		{"bad NATS URL", map[string]string{"NATS_URL": "http://x"}, nil, "NATS_URL"},
		{"bad Redis URL", map[string]string{"REDIS_URL": "mysql://x"}, nil, "REDIS_URL"},
		{"bad duration", map[string]string{"ZOOMW_ACK_WAIT": "soon"}, nil, "ZOOMW_ACK_WAIT"},
		{"bad flag value", nil, []string{"--concurrency", "0"}, "--concurrency"},
		{"no Zoom credentials", map[string]string{}, nil, "ZOOM_ACCOUNT_ID"},
		{"half the OAuth settings", map[string]string{"ZOOM_ACCOUNT_ID": "a"}, nil, "ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET"},
		{"daily limit action", map[string]string{"ZOOMW_DAILY_LIMIT": "ignore"}, nil, "ZOOMW_DAILY_LIMIT"},
		{"NATS URL password with a bad scheme", map[string]string{"NATS_URL": "http://u:hunter2@x:4222"}, nil, "NATS_URL"},
		{"NATS URL password that does not parse", map[string]string{"NATS_URL": "nats://u:hunter2%zz@x,nats://v:hunter2@y"}, nil, "NATS_URL"},
		{"secret is not echoed", map[string]string{"REDIS_URL": "redis://:hunter2@[::1"}, nil, "REDIS_URL"},
		{"Sentinel URL without master", map[string]string{"REDIS_URL": "redis+sentinel://:hunter2@h1:26379,h2:26379"}, nil, "REDIS_URL"},
		{"Cluster URL with a database", map[string]string{"REDIS_URL": "redis+cluster://:hunter2@h1:7000/2"}, nil, "REDIS_URL"},
		{"prefix with a hash tag", map[string]string{"ZOOMW_REDIS_PREFIX": "zw{x}"}, nil, "ZOOMW_REDIS_PREFIX"},
		{"unknown Zoom plan", map[string]string{"ZOOMW_ZOOM_PLAN": "gold"}, nil, "ZOOMW_ZOOM_PLAN"},
		{"bad wait replicas", map[string]string{"ZOOMW_REDIS_WAIT_REPLICAS": "-1"}, nil, "ZOOMW_REDIS_WAIT_REPLICAS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			code := run(t.Context(), append([]string{"run"}, tt.args...), getenv, &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit code = %d; want 2 (stderr %q)", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, tt.want) {
				t.Errorf("last line %q does not name %s", last, tt.want)
			}
			if strings.Contains(stderr.String(), "hunter2") {
				t.Errorf("stderr echoes a secret: %q", stderr.String())
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"version", []string{"version"}, 0, "zoom-worker"},
		{"help", []string{"--help"}, 0, "zoom-worker run"},
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"launch"}, 2, "unknown command"},
		{"run --help", []string{"run", "--help"}, 0, "ZOOMW_CONCURRENCY"},
		{"dlq --help", []string{"dlq", "--help"}, 0, "replay"},
		{"submit --help", []string{"submit", "--help"}, 0, "--wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(t.Context(), tt.args, func(string) string { return "" }, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, output %q; want exit %d and %q", code, out.String(), tt.code, tt.want)
			}
		})
	}
}

func TestSIGTERMFinishesAndExits0(t *testing.T) {
	e := newE2E(t, zoomtest.Options{Latency: 200 * time.Millisecond})
	p := e.startProc()
	for i := range 10 {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("t-%d", i)), "")
	}
	time.Sleep(100 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d; want 0", code)
	}
	// Whatever was not finished was handed back: a second worker ends it.
	e.startProc()
	for i := range 10 {
		e.waitEvent(fmt.Sprintf("t-%d", i), messages.SubjectMeetingCreated, 20*time.Second)
	}
	if got := e.fake.Stats().MeetingsCreated; got != 10 {
		t.Errorf("meetings created = %d; want 10", got)
	}
}

func meetingJob(id string) string {
	return `{"job_id":"` + id + `","user_id":"james@bond.com","meeting":{"topic":"Crash test ` + id + `","type":2,` +
		`"start_time":"2026-12-05T12:00:00Z","duration":30,"password":"abc123"}}`
}
