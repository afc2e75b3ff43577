package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// chromiumHint is what to install when no browser is found.
const chromiumHint = "the console's browser tests need Chromium: install Debian's package with " +
	"`apt-get install chromium` (make test runs scripts/ensure-chromium, which does), or set CHROMIUM to a Chrome/Chromium binary"

// findChromium returns the browser binary the tests drive.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal(chromiumHint)
	return ""
}

// screenshotDir is where the browser tests write a screenshot of each page:
// $ZOOMW_CONSOLE_SCREENSHOTS, else a directory under the system's temp dir.
// (README's docs/console/*.png come from ZOOMW_CONSOLE_SCREENSHOTS=docs/console.)
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("ZOOMW_CONSOLE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "zoom-worker-console-screenshots")
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // relative to the repository
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts a headless Chromium with the flags this kind of machine
// needs (no sandbox as root, no background connections) and a fresh profile.
func browser(t *testing.T, width, height int) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findChromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// The first run starts the browser, which lives as long as that run's
	// context: so no timeout on it; the steps get theirs.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start %s: %v (%s)", findChromium(t), err, chromiumHint)
	}
	return ctx, func() { cancelCtx(); cancelAlloc() }
}

// shoot saves a full-page screenshot of the current page as name.png.
func shoot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// text reads the text of the element sel selects.
func text[S chromedp.Selectable](ctx context.Context, t *testing.T, sel S) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("read %v: %v", sel, err)
	}
	return s
}

