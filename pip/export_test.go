package pip

import "time"

// NewWithClock returns a PIP that reads the time from now.
func NewWithClock(cfg Config, now func() time.Time) (*PIP, error) {
	p, err := New(cfg)
	if err == nil {
		p.now = now
	}
	return p, err
}
