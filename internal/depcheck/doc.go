// Package depcheck holds no code: its test keeps funcify's core packages to
// their allowed dependencies, so that a function which imports only them
// links nothing heavy (no AWS SDK, no Redis client, no OpenTelemetry: only
// the otelspan adapter and the examples may link go.opentelemetry.io).
package depcheck
