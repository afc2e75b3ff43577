//go:build benchsmoke

package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the bench binary: the bench
// re-executes itself for the worker processes.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(childMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestSmoke runs every scenario with tiny numbers:
//
//	go test -tags benchsmoke -run Smoke ./bench
func TestSmoke(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not in PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errs strings.Builder
	code := run(ctx, []string{"-n", "300", "-latency", "50ms", "-rate-jobs", "25", "-mem-jobs", "50",
		"-mem-latency", "500ms", "-timeout", "30s"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s\nstdout:\n%s", code, errs.String(), out.String())
	}
	for _, sc := range allScenarios {
		if !strings.Contains(out.String(), "| "+sc+" |") {
			t.Errorf("no row for %s:\n%s", sc, out.String())
		}
	}
	if strings.Contains(out.String(), "ERROR") {
		t.Errorf("a scenario failed:\n%s", out.String())
	}
}
