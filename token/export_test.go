package token

import (
	"context"
	"time"
)

// SetClock makes the Source built from cfg read the time from now instead
// of time.Now, and hands now on to the Breaker it builds when cfg has none,
// so that tests move time without sleeping.
func SetClock(cfg *Config, now func() time.Time) { cfg.now = now }

// SetRand makes the Source built from cfg draw each token's moment in its
// refresh window from rand instead of math/rand/v2.Float64.
func SetRand(cfg *Config, rand func() float64) { cfg.rand = rand }

// Waiting returns how many callers of s wait for the refresh under way;
// tests use it to know that a waiter has joined.
func Waiting(s *Source) int { return s.refreshes.Waiting(s.key) }

// Budget returns how long the next refresh of s made by a caller with ctx
// while a valid token is served may take.
func Budget(ctx context.Context, s *Source) time.Duration { return s.budget(ctx) }
