// Package testenv starts the real infrastructure zoom-worker's tests and
// bench run against: an embedded NATS server with JetStream (the real server
// as a library, on a temporary directory and a free port), a real
// redis-server process on a free port, and the fake Zoom of zoom/zoomtest.
// Nothing here is a mock, and nothing depends on the NATS or Redis that may
// already run on the machine.
//
// Each piece has a core that returns an error (NewNATS, NewCluster,
// NewRedis, NewRedisCluster, NewRedisSentinel, NewStack, RunWorker), for the
// bench and Example functions, and a thin testing.TB wrapper (StartNATS,
// StartCluster, StartRedis, ..., Start) that fails the test and cleans up.
// Every redis-server process, alone or a node of a set-up below, is a Redis
// started the same way: a free port, a log in the directory, PING answered.
// A Stack is the whole world the worker runs in: NATS, Redis, the fake Zoom
// and connections to them; FastConfig (and FastEnv, the same as settings)
// are the short retries and redeliveries every test uses.
//
// For Redis high availability there are a real Redis Cluster (NewRedisCluster,
// StartRedisCluster: masters with one replica each, slots spread evenly,
// Failover(i) runs CLUSTER FAILOVER on a replica) and a real Sentinel set-up
// (NewRedisSentinel, StartRedisSentinel: a master, replicas and Sentinels,
// Failover runs SENTINEL FAILOVER); each waits until every node agrees
// before it returns, and their URL fields are REDIS_URLs for them.
//
// testenv imports worker, so only external test packages (worker_test, not
// package worker) can use it.
package testenv
