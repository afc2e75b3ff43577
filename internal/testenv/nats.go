package testenv

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
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
	return started(tb, NewNATS, (*NATS).Shutdown)
}

// NewNATS starts an embedded NATS server with JetStream on a free port,
// storing in dir. The caller shuts it down.
func NewNATS(dir string) (*NATS, error) {
	n := &NATS{opts: natsOptions(dir)}
	if err := n.start(); err != nil {
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	// Fix the port so a restart comes back on the same address.
	n.opts.Port = n.Server.Addr().(*net.TCPAddr).Port
	return n, nil
}

// natsOptions are every embedded server's: loopback, a free port, JetStream
// storing in dir, no log, no signal handlers.
func natsOptions(dir string) *server.Options {
	return &server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	}
}

// runNATS starts an embedded server and waits until it takes connections.
func runNATS(opts *server.Options) (*server.Server, error) {
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats-server %s not ready within 10s", s.Name())
	}
	return s, nil
}

func (n *NATS) start() error {
	s, err := runNATS(n.opts)
	if err != nil {
		return err
	}
	n.Server = s
	n.URL = s.ClientURL()
	return nil
}

// ConnectNATS connects to url (one server or a comma-separated list, as
// NATS_URL takes them) for a test, reconnecting for ever, 100 ms apart, while
// a server restarts; the connection closes when the test ends.
func ConnectNATS(tb testing.TB, url string) *nats.Conn {
	tb.Helper()
	nc, err := connectNATS(url, "testenv")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// connectNATS is ConnectNATS's core and the Stack's connection.
func connectNATS(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	return nc, nil
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
	restart(tb, "nats-server", n.start)
}
