//go:build dev

package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
)

// TestDevServesTheConsole: `make run` (zoom-worker dev) starts the console too.
func TestDevServesTheConsole(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	startDevProc(t, "ZOOMW_CONSOLE_ADDR="+addr, "ZOOMW_HTTP_ADDR=off")
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := httpGet(t, "http://"+addr+"/")
		if code == 200 && strings.Contains(body, "ZOOM_JOBS") && strings.Contains(body, "Workers alive") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET / on the dev console: %d\n%s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
