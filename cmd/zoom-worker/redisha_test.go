package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestRunOnSentinelAndCluster runs the binary with REDIS_URL naming a real
// Sentinel set-up and a real Redis Cluster: jobs run, and their records are
// where the key layout says (hash-tagged in the cluster).
func TestRunOnSentinelAndCluster(t *testing.T) {
	for _, topo := range []string{"sentinel", "cluster"} {
		t.Run(topo, func(t *testing.T) {
			var url, jobKey string
			if topo == "sentinel" {
				url, jobKey = testenv.StartRedisSentinel(t, 1, 1).URL, "zw:default:job:s-0"
			} else {
				url, jobKey = testenv.StartRedisCluster(t, 3).URL, "zw:default:job:{s-0}"
			}
			e := newE2E(t, zoomtest.Options{})
			e.startProc("REDIS_URL=" + url)
			for i := range 3 {
				e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("s-%d", i)), "")
			}
			for i := range 3 {
				e.waitEvent(fmt.Sprintf("s-%d", i), messages.SubjectMeetingCreated, 20*time.Second)
			}
			rdb, err := redisstore.NewClient(url, redisstore.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if state, err := rdb.HGet(ctx, jobKey, "state").Result(); err != nil || state != "succeeded" {
				t.Errorf("HGET %s state = %q, %v; want succeeded", jobKey, state, err)
			}
		})
	}
}
