package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

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

// newSlowE2E is newE2E for a test that -short skips (make test runs it);
// why says what makes it slow.
func newSlowE2E(t *testing.T, why string, opts zoomtest.Options) *e2e {
	t.Helper()
	if testing.Short() {
		t.Skip(why + "; make test runs it")
	}
	return newE2E(t, opts)
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

// startServing is startProc with the HTTP endpoint (/metrics, /healthz,
// /readyz) on a free port; base is its URL.
func (e *e2e) startServing(extra ...string) (p *proc, base string) {
	e.t.Helper()
	addr := freeAddr(e.t)
	return e.startProc(append([]string{"ZOOMW_HTTP_ADDR=" + addr}, extra...)...), "http://" + addr
}

// serveConsole runs `zoom-worker console` on a free port; base is its URL.
func (e *e2e) serveConsole(extra ...string) (p *proc, base string) {
	e.t.Helper()
	addr := freeAddr(e.t)
	return e.startCommand("console", "operator console listening", append([]string{"ZOOMW_CONSOLE_ADDR=" + addr}, extra...)...), "http://" + addr
}

// startCommand runs `zoom-worker <command>` and waits for its log to say ready.
func (e *e2e) startCommand(command, ready string, extra ...string) *proc {
	e.t.Helper()
	p := e.spawn(command, extra...)
	p.waitLog(e.t, ready, 15*time.Second)
	return p
}

// spawn runs `zoom-worker <command>` with e's environment plus extra, and
// kills it when the test ends (logging its output if the test failed); its
// log must not show a secret.
func (e *e2e) spawn(command string, extra ...string) *proc {
	e.t.Helper()
	var p *proc
	e.t.Cleanup(func() { // after startBackground's kill
		if p != nil {
			e.checkNoSecrets(p.logs.String())
		}
	})
	p = startBinary(e.t, e.env(extra...), command)
	return p
}

// startBinary runs `zoom-worker args...` with env only (startBackground).
func startBinary(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	return startBackground(t, cmd)
}

// startBackground starts cmd with its output in p.logs, and kills it (its
// process group, if it has one) when the test ends, logging its output if
// the test failed.
func startBackground(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, logs: &testenv.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		} else {
			_ = cmd.Process.Kill()
		}
		select {
		case err := <-p.done:
			p.done <- err
		case <-time.After(10 * time.Second):
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Args[0]), p.logs.String())
		}
	})
	return p
}

// waitLog waits until the process's output says text; the test fails if
// the process exits before, or limit passes.
func (p *proc) waitLog(t *testing.T, text string, limit time.Duration) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s saying %q", filepath.Base(p.cmd.Args[0]), text), limit, func() string {
		if strings.Contains(p.logs.String(), text) {
			return ""
		}
		select {
		case err := <-p.done:
			p.done <- err
			if !strings.Contains(p.logs.String(), text) {
				t.Fatalf("%s exited (%v) before its output said %q", filepath.Base(p.cmd.Args[0]), err, text)
			}
			return ""
		default:
			return "not said"
		}
	})
}

// term stops the process as an orchestrator does (SIGTERM) and returns its
// exit code, waiting up to limit.
func (p *proc) term(t *testing.T, limit time.Duration) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.wait(t, limit)
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

// meetingJob is the contract's create-meeting job with an id of its own.
var meetingJob = testenv.MeetingJob

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

// waitFor calls check until it returns "" (done); else what it returns says
// why not yet, and the test fails with it after limit.
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

// waitReadyz waits until GET base/readyz answers code with a body that says
// each of says, and returns that body.
func waitReadyz(t *testing.T, base string, code int, limit time.Duration, says ...string) string {
	t.Helper()
	var body string
	waitFor(t, fmt.Sprintf("/readyz %d saying %q", code, says), limit, func() string {
		got, b := httpGet(t, base+"/readyz")
		ok := got == code
		for _, s := range says {
			ok = ok && strings.Contains(b, s)
		}
		if body = b; !ok {
			return fmt.Sprintf("%d %q", got, b)
		}
		return ""
	})
	return body
}

// jobEvent publishes a job to the NATS at url (not the stack's) and returns
// the event subject the job jobID causes there.
func jobEvent(t *testing.T, url, subject, body, jobID, event string, limit time.Duration) *nats.Msg {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	events := testenv.RecordEvents(t, nc)
	js, _ := jetstream.New(nc)
	testenv.PublishJob(t, js, subject, body, "")
	return events.Wait(t, jobID, event, 1, limit)
}

// redisClient is a client of r, closed when the test ends.
func redisClient(t *testing.T, r *testenv.Redis) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// freeAddr is a loopback address on a port nothing listens on (yet).
func freeAddr(t testing.TB) string {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}
