package breaker

import (
	"context"
	"time"
)

// Counts is a snapshot of a circuit, as [Breaker.Counts] reads it.
//
// Unlike gobreaker's Counts, it holds no count of requests or successes,
// nor of consecutive outcomes: a Breaker does not keep them. A successful
// call on a closed circuit changes nothing, so that it costs no Store write
// and no lock shared with other calls; and failures count within a Window of
// time, not as a run. What a breaker keeps is below.
type Counts struct {
	// State is the circuit's state, as [Breaker.State] reports it: an open
	// circuit whose stand-down is over is HalfOpen, the next call a trial.
	State State
	// Generation grows by one with each change of the circuit's state,
	// across every instance that shares it: the outcome of a call admitted
	// in an earlier generation is ignored.
	Generation uint64
	// Failures is how many failures count towards opening the closed
	// circuit: those of the window that began at WindowStart. It is 0 when
	// the circuit is not closed or no window is live.
	Failures int
	// WindowStart is when the window of Failures began; the zero Time when
	// none is live.
	WindowStart time.Time
	// OpenedAt is when the circuit last opened, while it is open or
	// half-open; the zero Time when it is closed.
	OpenedAt time.Time
	// Trials is how many trial calls of a half-open circuit hold a slot
	// (MaxTrials at most), counting those that have not reported back
	// within TrialTimeout as gone.
	Trials int
	// Pending is how many failures this breaker counted that the Store
	// does not hold yet (see "Writes the Store did not take" in the package
	// documentation). While the breaker runs on process-local state they
	// are in Failures too; otherwise they are not.
	Pending int
	// Shared reports whether the snapshot is wholly the circuit in the
	// Store, read at most Staleness ago, and the Store's count of failures.
	// It is false without a Store, while the breaker runs on process-local
	// state after a Store failure, when this breaker's copy was not read
	// (nor written) within Staleness, as when ctx ended before the read,
	// and when the count of failures could not be read: Failures then
	// holds only those counted in the circuit itself.
	Shared bool
}

// Counts returns a snapshot of the circuit, as this breaker knows it. With
// a Store that is the circuit all instances share: it reads the Store if its
// copy is older than Staleness, as [Breaker.State] does, and, with a
// [store.Counter], the window's count of failures, one Add of 0, bounded by
// StoreTimeout and ctx. Without a Store, or after a Store failure, it is
// this process's view (Shared is false). Counts is for logs and metrics;
// the snapshot may be stale as soon as it is taken.
func (b *Breaker) Counts(ctx context.Context) Counts {
	b.refresh(ctx)
	now := b.set.now()
	b.mu.Lock()
	c := b.st.clone()
	// Shared only for a copy read from (or written to) the Store within
	// Staleness: a read cut short by ctx leaves an older copy, or none.
	fresh := !b.readAt.IsZero() && now.Sub(b.readAt) < b.set.Staleness
	counts := Counts{State: c.State, Generation: c.Generation, Shared: !b.local && !b.degraded && fresh}
	for _, p := range b.pending {
		counts.Pending += p.n
	}
	b.mu.Unlock()

	switch c.State {
	case Closed:
		if !b.inWindow(&c, now) {
			break
		}
		counts.WindowStart = time.Unix(0, c.WindowStart)
		counts.Failures = c.Failures
		if counts.Shared && b.counting() {
			n, ok := b.readCount(ctx, c.Generation, c.WindowStart)
			counts.Failures += n
			counts.Shared = ok
		}
	case Open:
		counts.OpenedAt = time.Unix(0, c.OpenedAt)
		if b.standDownOver(c, now) {
			counts.State = HalfOpen
		}
	case HalfOpen:
		counts.OpenedAt = time.Unix(0, c.OpenedAt)
		for _, t := range c.Trials {
			if now.Sub(time.Unix(0, t.Start)) < b.set.TrialTimeout {
				counts.Trials++
			}
		}
	}
	return counts
}

// readCount returns the count of the Store's counter of the window that
// began at window in generation gen, by adding 0 to it, and whether the
// Store answered. A failure is not a Store outage for the breaker: only
// reading its count failed.
func (b *Breaker) readCount(ctx context.Context, gen uint64, window int64) (int, bool) {
	if b.endedByCaller(ctx) {
		return 0, false
	}
	sctx, cancel := context.WithTimeout(ctx, b.set.StoreTimeout)
	defer cancel()
	n, err := b.counter.Add(sctx, b.countKey(gen, window), 0, b.set.Window+time.Minute)
	if err != nil {
		return 0, false
	}
	return int(n), true
}
