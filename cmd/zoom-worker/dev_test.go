//go:build dev

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
)

// devProc is `zoom-worker dev` run as a user would, on a free NATS port.
type devProc struct {
	*proc
	url string // the embedded NATS
}

func startDevProc(t *testing.T, env ...string) *devProc {
	t.Helper()
	addr := freeAddr(t)
	env = append([]string{"PATH=" + os.Getenv("PATH"), "ZOOMW_DEV_NATS_ADDR=" + addr}, env...)
	d := &devProc{proc: startBinary(t, env, "dev"), url: "nats://" + addr}
	d.waitLog(t, "worker started", 20*time.Second)
	return d
}

// meetingCreated sends the contract's example job and returns its event.
func (d *devProc) meetingCreated(t *testing.T, jobID string) *nats.Msg {
	t.Helper()
	return jobEvent(t, d.url, messages.SubjectMeetingCreate, `{"job_id": "`+jobID+`", "user_id": "james@bond.com",
 "meeting": {"topic": "Demo Meeting 1", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 45,
             "timezone": "America/Los_Angeles", "password": "Hey123", "agenda": "This is the meeting description"}}`,
		jobID, messages.SubjectMeetingCreated, 20*time.Second)
}

// TestDevRunsEverythingInOneProcess runs `zoom-worker dev` as a user would
// on a machine with nothing installed and sends it the contract's example
// job. Its store is in-process and its HTTP endpoint on loopback.
func TestDevRunsEverythingInOneProcess(t *testing.T) {
	d := startDevProc(t)
	if !strings.Contains(d.logs.String(), "in-process store") {
		t.Errorf("dev does not say it uses an in-process store:\n%s", d.logs.String())
	}
	m := regexp.MustCompile(`"msg":"http endpoint listening","addr":"([^"]+)"`).FindStringSubmatch(d.logs.String())
	if m == nil || !strings.HasPrefix(m[1], "127.0.0.1:") {
		t.Errorf("dev's HTTP endpoint: %v; want it on 127.0.0.1", m)
	}
	msg := d.meetingCreated(t, "m-7")
	if !bytes.Contains(msg.Data, []byte(`"join_url":"https://zoom.us/j/`)) {
		t.Errorf("meeting.created = %s; want a join URL", msg.Data)
	}

	_ = d.cmd.Process.Signal(syscall.SIGINT)
	if code := d.wait(t, 20*time.Second); code != 0 {
		t.Errorf("dev exit code %d after SIGINT; want 0", code)
	}
}

// TestDevKeepsOutOfTheUsersRedis: with REDIS_URL set, dev writes only under
// its own prefix, deletes that prefix's keys at start (nothing from an
// earlier run is served) and says so; a worker's keys stay untouched.
func TestDevKeepsOutOfTheUsersRedis(t *testing.T) {
	r := testenv.StartRedis(t)
	rdb := redisClient(t, r)
	ctx := context.Background()
	if err := rdb.Set(ctx, "zw:default:job:users-own", "keep", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "zw-dev:default:job:m-1", "yesterday", 0).Err(); err != nil {
		t.Fatal(err)
	}
	d := startDevProc(t, "REDIS_URL="+r.URL, "ZOOMW_HTTP_ADDR=off")
	if !strings.Contains(d.logs.String(), `"prefix":"zw-dev","keys_deleted":1`) {
		t.Errorf("dev does not say it cleared its prefix zw-dev:\n%s", d.logs.String())
	}
	d.meetingCreated(t, "m-1")
	if v, _ := rdb.Get(ctx, "zw:default:job:users-own").Result(); v != "keep" {
		t.Errorf("the user's key = %q; want it untouched", v)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k != "zw:default:job:users-own" && !strings.HasPrefix(k, "zw-dev:") {
			t.Errorf("dev wrote %q outside its prefix", k)
		}
	}
	if len(keys) < 2 {
		t.Errorf("keys = %v; want dev's own beside the user's", keys)
	}
}

func TestDevSaysWhenItsPortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"ZOOMW_DEV_NATS_ADDR": ln.Addr().String(), "ZOOMW_HTTP_ADDR": "off"}[k]
	}
	code := run(t.Context(), []string{"dev"}, getenv, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "ZOOMW_DEV_NATS_ADDR") {
		t.Errorf("exit %d, stderr %q; want 2 naming ZOOMW_DEV_NATS_ADDR", code, stderr.String())
	}
}

