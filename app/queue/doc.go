// Package queue is pushvault serve's work queue on NATS JetStream: the
// connection (an embedded server or queue.url), the webhook stream and its
// durable pull consumer, the workers that run each delivery with explicit
// acks, bounded retries and a dead-letter stream, and the claim store
// (Claims) that makes every side effect happen once across redeliveries,
// restarts and replicas.
package queue
