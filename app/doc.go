// Package app is pushvault's composition root: it turns command-line
// options and configuration into wired components and runs them. For
// `pushvault serve` that is the configuration (ServeConfig), the NATS
// JetStream queue with its dead-letter stream (Queue), the workers
// (Workers, Processor), the idempotency store (Store.Once), the dispatcher
// of events to handlers, the metrics and the HTTP endpoints (Services).
// Nothing else imports it.
package app
