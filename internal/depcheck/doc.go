// Package depcheck holds no code: its test keeps funcify's core packages to
// their allowed dependencies, so that a function which imports only them
// links nothing heavy (no AWS SDK, no Redis client).
package depcheck
