package testenv

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of embedded NATS servers, owned by a test.
type Cluster struct {
	Servers []*server.Server
}

// StartCluster starts n embedded servers (n ≥ 3 for R3 streams) routed into
// one JetStream cluster on free ports, waits for a meta leader, and shuts
// them down when the test ends.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return started(tb, func(dir string) (*Cluster, error) { return NewCluster(dir, n) }, (*Cluster).Shutdown)
}

// NewCluster starts n embedded servers routed into one JetStream cluster on
// free ports, storing in dir, and waits until every server is current and
// one is the meta leader. The caller shuts it down.
func NewCluster(dir string, n int) (*Cluster, error) {
	c := &Cluster{}
	return setUp("NATS cluster", c, func() error { return c.start(dir, n) }, c.Shutdown)
}

func (c *Cluster) start(dir string, n int) error {
	ports := make([]int, n)
	var routes []*url.URL
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			return err
		}
		ports[i] = p
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	for i := range n {
		o := natsOptions(filepath.Join(dir, fmt.Sprintf("zw-%d", i+1)))
		o.ServerName = fmt.Sprintf("zw-%d", i+1)
		o.Routes = routes
		o.Cluster.Name = "zw"
		o.Cluster.Host = "127.0.0.1"
		o.Cluster.Port = ports[i]
		s, err := runNATS(o)
		if err != nil {
			return fmt.Errorf("cluster server %d: %w", i+1, err)
		}
		c.Servers = append(c.Servers, s)
	}
	return waitFor(20*time.Second, "JetStream cluster formed", func() bool {
		ready, leader := 0, false
		for _, s := range c.Servers {
			if s.JetStreamIsClustered() && s.JetStreamIsCurrent() {
				ready++
			}
			leader = leader || s.JetStreamIsLeader()
		}
		return leader && ready == n
	})
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
