package dynamostore

import "time"

// WithClock makes the store read the time from now, for the tests in
// package dynamostore_test.
func WithClock(now func() time.Time) Option { return withClock(now) }
