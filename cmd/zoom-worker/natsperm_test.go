package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

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
