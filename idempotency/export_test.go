package idempotency

import "time"

// SetClock makes the Guard built from c read the time from now.
func SetClock(c *Config, now func() time.Time) { c.now = now }

// SetWaiting makes the Guard built from c call f when a call starts waiting
// for another's outcome.
func SetWaiting(c *Config, f func()) { c.waiting = f }

// StoreKey returns the store key of k under g.
func StoreKey(g *Guard, k Key) string { return g.storeKey(&k) }

// LeaseEnd returns the lease end of a stored record in progress.
func LeaseEnd(value []byte) (time.Time, error) {
	r, err := decodeRecord(value)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, r.leaseEnd), nil
}
