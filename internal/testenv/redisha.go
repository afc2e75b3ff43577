package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisNode is one redis-server (or redis-sentinel) process of a Redis
// Cluster or Sentinel set-up, owned by a test.
type RedisNode struct {
	Addr string // 127.0.0.1:port
	Port int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startRedisNode starts redis-server on a free port with the arguments
// args(port, dir) returns, retrying a few times when another process grabs
// the port first, and waits until it answers PING. Its log is in dir.
func startRedisNode(dir, name string, args func(port int) []string) (*RedisNode, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New(RedisHint)
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command("redis-server", args(port)...)
		cmd.Dir = dir
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, try)))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			return nil, err
		}
		logf.Close() // the child holds its own descriptor
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := waitRedis(addr, 10*time.Second); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			lastErr = err
			continue
		}
		return &RedisNode{Addr: addr, Port: port, cmd: cmd}, nil
	}
	return nil, lastErr
}

// baseArgs are the arguments every test redis-server gets: loopback only,
// no persistence, quiet.
func baseArgs(port int) []string {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--loglevel", "warning"}
}

// Kill stops the process at once (SIGKILL), as a crash would.
func (n *RedisNode) Kill() {
	n.mu.Lock()
	cmd := n.cmd
	n.cmd = nil
	n.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

func (n *RedisNode) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
}

// do runs one command on the node.
func (n *RedisNode) do(ctx context.Context, args ...any) (any, error) {
	c := n.client()
	defer c.Close()
	return c.Do(ctx, args...).Result()
}

