// Package report writes scan results for people and tools: one line per
// finding as text, a documented JSON document, and SARIF 2.1.0. Every format
// shows redacted values only.
package report