// TestDevRefusesABadConsoleSettingFirst: dev serves the console, so a
// console setting that cannot work stops it before it starts anything, with
// the one plain line every bad setting gets.
func TestDevRefusesABadConsoleSettingFirst(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"ZOOMW_CONSOLE_ADDR":  {"ZOOMW_CONSOLE_ADDR": "0.0.0.0:0"},
		"ZOOMW_CONSOLE_TOKEN": {"ZOOMW_CONSOLE_TOKEN": "short"},
	} {
		env["ZOOMW_DEV_NATS_ADDR"], env["ZOOMW_HTTP_ADDR"] = "127.0.0.1:0", "off"
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"dev"}, func(k string) string { return env[k] }, &stdout, &stderr)
		want := "zoom-worker: bad setting " + name
		if code != 2 || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2, nothing on stdout, one line %q...", name, code, stdout.String(), stderr.String(), want)
		}
	}
}

func TestDevHelpShowsDevFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"dev", "--help"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "--dev-nats-addr string") {
		t.Errorf("dev --help: exit %d, stdout %q; want 0 and the dev flags", code, stdout.String())
	}
}

// TestMakeRunStopsCleanlyOnCtrlC: Ctrl-C (SIGINT to the terminal's process
// group: make, the shell, the binary) ends `make run` with status 0 and no
// "make: *** ... Error".
func TestMakeRunStopsCleanlyOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs make run; make test runs it")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make not found")
	}
	cmd := exec.Command(mk, "-C", "../..", "run")
	cmd.Env = append(os.Environ(), "ZOOMW_DEV_NATS_ADDR="+freeAddr(t), "ZOOMW_HTTP_ADDR="+freeAddr(t), "ZOOMW_CONSOLE_ADDR=127.0.0.1:0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := startBackground(t, cmd)
	p.waitLog(t, "worker started", 2*time.Minute)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	// make itself re-raises the SIGINT it got (a shell then shows ^C and
	// nothing more); what must not appear is make reporting the program
	// failed, and the worker must have stopped gracefully.
	if code := p.wait(t, 30*time.Second); code != 0 && cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("make run after Ctrl-C: %v; want status 0 or make's own interrupt", cmd.ProcessState)
	}
	if out := p.logs.String(); strings.Contains(out, "make: ***") || !strings.Contains(out, "worker stopped") {
		t.Errorf("make run after Ctrl-C: want a graceful stop and no make error:\n%s", out)
	}
}

// TestDevWebhooksFollowTheSimulator: in dev, the simulator's webhooks reach
// dev's receiver, so a meeting edited "in Zoom" (the simulator's portal
// endpoint, as README says) is what zoom.svc.meeting.get answers next.
func TestDevWebhooksFollowTheSimulator(t *testing.T) {
	d := startDevProc(t)
	sim := regexp.MustCompile(`Zoom simulator:\s+(http://\S+)`).FindStringSubmatch(d.logs.String())
	if sim == nil || !strings.Contains(d.logs.String(), "/_sim/meetings/ID") {
		t.Fatalf("dev does not say how to edit a meeting in Zoom:\n%s", d.logs.String())
	}
	var created messages.MeetingCreated
	if err := json.Unmarshal(d.meetingCreated(t, "m-dev-hook").Data, &created); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(created.Meeting.ID, 10)
	req, _ := http.NewRequest(http.MethodPatch, sim[1]+"/_sim/meetings/"+id, strings.NewReader(`{"topic":"Edited in Zoom"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH /_sim/meetings/%s: %d", id, resp.StatusCode)
	}
	nc, err := nats.Connect(d.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	waitFor(t, "meeting.get answers the edited topic", 20*time.Second, func() string {
		m, err := nc.Request("zoom.svc.meeting.get", []byte(`{"meeting_id": `+id+`}`), 5*time.Second)
		if err != nil {
			return err.Error()
		}
		if !strings.Contains(string(m.Data), "Edited in Zoom") {
			return string(m.Data)
		}
		return ""
	})
	if !strings.Contains(d.logs.String(), `"event":"meeting.updated"`) {
		t.Error("no webhook line for meeting.updated in dev's log")
	}
}

// TestDevServesTheConsole: `make run` (zoom-worker dev) starts the console too.
func TestDevServesTheConsole(t *testing.T) {
	addr := freeAddr(t)
	startDevProc(t, "ZOOMW_CONSOLE_ADDR="+addr, "ZOOMW_HTTP_ADDR=off")
	waitFor(t, "GET / on the dev console showing ZOOM_JOBS and the workers", 15*time.Second, func() string {
		code, body := httpGet(t, "http://"+addr+"/")
		if code != 200 || !strings.Contains(body, "ZOOM_JOBS") || !strings.Contains(body, "Workers alive") {
			return fmt.Sprintf("%d %.500s", code, body)
		}
		return ""
	})
}