// info returns one field of INFO section.
func (n *RedisNode) info(ctx context.Context, section, field string) string {
	c := n.client()
	defer c.Close()
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func waitFor(limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// haTimeout bounds each step of building or failing over a set-up. It is
// generous: the machine running tests may be loaded.
const haTimeout = 30 * time.Second

// RedisCluster is a Redis Cluster of real redis-server processes: masters
// that share the 16384 slots evenly, each with one replica.
type RedisCluster struct {
	Masters  []*RedisNode
	Replicas []*RedisNode // Replicas[i] replicates Masters[i] (until a failover swaps them)
	// URL is a redis+cluster:// URL naming every master as a seed.
	URL string
}

// NewRedisCluster starts a cluster of masters masters, each with one
// replica, on free ports, logs in dir, and waits until every node says the
// cluster is ok. Close stops it.
func NewRedisCluster(dir string, masters int) (c *RedisCluster, err error) {
	c = &RedisCluster{}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	args := func(port int) []string {
		return append(baseArgs(port), "--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
			// A node is only failed over when the test asks: a loaded
			// machine must not look like a dead master.
			"--cluster-node-timeout", "15000")
	}
	for i := 0; i < 2*masters; i++ {
		n, err := startRedisNode(dir, fmt.Sprintf("cluster-%d", i), args)
		if err != nil {
			return nil, fmt.Errorf("start cluster node: %w", err)
		}
		if i < masters {
			c.Masters = append(c.Masters, n)
		} else {
			c.Replicas = append(c.Replicas, n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*haTimeout)
	defer cancel()
	all := c.nodes()
	per := 16384 / masters
	for i, m := range c.Masters {
		lo, hi := i*per, (i+1)*per-1
		if i == masters-1 {
			hi = 16383
		}
		slots := []any{"CLUSTER", "ADDSLOTS"}
		for s := lo; s <= hi; s++ {
			slots = append(slots, s)
		}
		if _, err := m.do(ctx, slots...); err != nil {
			return nil, fmt.Errorf("cluster addslots: %w", err)
		}
	}
	for _, n := range all[1:] {
		if _, err := all[0].do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.Port); err != nil {
			return nil, fmt.Errorf("cluster meet: %w", err)
		}
	}
	if err := waitFor(haTimeout, "cluster nodes know each other", func() bool {
		for _, n := range all {
			out, err := n.do(ctx, "CLUSTER", "NODES")
			s, _ := out.(string)
			if err != nil || strings.Count(strings.TrimSpace(s), "\n")+1 != len(all) || strings.Contains(s, "handshake") {
				return false
			}
		}
		return true
	}); err != nil {
		return nil, err
	}
	for i, r := range c.Replicas {
		id, err := c.Masters[i].do(ctx, "CLUSTER", "MYID")
		if err != nil {
			return nil, err
		}
		if err := waitFor(haTimeout, "cluster replicate", func() bool {
			_, err := r.do(ctx, "CLUSTER", "REPLICATE", id)
			return err == nil
		}); err != nil {
			return nil, err
		}
	}
	if err := c.waitHealthy(ctx); err != nil {
		return nil, err
	}
	addrs := make([]string, len(c.Masters))
	for i, m := range c.Masters {
		addrs[i] = m.Addr
	}
	c.URL = "redis+cluster://" + strings.Join(addrs, ",")
	return c, nil
}

func (c *RedisCluster) nodes() []*RedisNode {
	return append(append([]*RedisNode{}, c.Masters...), c.Replicas...)
}

// waitHealthy waits until every node says the cluster is ok, every replica's
// link to its master is up, and every node agrees who the masters are.
func (c *RedisCluster) waitHealthy(ctx context.Context) error {
	return waitFor(haTimeout, "redis cluster healthy", func() bool {
		for _, n := range c.nodes() {
			if n.info(ctx, "cluster", "cluster_enabled") != "1" {
				return false
			}
			out, err := n.do(ctx, "CLUSTER", "INFO")
			if s, _ := out.(string); err != nil || !strings.Contains(s, "cluster_state:ok") {
				return false
			}
			nodes, err := n.do(ctx, "CLUSTER", "NODES")
			s, _ := nodes.(string)
			if err != nil || strings.Count(s, "master") != len(c.Masters) || strings.Contains(s, "fail") {
				return false
			}
		}
		for _, r := range c.Replicas {
			if r.info(ctx, "replication", "master_link_status") != "up" {
				return false
			}
		}
		return true
	})
}

// Failover makes Masters[i]'s replica its master with CLUSTER FAILOVER (the
// coordinated kind: the master stops taking writes until the replica has
// them all), waits until the whole cluster agrees, and swaps the two in
// Masters and Replicas.
func (c *RedisCluster) Failover(i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*haTimeout)
	defer cancel()
	r := c.Replicas[i]
	if _, err := r.do(ctx, "CLUSTER", "FAILOVER"); err != nil {
		return fmt.Errorf("cluster failover: %w", err)
	}
	if err := waitFor(haTimeout, "replica promoted", func() bool {
		return r.info(ctx, "replication", "role") == "master"
	}); err != nil {
		return err
	}
	c.Masters[i], c.Replicas[i] = r, c.Masters[i]
	return c.waitHealthy(ctx)
}

// Close stops every node.
func (c *RedisCluster) Close() {
	for _, n := range c.nodes() {
		n.Kill()
	}
}

// StartRedisCluster is NewRedisCluster for a test: it fails the test when
// the cluster does not come up and stops it when the test ends.
func StartRedisCluster(tb testing.TB, masters int) *RedisCluster {
	tb.Helper()
	c, err := NewRedisCluster(tb.TempDir(), masters)
	if err != nil {
		tb.Fatalf("start redis cluster: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// SentinelMaster is the master name the Sentinel set-up monitors.
const SentinelMaster = "zw-master"

// RedisSentinel is a Sentinel set-up of real processes: one master, its
// replicas and the Sentinels that watch them.
type RedisSentinel struct {
	Master    *RedisNode
	Replicas  []*RedisNode
	Sentinels []*RedisNode
	// URL is a redis+sentinel:// URL naming every Sentinel, master
	// SentinelMaster, database 0.
	URL string
}

// NewRedisSentinel starts a master, replicas replicas and sentinels
// Sentinels (quorum: a majority of them) on free ports, logs and Sentinel
// configs in dir, and waits until the Sentinels know every replica. Close
// stops it.
func NewRedisSentinel(dir string, replicas, sentinels int) (s *RedisSentinel, err error) {
	s = &RedisSentinel{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Master, err = startRedisNode(dir, "master", baseArgs); err != nil {
		return nil, fmt.Errorf("start master: %w", err)
	}
	for i := 0; i < replicas; i++ {
		r, err := startRedisNode(dir, fmt.Sprintf("replica-%d", i), func(port int) []string {
			return append(baseArgs(port), "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port))
		})
		if err != nil {
			return nil, fmt.Errorf("start replica: %w", err)
		}
		s.Replicas = append(s.Replicas, r)
	}
	quorum := sentinels/2 + 1
	for i := 0; i < sentinels; i++ {
		sn, err := startRedisNode(dir, fmt.Sprintf("sentinel-%d", i), func(port int) []string {
			conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", port))
			// Sentinel rewrites its config file, so each gets its own.
			// down-after is long: only the test's own failover should
			// happen, never one caused by a loaded machine.
			body := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
				"sentinel monitor %s 127.0.0.1 %d %d\n"+
				"sentinel down-after-milliseconds %s 10000\n"+
				"sentinel failover-timeout %s 20000\n"+
				"sentinel parallel-syncs %s 1\n",
				port, dir, SentinelMaster, s.Master.Port, quorum, SentinelMaster, SentinelMaster, SentinelMaster)
			_ = os.WriteFile(conf, []byte(body), 0o600)
			return []string{conf, "--sentinel", "--loglevel", "warning"}
		})
		if err != nil {
			return nil, fmt.Errorf("start sentinel: %w", err)
		}
		s.Sentinels = append(s.Sentinels, sn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*haTimeout)
	defer cancel()
	if err := s.waitHealthy(ctx, s.Master.Addr); err != nil {
		return nil, err
	}
	addrs := make([]string, len(s.Sentinels))
	for i, sn := range s.Sentinels {
		addrs[i] = sn.Addr
	}
	s.URL = "redis+sentinel://" + strings.Join(addrs, ",") + "/" + SentinelMaster + "/0"
	return s, nil
}

// waitHealthy waits until every Sentinel names master as the master and
// sees every replica connected to it, and the replicas' links are up.
func (s *RedisSentinel) waitHealthy(ctx context.Context, master string) error {
	return waitFor(haTimeout, "sentinel set-up healthy", func() bool {
		for _, r := range s.Replicas {
			if r.info(ctx, "replication", "master_link_status") != "up" {
				return false
			}
		}
		for _, sn := range s.Sentinels {
			c := sn.client()
			addr, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster).StringSlice()
			if err != nil || len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) != master {
				c.Close()
				return false
			}
			reps, err := c.Do(ctx, "SENTINEL", "REPLICAS", SentinelMaster).Slice()
			c.Close()
			if err != nil || len(reps) != len(s.Replicas) {
				return false
			}
			for _, r := range reps {
				if !replicaOK(r) {
					return false
				}
			}
		}
		return true
	})
}

// replicaOK reads one entry of SENTINEL REPLICAS: flags "slave" only and
// the link to the master ok.
func replicaOK(entry any) bool {
	fields := map[string]string{}
	switch e := entry.(type) {
	case []any:
		for i := 0; i+1 < len(e); i += 2 {
			k, _ := e[i].(string)
			v, _ := e[i+1].(string)
			fields[k] = v
		}
	case map[any]any:
		for k, v := range e {
			ks, _ := k.(string)
			vs, _ := v.(string)
			fields[ks] = vs
		}
	}
	return fields["flags"] == "slave" && fields["master-link-status"] == "ok"
}

// Failover asks a Sentinel for a failover (SENTINEL FAILOVER), waits until
// a replica is the master, every Sentinel names it, and the old master has
// become its replica; then Master and Replicas say the new roles.
func (s *RedisSentinel) Failover() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*haTimeout)
	defer cancel()
	old := s.Master.Addr
	c := s.Sentinels[0].client()
	defer c.Close()
	// NOGOODSLAVE until the Sentinel has fresh news of a replica.
	if err := waitFor(haTimeout, "sentinel failover accepted", func() bool {
		return c.Do(ctx, "SENTINEL", "FAILOVER", SentinelMaster).Err() == nil
	}); err != nil {
		return err
	}
	var addr []string
	if err := waitFor(haTimeout, "sentinel switched master", func() bool {
		var err error
		addr, err = c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster).StringSlice()
		return err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) != old
	}); err != nil {
		return err
	}
	now := net.JoinHostPort(addr[0], addr[1])
	for i, r := range s.Replicas {
		if r.Addr == now {
			s.Master, s.Replicas[i] = r, s.Master
		}
	}
	if s.Master.Addr != now {
		return fmt.Errorf("sentinel names %s, which is none of the replicas", now)
	}
	// Sentinel turns the old master into a replica when it next polls it
	// (up to 10 s); do it now, as Sentinel would, to keep the test short.
	for _, r := range s.Replicas {
		if r.Addr == old {
			_, _ = r.do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(s.Master.Port))
		}
	}
	return s.waitHealthy(ctx, now)
}

// Close stops every process.
func (s *RedisSentinel) Close() {
	for _, n := range append(append([]*RedisNode{s.Master}, s.Replicas...), s.Sentinels...) {
		if n != nil {
			n.Kill()
		}
	}
}

// StartRedisSentinel is NewRedisSentinel for a test: it fails the test when
// the set-up does not come up and stops it when the test ends.
func StartRedisSentinel(tb testing.TB, replicas, sentinels int) *RedisSentinel {
	tb.Helper()
	s, err := NewRedisSentinel(tb.TempDir(), replicas, sentinels)
	if err != nil {
		tb.Fatalf("start redis sentinel: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}
