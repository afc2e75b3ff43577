package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
)

// TestDevRunsEverythingInOneProcess runs `zoom-worker dev` as a user would
// on a machine with nothing installed (no Redis answers) and sends it the
// contract's example job.
func TestDevRunsEverythingInOneProcess(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(binary, "dev")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ZOOMW_DEV_NATS_ADDR=" + addr,
		"REDIS_URL=redis://127.0.0.1:1/0", "ZOOMW_HTTP_ADDR=off"}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "worker started") {
		if time.Now().After(deadline) {
			t.Fatalf("dev did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "in-process store") {
		t.Errorf("dev does not say it uses an in-process store:\n%s", out.String())
	}

	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	events := testenv.RecordEvents(t, nc)
	js, _ := jetstream.New(nc)
	testenv.PublishJob(t, js, messages.SubjectMeetingCreate, `{"job_id": "m-7", "user_id": "james@bond.com",
 "meeting": {"topic": "Demo Meeting 1", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 45,
             "timezone": "America/Los_Angeles", "password": "Hey123", "agenda": "This is the meeting description"}}`, "")
	msg := events.Wait(t, "m-7", messages.SubjectMeetingCreated, 1, 20*time.Second)
	if !bytes.Contains(msg.Data, []byte(`"join_url":"https://zoom.us/j/`)) {
		t.Errorf("meeting.created = %s; want a join URL", msg.Data)
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dev exited with %v after SIGTERM; want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dev did not stop after SIGTERM")
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
