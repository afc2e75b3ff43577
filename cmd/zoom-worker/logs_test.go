package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestEveryLineIsJSONWhileRedisIsDown: with Redis not answering, run's
// output (the worker's lines, go-redis's own, the exit line) is one JSON
// object per line; in text mode one logfmt line each.
func TestEveryLineIsJSONWhileRedisIsDown(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			p := e.spawn("run", fmt.Sprintf("REDIS_URL=redis://127.0.0.1:%d/0", port), "ZOOMW_LOG_FORMAT="+format)
			// Long enough for the health check and go-redis to fail dials
			// several times.
			deadline := time.Now().Add(30 * time.Second)
			for strings.Count(p.logs.String(), "\n") < 8 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(2 * time.Second)
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			p.wait(t, 30*time.Second)
			out := strings.TrimRight(p.logs.String(), "\n")
			lines := strings.Split(out, "\n")
			if len(lines) < 3 {
				t.Fatalf("only %d lines:\n%s", len(lines), out)
			}
			for i, line := range lines {
				switch format {
				case "json":
					var obj map[string]any
					if err := json.Unmarshal([]byte(line), &obj); err != nil {
						t.Errorf("line %d is not one JSON object: %q", i+1, line)
					} else if _, ok := obj["error"]; ok {
						t.Errorf("line %d has key \"error\"; the log's key for errors is \"err\": %q", i+1, line)
					}
				case "text":
					if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") {
						t.Errorf("line %d is not a text log line: %q", i+1, line)
					}
				}
			}
		})
	}
}

// TestLogKeyForErrorsIsErr keeps one key for errors in every log line of
// every package: "err" (a query over logs then finds them all).
func TestLogKeyForErrorsIsErr(t *testing.T) {
	// [^()]* also spans the lines of a call wrapped before its "error" key.
	call := regexp.MustCompile(`\.(Debug|Info|Warn|Error|Log)(Context)?\([^()]*?"error",`)
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, at := range call.FindAllIndex(b, -1) {
			line := 1 + strings.Count(string(b[:at[0]]), "\n")
			t.Errorf("%s:%d logs an error under the key \"error\"; use \"err\": %s", path, line, b[at[0]:at[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
