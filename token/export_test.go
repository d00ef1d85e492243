package token

import (
	"context"
	"time"
)

// Waiting returns how many callers of s wait for the refresh under way;
// tests use it to know that a waiter has joined.
func Waiting(s *Source) int { return s.refreshes.Waiting(s.key) }

// Budget returns how long the next refresh of s made by a caller with ctx
// while a valid token is served may take.
func Budget(ctx context.Context, s *Source) time.Duration { return s.budget(ctx) }
