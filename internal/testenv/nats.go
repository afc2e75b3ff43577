package testenv

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS is an embedded nats-server with JetStream, owned by a test.
type NATS struct {
	Server *server.Server
	URL    string
	opts   *server.Options
}

// StartNATS starts an embedded NATS server with JetStream on a free port and
// a temporary store directory, and shuts it down when the test ends.
func StartNATS(tb testing.TB) *NATS {
	tb.Helper()
	n, err := NewNATS(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(n.Shutdown)
	return n
}

// NewNATS starts an embedded NATS server with JetStream on a free port,
// storing in dir. The caller shuts it down.
func NewNATS(dir string) (*NATS, error) {
	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	}
	n := &NATS{opts: opts}
	if err := n.start(); err != nil {
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	// Fix the port so a restart comes back on the same address.
	n.opts.Port = n.Server.Addr().(*net.TCPAddr).Port
	return n, nil
}

func (n *NATS) start() error {
	s, err := server.NewServer(n.opts)
	if err != nil {
		return err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("nats-server not ready within 10s")
	}
	n.Server = s
	n.URL = s.ClientURL()
	return nil
}

// Shutdown stops the server (its store stays on disk for Restart).
func (n *NATS) Shutdown() {
	if n.Server != nil {
		n.Server.Shutdown()
		n.Server.WaitForShutdown()
	}
}

// Restart stops the server and starts it again on the same port and store.
func (n *NATS) Restart(tb testing.TB) {
	tb.Helper()
	n.Shutdown()
	var err error
	for i := 0; i < 50; i++ {
		if err = n.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("restart nats-server: %v", err)
}