// TestConsoleInABrowser drives the console in a real headless Chromium
// beside a running worker: log in with the token, read the overview, find a
// job by id, replay two dead letters and watch them succeed, look at what
// waits. It writes a screenshot of each page.
func TestConsoleInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	const token = "console-e2e-token-0123456789"
	findChromium(t) // before any server starts: a missing browser is said first
	// Each host may create 3 meetings a day here, so one host's jobs wait.
	e := newE2E(t, zoomtest.Options{DailyMeetingLimit: 3})
	e.fake.AddUser("grace@example.com", "Grace", "Hopper", 1)
	e.startProc("ZOOMW_INSTANCE_ID=worker-e2e")
	e.publish(messages.SubjectMeetingCreate, meetingJob("m-ok"), "")
	for i := range 12 {
		e.publish(messages.SubjectUserCreate, fmt.Sprintf(`{"job_id":"u-%d","action":"custCreate","user_info":{"email":"user%d@example.com","type":1,"first_name":"U","last_name":"%d"}}`, i, i, i), "")
	}
	for i := range 5 {
		e.publish(messages.SubjectMeetingCreate, fmt.Sprintf(`{"job_id":"g-%d","user_id":"grace@example.com","meeting":{"topic":"Review %d","type":2,"start_time":"2026-12-05T12:00:00Z","duration":30}}`, i, i), "")
	}
	e.waitEvent("m-ok", messages.SubjectMeetingCreated, 60*time.Second)
	// Grace's five jobs run side by side, so which three Zoom takes is not
	// fixed (g-4 need not be among the deferred): wait for any two.
	waitFor(t, "2 of grace's jobs g-0..g-4 deferred", 60*time.Second, func() string {
		var deferred []string
		for i := range 5 {
			id := fmt.Sprintf("g-%d", i)
			for _, m := range e.events.For(id) {
				if m.Subject == messages.SubjectJobDeferred {
					deferred = append(deferred, id)
					break
				}
			}
		}
		if len(deferred) < 2 {
			return fmt.Sprintf("only %v", deferred)
		}
		return ""
	})
	// Two jobs for a host Zoom does not know yet: they fail for good.
	for _, id := range []string{"m-late-1", "m-late-2"} {
		e.publish(messages.SubjectMeetingCreate, fmt.Sprintf(`{"job_id":%q,"user_id":"ada@example.com","meeting":{"topic":"Standup","type":2,"start_time":"2026-12-05T12:00:00Z","duration":15}}`, id), "")
		e.waitEvent(id, messages.SubjectJobFailed, 60*time.Second)
	}

	con, base := e.serveConsole("ZOOMW_CONSOLE_TOKEN="+token, "ZOOMW_LOG_LEVEL=info")
	dir := screenshotDir(t)
	t.Logf("screenshots in %s", dir)

	ctx, cancel := browser(t, 1100, 900)
	defer cancel()
	start := time.Now()
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	// Every page wants the token: the browser lands on the login form.
	run("log in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		shoot(dir, "login"),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.SendKeys(chromedp.ID("name"), "ada"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("stream-ZOOM_JOBS")),
	)
	// The overview: the streams, the consumer, the worker, the chart.
	run("overview", shoot(dir, "overview"))
	got := text(ctx, t, chromedp.CSS("main"))
	for _, want := range []string{"ZOOM_EVENTS", "ZOOM_DLQ", "ack pending", "Workers alive", "worker-e2e", "default"} {
		if !strings.Contains(got, want) {
			t.Errorf("overview lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "No worker answered") {
		t.Error("the overview shows no worker, with one running")
	}

	// Find a job by id.
	run("find a job",
		chromedp.Navigate(base+"/jobs"),
		chromedp.SendKeys(chromedp.ID("q"), "m-ok"),
		chromedp.Click(chromedp.ID("find")),
		chromedp.WaitVisible(chromedp.ID("job-m-ok")),
		shoot(dir, "find-a-job"),
	)
	if got := text(ctx, t, chromedp.ID("job-m-ok")); !strings.Contains(got, "succeeded") || !strings.Contains(got, messages.SubjectMeetingCreated) {
		t.Errorf("job m-ok: %s", got)
	}

	// The host exists now: replay both dead letters and watch them succeed.
	e.fake.AddUser("ada@example.com", "Ada", "Lovelace", 1)
	run("dead letters",
		chromedp.Navigate(base+"/dlq"),
		chromedp.WaitVisible(chromedp.CSS(`li.dead-letter`)),
		shoot(dir, "dead-letters"),
		chromedp.Click(chromedp.CSS(`li.dead-letter:nth-of-type(1) input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`li.dead-letter:nth-of-type(2) input[type=checkbox]`)),
		chromedp.Click(chromedp.ID("replay-selected")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		shoot(dir, "confirm-replay"),
	)
	if got := text(ctx, t, chromedp.ID("confirm-count")); got != "2" {
		t.Fatalf("the confirmation counts %q dead letters, want 2", got)
	}
	run("replay",
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("summary")),
	)
	// The summary refreshes itself every 2s until every job has ended.
	waitFor(t, "the replayed jobs succeed", 20*time.Second, func() string {
		if got := text(ctx, t, chromedp.ID("progress")); !strings.HasPrefix(got, "2 succeeded") {
			return fmt.Sprintf("%q", got)
		}
		return ""
	})
	run("summary shot", shoot(dir, "replay-summary"))
	for _, id := range []string{"m-late-1", "m-late-2"} {
		e.waitEvent(id, messages.SubjectMeetingCreated, 10*time.Second)
	}

	run("waiting",
		chromedp.Navigate(base+"/waiting"),
		chromedp.WaitVisible(chromedp.ID("hosts")),
		shoot(dir, "waiting"),
	)
	if got := text(ctx, t, chromedp.ID("hosts")); !strings.Contains(got, "grace@example.com") || !strings.Contains(got, "2") {
		t.Errorf("the waiting page does not show grace's 2 deferred jobs:\n%s", got)
	}
	// The same overview on a phone's width.
	run("phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("stream-ZOOM_JOBS")),
		shoot(dir, "overview-phone"),
	)
	t.Logf("browser steps took %s", time.Since(start).Round(time.Millisecond))

	logs := con.logs.String()
	if !strings.Contains(logs, `"msg":"console: replay dead letter"`) || !strings.Contains(logs, `"who":"ada"`) {
		t.Errorf("the console did not log who replayed what:\n%s", logs)
	}
	if strings.Contains(logs, token) {
		t.Error("the console's log holds its token")
	}
}

// TestConsoleBadSettings: no token, no listening beyond loopback; a token
// must be long enough to be a secret (and is never echoed).
func TestConsoleBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"open address without a token", map[string]string{"ZOOMW_CONSOLE_ADDR": "0.0.0.0:8080"}, []string{"ZOOMW_CONSOLE_ADDR", "ZOOMW_CONSOLE_TOKEN", "loopback"}},
		{"every interface without a token", map[string]string{"ZOOMW_CONSOLE_ADDR": ":8080"}, []string{"ZOOMW_CONSOLE_ADDR"}},
		{"short token", map[string]string{"ZOOMW_CONSOLE_ADDR": ":8080", "ZOOMW_CONSOLE_TOKEN": "abc123"}, []string{"ZOOMW_CONSOLE_TOKEN", "too short"}},
		{"read-only not a boolean", map[string]string{"ZOOMW_CONSOLE_READ_ONLY": "maybe"}, []string{"ZOOMW_CONSOLE_READ_ONLY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			tc.env["NATS_URL"] = "nats://127.0.0.1:1"
			code := run(context.Background(), []string{"console"}, func(k string) string { return tc.env[k] }, &out, &errOut)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q lacks %q", errOut.String(), w)
				}
			}
			if tok := tc.env["ZOOMW_CONSOLE_TOKEN"]; tok != "" && strings.Contains(errOut.String(), tok) {
				t.Error("the error echoes the token")
			}
		})
	}
}

// TestConsoleShowsRejectedCredentials: the workers' credentials gate, as
// the console shows it, closes and opens with Zoom's answer.
func TestConsoleShowsRejectedCredentials(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	e.fake.RejectCredentials(true)
	e.startProc("ZOOMW_INSTANCE_ID=worker-gate")
	e.publish(messages.SubjectMeetingCreate, meetingJob("m-gate"), "")
	_, base := e.serveConsole()
	waitPage := func(path, want string) {
		t.Helper()
		waitFor(t, fmt.Sprintf("GET %s saying %q", path, want), 30*time.Second, func() string {
			if code, body := httpGet(t, base+path); code != 200 || !strings.Contains(body, want) {
				return fmt.Sprintf("%d:\n%s", code, body)
			}
			return ""
		})
	}
	waitPage("/waiting", "Zoom rejects its credentials")
	waitPage("/", "Account <strong>default</strong>: Zoom rejects its credentials")
	e.fake.RejectCredentials(false)
	waitPage("/waiting", `id="credentials-ok"`)
	e.waitEvent("m-gate", messages.SubjectMeetingCreated, 30*time.Second)
}
