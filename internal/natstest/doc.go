// Package natstest runs a real NATS JetStream cluster for tests and the
// benchmark: nats-server processes (the release go.mod pins, built once
// from the Go module proxy by scripts/build-tool.sh and cached) on free
// loopback ports, routed to each other, each with file storage in its own
// directory. A node can be killed (SIGKILL) and restarted on the same
// ports and store. Start skips only under -short (the unit-test tier, make
// test-short); otherwise a test that asks for a cluster and can't have one
// fails and says why.
package natstest
