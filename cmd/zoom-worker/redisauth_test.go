package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// A wrong Redis password: /readyz and the ERROR line say authentication
// failed and name REDIS_URL (they said "redis unreachable", and WRONGPASS
// showed only in a WARN line), never the password.
func TestWrongRedisPasswordIsSaid(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	const right, wrong = "r1ght-Pw", "wr0ng-Pw"
	rdb := redis.NewClient(&redis.Options{Addr: e.redis.Addr})
	if err := rdb.ConfigSet(t.Context(), "requirepass", right).Err(); err != nil {
		t.Fatal(err)
	}
	_ = rdb.Close()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := e.startProc(fmt.Sprintf("ZOOMW_HTTP_ADDR=127.0.0.1:%d", port), "REDIS_URL=redis://:"+wrong+"@"+e.redis.Addr+"/0")
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := httpGet(t, base+"/readyz")
		if code == 503 && strings.Contains(body, "authentication failed") && strings.Contains(body, "REDIS_URL") &&
			strings.Contains(p.logs.String(), `"level":"ERROR","msg":"redis authentication failed (check the user and password in REDIS_URL)`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q; want 503 saying redis authentication failed, naming REDIS_URL; log:\n%s", code, body, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(p.logs.String(), wrong) {
		t.Errorf("the log shows the Redis password")
	}
}
