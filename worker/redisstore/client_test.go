package redisstore_test

import (
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url    string
		topo   redisstore.Topology
		addrs  string
		master string
		db     int
	}{
		{"redis://127.0.0.1:6379/0", redisstore.Single, "127.0.0.1:6379", "", 0},
		{"rediss://:pw@redis.example.com:6380/2", redisstore.Single, "redis.example.com:6380", "", 0},
		{"redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379/mymaster/3?dial_timeout=2s", redisstore.Sentinel, "10.0.0.1:26379,10.0.0.2:26379", "mymaster", 3},
		{"redis+sentinel://s1:26379/mymaster", redisstore.Sentinel, "s1:26379", "mymaster", 0},
		{"redis+cluster://u:p@[::1]:7000,h2:7001", redisstore.Cluster, "[::1]:7000,h2:7001", "", 0},
		{"rediss+cluster://h1:7000/", redisstore.Cluster, "h1:7000", "", 0},
	} {
		u, err := redisstore.ParseURL(tc.url)
		if err != nil {
			t.Errorf("ParseURL(%s): %v", tc.url, err)
			continue
		}
		if u.Topology != tc.topo || strings.Join(u.Addrs, ",") != tc.addrs || u.MasterName != tc.master || u.DB != tc.db {
			t.Errorf("ParseURL(%s) = %+v; want %s %s %q db %d", tc.url, u, tc.topo, tc.addrs, tc.master, tc.db)
		}
		if strings.Contains(u.Redacted(), "s3cret") || strings.Contains(u.Redacted(), ":pw@") {
			t.Errorf("Redacted() = %s; shows the password", u.Redacted())
		}
	}
	for _, bad := range []string{
		"redis+sentinel://:s3cret@h1:26379",              // no master
		"redis+sentinel://:s3cret@h1:26379/m/x",          // bad db
		"redis+cluster://:s3cret@h1:7000/3",              // cluster has db 0 only
		"redis+cluster://:s3cret@h1",                     // no port
		"redis+mesh://:s3cret@h1:1",                      // unknown
		"http://:s3cret@h1:1",                            // not redis
		"redis+cluster://:s3cret@h1:7000?bogus_option=1", // go-redis refuses it
		"redis://:s3cret@h1:6379/0?dial_timeout=forever", // go-redis refuses it
		"redis+sentinel://:s3cret@h1:1/m?pool_size=lots", // go-redis refuses it
		"redis://:s3cret@[::1/0",                         // unparsable
	} {
		_, err := redisstore.ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%s) = nil error; want one", bad)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseURL error %q shows the password", err)
		}
	}
}
