package main

// README.md is checked against the binary: its settings table is generated
// from Settings, so the docs cannot drift from it, every setting it names
// exists, and its NATS permissions example works. After changing a setting:
//
//	go test ./cmd/zoom-worker -run TestSettingsDoc -update

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

const (
	readmePath          = "../../README.md"
	settingsStartMarker = "<!-- settings -->"
	settingsEndMarker   = "<!-- /settings -->"
)

// updateDocs is -update: rewrite generated docs instead of comparing them.
// Another test file of this package may define the same flag; then both
// read that one.
var updateDocs = boolFlag("update", "rewrite README.md's settings table from Settings")

func boolFlag(name, usage string) func() bool {
	if f := flag.Lookup(name); f != nil {
		return func() bool { b, _ := f.Value.(flag.Getter).Get().(bool); return b }
	}
	p := flag.Bool(name, false, usage)
	return func() bool { return *p }
}

// settingsTable renders Settings as the Markdown table README.md shows.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| variable | flag | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, s := range Settings {
		flagCol := "—"
		if s.flag != "" {
			flagCol = "`--" + s.flag + "`"
		}
		def := "none"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		usage := strings.ReplaceAll(s.usage, "|", `\|`)
		if s.secret {
			usage += " (secret: never logged)"
		}
		b.WriteString("| `" + s.env + "` | " + flagCol + " | " + def + " | " + usage + " |\n")
	}
	return b.String()
}

func TestSettingsDocInREADME(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, settingsStartMarker)
	j := strings.Index(readme, settingsEndMarker)
	if i < 0 || j < i {
		t.Fatalf("README.md: want the settings table between %s and %s", settingsStartMarker, settingsEndMarker)
	}
	got := readme[i+len(settingsStartMarker) : j]
	want := "\n" + settingsTable()
	if got == want {
		return
	}
	if updateDocs() {
		readme = readme[:i+len(settingsStartMarker)] + want + readme[j:]
		if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md: settings table rewritten")
		return
	}
	t.Errorf("README.md's settings table is not what Settings says; run\n"+
		"\tgo test ./cmd/zoom-worker -run TestSettingsDoc -update\ngot:\n%s\nwant:\n%s", got, want)
}

// TestSettingsNamedInREADMEExist checks every setting-like name in README.md
// (NATS_..., REDIS_..., ZOOM_..., ZOOMW_...) outside the generated table:
// the prose must not mention a setting the binary does not know.
func TestSettingsNamedInREADMEExist(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if i, j := strings.Index(readme, settingsStartMarker), strings.Index(readme, settingsEndMarker); i >= 0 && j > i {
		readme = readme[:i] + readme[j:]
	}
	notSettings := map[string]bool{ // stream names share the prefix
		messages.StreamJobs: true, messages.StreamEvents: true, messages.StreamDeadLetters: true,
		readside.WebhookStream:      true,
		"ZOOMW_CONSOLE_SCREENSHOTS": true, // read by the console's browser test, not the binary
	}
	seen := map[string]bool{}
	for _, name := range regexp.MustCompile(`\b(?:NATS|REDIS|ZOOMW?)_[A-Z0-9_]*[A-Z0-9]\b`).FindAllString(readme, -1) {
		if notSettings[name] || seen[name] {
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			if _, ok := settingByEnv(name); !ok {
				t.Errorf("README.md names %s, which is not a setting the binary knows", name)
			}
		})
	}
	if len(seen) < 5 {
		t.Errorf("README.md names only %d settings outside the table; the check found too little to be meaningful", len(seen))
	}
}

// readmeNATSConfig is the nats-server configuration README.md shows under
// <!-- nats-permissions -->, exactly.
func readmeNATSConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "<!-- nats-permissions -->\n```\n")
	conf, _, ok2 := strings.Cut(after, "\n```")
	if !ok || !ok2 {
		t.Fatal("README.md: want the NATS permissions example in a ``` block after <!-- nats-permissions -->")
	}
	return conf
}

