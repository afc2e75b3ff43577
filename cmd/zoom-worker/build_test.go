package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildArgs are the arguments of `go build` for the binary, with or without
// the dev tag.
func buildArgs(dev bool, out string) []string {
	args := []string{"build"}
	if dev {
		args = append(args, "-tags", "dev")
	}
	return append(args, "-o", out, ".")
}

// devOnlyPackages must never be in the production binary: they exist for
// `zoom-worker dev` and the tests.
var devOnlyPackages = []string{
	"github.com/nats-io/nats-server/",
	"github.com/alicebob/miniredis/",
	"github.com/zoomworker/zoom-worker/zoom/zoomtest",
}

func deps(t *testing.T, tags ...string) []string {
	t.Helper()
	args := append([]string{"list"}, tags...)
	out, err := exec.Command("go", append(args, "-deps", ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

func devOnly(pkgs []string) []string {
	var found []string
	for _, p := range pkgs {
		for _, d := range devOnlyPackages {
			if strings.HasPrefix(p+"/", d) || p == d {
				found = append(found, p)
			}
		}
	}
	return found
}

// TestProductionBuildHasNoDevParts keeps `make build` and deploy/Dockerfile
// (both build ./cmd/zoom-worker without tags) free of the embedded NATS
// server, the in-process Redis and the Zoom simulator.
func TestProductionBuildHasNoDevParts(t *testing.T) {
	if found := devOnly(deps(t)); len(found) > 0 {
		t.Errorf("the production build imports dev-only packages: %s", strings.Join(found, ", "))
	}
	// The check can fail: the dev build has all three.
	found := strings.Join(devOnly(deps(t, "-tags", "dev")), " ")
	for _, d := range devOnlyPackages {
		if !strings.Contains(found, d) {
			t.Errorf("the dev build does not import %s; is the list above stale?", d)
		}
	}
}

// TestOtherBuild builds the binary the way this test binary was not built,
// so that both builds are checked by every run: a dev test run checks that
// the production binary refuses `dev` with a line saying how to get it; a
// plain run checks that -tags dev still builds.
func TestOtherBuild(t *testing.T) {
	other := filepath.Join(t.TempDir(), "zoom-worker")
	if out, err := exec.Command("go", buildArgs(!devBuild, other)...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(buildArgs(!devBuild, other), " "), err, out)
	}
	plain := binary
	if devBuild {
		plain = other
	}
	out, err := exec.Command(plain, "dev").CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "make run") || !strings.Contains(lines[0], "-tags dev") {
		t.Errorf("production binary `dev`: exit %d, output %q; want exit 2 and one line naming make run and -tags dev", code, out)
	}
}
