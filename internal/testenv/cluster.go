package testenv

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of embedded NATS servers, owned by a test.
type Cluster struct {
	Servers []*server.Server
	opts    []*server.Options
}

// StartCluster starts n embedded servers (n ≥ 3 for R3 streams) routed into
// one JetStream cluster on free ports, and waits for a meta leader.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			tb.Fatal(err)
		}
		ports[i] = p
	}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	c := &Cluster{}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("zw-%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   tb.TempDir(),
			NoLog:      true,
			NoSigs:     true,
			Routes:     routes,
		}
		o.Cluster.Name = "zw"
		o.Cluster.Host = "127.0.0.1"
		o.Cluster.Port = ports[i]
		s, err := server.NewServer(o)
		if err != nil {
			tb.Fatalf("cluster server %d: %v", i+1, err)
		}
		go s.Start()
		c.Servers = append(c.Servers, s)
		c.opts = append(c.opts, o)
	}
	tb.Cleanup(c.Shutdown)
	for _, s := range c.Servers {
		if !s.ReadyForConnections(10 * time.Second) {
			tb.Fatalf("cluster server %s not ready", s.Name())
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ready := 0
		for _, s := range c.Servers {
			if s.JetStreamIsClustered() && s.JetStreamIsCurrent() {
				ready++
			}
		}
		leader := false
		for _, s := range c.Servers {
			if s.JetStreamIsLeader() {
				leader = true
			}
		}
		if leader && ready == n {
			return c
		}
		if time.Now().After(deadline) {
			tb.Fatalf("JetStream cluster did not form within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL lists every server's client URL, comma-separated, as NATS_URL takes them.
func (c *Cluster) URL() string {
	var urls []string
	for _, s := range c.Servers {
		if s.Running() {
			urls = append(urls, s.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// StreamLeader returns the server that leads stream (in account $G), or nil.
func (c *Cluster) StreamLeader(stream string) *server.Server {
	for _, s := range c.Servers {
		if s.Running() && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return s
		}
	}
	return nil
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for _, s := range c.Servers {
		s.Shutdown()
	}
	for _, s := range c.Servers {
		s.WaitForShutdown()
	}
}