// TestREADMENATSPermissionsWork starts a real nats-server with README's
// permissions example and runs, each as its README user: a worker with its
// read service and webhook receiver; a publisher that submits a job and
// waits for its event, asks the read service and discovers it; an operator
// running dlq and the console. Nothing may meet a permission error.
func TestREADMENATSPermissionsWork(t *testing.T) {
	conf := readmeNATSConfig(t)
	const storeLine = "jetstream { store_dir: /var/lib/nats }"
	if !strings.Contains(conf, storeLine) {
		t.Fatalf("README's NATS config no longer has %q; update this test", storeLine)
	}
	dir := t.TempDir()
	conf = strings.Replace(conf, storeLine, "jetstream { store_dir: "+strconv.Quote(filepath.Join(dir, "js"))+" }", 1)
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{"publisher": "pub-pw-1", "zoom-worker": "worker-pw-2", "operator": "op-pw-3"}
	t.Setenv("PUBLISHER_PASSWORD", pw["publisher"])
	t.Setenv("WORKER_PASSWORD", pw["zoom-worker"])
	t.Setenv("OPERATOR_PASSWORD", pw["operator"])
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats-server rejects README's config: %v", err)
	}
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", server.RANDOM_PORT, true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(ns.Shutdown)
	urlFor := func(user string) string {
		return fmt.Sprintf("nats://%s:%s@%s", user, pw[user], strings.TrimPrefix(ns.ClientURL(), "nats://"))
	}

	e := newE2E(t, zoomtest.Options{})
	hookAddr := freeAddr(t)
	const hookSecret = "webhook-secret-token"
	p := e.startProc("NATS_URL="+urlFor("zoom-worker"), "ZOOMW_WEBHOOK_ADDR="+hookAddr,
		"ZOOM_WEBHOOK_SECRET_TOKEN="+hookSecret)

	logs := p.logs.String // read at the end
	// The publisher: submit --wait, the read service, discovery.
	var mu sync.Mutex
	var clientErrs []string
	pub, err := nats.Connect(urlFor("publisher"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		mu.Lock()
		defer mu.Unlock()
		clientErrs = append(clientErrs, err.Error())
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	envOf := func(user string) func(string) string {
		return func(k string) string {
			if k == "NATS_URL" {
				return urlFor(user)
			}
			return ""
		}
	}
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"submit", "meeting", "--job-id", "perm-1", "--user", "james@bond.com", "--topic", "t",
		"--start", "2026-12-05T12:00:00Z", "--duration", "30", "--wait"}, envOf("publisher"), &out, &errOut); code != 0 {
		t.Fatalf("submit --wait as publisher: exit %d, %s %s", code, out.String(), errOut.String())
	}
	resp, err := pub.Request("zoom.svc.job.status", []byte(`{"job_id":"perm-1"}`), 10*time.Second)
	if err != nil || !strings.Contains(string(resp.Data), `"state":"succeeded"`) {
		t.Errorf("zoom.svc.job.status as publisher: %v %v; want succeeded", resp, err)
	}
	if resp, err := pub.Request("$SRV.PING.zoom-worker", nil, 10*time.Second); err != nil {
		t.Errorf("$SRV.PING as publisher: %v", err)
	} else if !strings.Contains(string(resp.Data), "zoom-worker") {
		t.Errorf("$SRV.PING answer %s", resp.Data)
	}

	// A signed webhook is stored (the receiver publishes to zoom.webhooks.>).
	body := []byte(`{"event":"meeting.deleted","event_ts":1,"payload":{"account_id":"acct","object":{"id":85746065432}}}`)
	ts := time.Now().Unix()
	req, _ := http.NewRequest("POST", "http://"+hookAddr+"/zoom/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-zm-request-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("x-zm-signature", zoomtest.SignWebhook(hookSecret, ts, body))
	hresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hresp.Body.Close()
	if hresp.StatusCode != 200 {
		t.Errorf("webhook: %d; want 200 (stored)", hresp.StatusCode)
	}

	// The operator: dlq list.
	out.Reset()
	errOut.Reset()
	if code := run(t.Context(), []string{"dlq", "list"}, envOf("operator"), &out, &errOut); code != 0 {
		t.Errorf("dlq list as operator: exit %d, %s %s", code, out.String(), errOut.String())
	}

	// The operator's console: its pages read streams, dead letters, events
	// and the workers' $SRV.STATS.
	con, consoleURL := e.serveConsole("NATS_URL=" + urlFor("operator"))
	for _, page := range []string{"/", "/dlq", "/waiting", "/jobs?job_id=perm-1"} {
		if code, body := httpGet(t, consoleURL+page); code != 200 {
			t.Errorf("console %s as operator: %d %.300s", page, code, body)
		}
	}

	time.Sleep(2 * time.Second) // let late permission errors (async) arrive
	all := logs() + con.logs.String()

	mu.Lock()
	defer mu.Unlock()
	for _, text := range append(clientErrs, all, errOut.String()) {
		if strings.Contains(strings.ToLower(text), "permission") {
			t.Errorf("a permission error with README's config:\n%s", text)
		}
	}
}
