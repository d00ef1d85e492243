package token

// Waiting returns how many callers of s wait for the refresh under way;
// tests use it to know that a waiter has joined.
func Waiting(s *Source) int { return s.refreshes.Waiting(s.key) }
