package breaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/funcify/funcify/store"
)

// State is the state of a circuit.
type State int

// The states of a circuit.
const (
	// Closed lets calls through and counts their failures.
	Closed State = iota
	// Open rejects calls with ErrOpen until the stand-down ends.
	Open
	// HalfOpen lets a bounded number of trial calls through: a success
	// closes the circuit, a failure opens it again.
	HalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

var (
	// ErrOpen rejects a call while the circuit is open.
	ErrOpen = errors.New("breaker: circuit open")
	// ErrTrialLimit rejects a call while the circuit is half-open and all
	// its trial slots are taken. It matches ErrOpen.
	ErrTrialLimit = fmt.Errorf("%w: trial calls in flight", ErrOpen)
)

// Settings configure a [Breaker]. The zero value of every field means the
// documented default, which are pyfuncify's.
type Settings struct {
	// Name names the circuit in logs and, with a Store, is its key there:
	// breakers that share a Store and a Name share one circuit.
	Name string

	// FailureThreshold is how many failures within Window open the
	// circuit. Default 3.
	FailureThreshold int
	// Window is the time over which failures are counted: the count
	// starts again when a failure comes more than Window after the first
	// one counted. Default 5 minutes.
	Window time.Duration
	// OpenFor is the stand-down: how long an open circuit rejects calls
	// before it lets a trial through. Default 5 minutes.
	OpenFor time.Duration
	// MaxTrials is how many trial calls a half-open circuit lets through
	// at once. Default 1.
	MaxTrials int
	// TrialTimeout is how long a trial call holds its slot: a trial that
	// never reports back (its Lambda was frozen or killed) frees its slot
	// after this. Default 1 minute.
	TrialTimeout time.Duration

	// IsFailure says whether an error counts as a failure of the
	// downstream. Default [IsDownstreamFailure]. An error caused by the
	// caller's own context being done never counts.
	IsFailure func(error) bool
	// OnStateChange, if set, is called after the circuit changes state,
	// by the one breaker (across every instance sharing the Store) whose
	// write made the change.
	OnStateChange func(name string, from, to State)

	// Store shares the circuit's state with every breaker of the same Name
	// on the same Store, across instances of a function. Nil keeps the
	// state in this process only.
	Store store.Store
	// Staleness is how long a state read from the Store is trusted on the
	// closed path before it is read again. Default 1 second.
	Staleness time.Duration
	// StoreTimeout bounds each Store call, within the caller's own
	// deadline, so that a Store that hangs delays a call by at most this
	// before the breaker falls back to process-local state. Default 500 ms.
	StoreTimeout time.Duration
	// Logger receives the line logged when the Store fails and the
	// breaker falls back to process-local state. Default slog.Default().
	Logger *slog.Logger
	// Now returns the current time; tests set it to move time without
	// sleeping. Default time.Now.
	Now func() time.Time
}

// Breaker is a circuit breaker. It is safe for concurrent use; build one per
// downstream with [New], at init, and share it across invocations.
type Breaker struct {
	set   Settings
	key   string
	local bool // no Store: the state lives here only

	mu         sync.Mutex // guards the fields below
	st         circuit    // the last state known
	version    int64      // the Store's version of st
	readAt     time.Time  // when st was read from or written to the Store
	refreshing bool       // a Store read is under way
	degraded   bool       // the Store failed: running on process-local state
}

// circuit is the state of a circuit, as kept in the Store.
type circuit struct {
	State       State   `json:"s"`
	Generation  uint64  `json:"g"`
	Failures    int     `json:"f,omitempty"`
	WindowStart int64   `json:"w,omitempty"` // unix nanoseconds of the first failure counted
	OpenedAt    int64   `json:"o,omitempty"` // unix nanoseconds
	Trials      []trial `json:"t,omitempty"`
}

// trial is a trial call in flight in a half-open circuit.
type trial struct {
	ID    uint64 `json:"i"`
	Start int64  `json:"s"` // unix nanoseconds
}

// New returns a Breaker with the given settings.
func New(s Settings) *Breaker {
	if s.FailureThreshold <= 0 {
		s.FailureThreshold = 3
	}
	if s.Window <= 0 {
		s.Window = 5 * time.Minute
	}
	if s.OpenFor <= 0 {
		s.OpenFor = 5 * time.Minute
	}
	if s.MaxTrials <= 0 {
		s.MaxTrials = 1
	}
	if s.TrialTimeout <= 0 {
		s.TrialTimeout = time.Minute
	}
	if s.IsFailure == nil {
		s.IsFailure = IsDownstreamFailure
	}
	if s.Staleness <= 0 {
		s.Staleness = time.Second
	}
	if s.StoreTimeout <= 0 {
		s.StoreTimeout = 500 * time.Millisecond
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return &Breaker{set: s, key: "breaker/" + s.Name, local: s.Store == nil}
}

// Name returns the circuit's name.
func (b *Breaker) Name() string { return b.set.Name }

// State returns the circuit's state as this breaker knows it, reading the
// Store if its copy is stale. An open circuit whose stand-down has ended
// reports HalfOpen: the next call will be a trial.
func (b *Breaker) State(ctx context.Context) State {
	b.refresh(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st.State == Open && b.standDownOver(b.st, b.set.Now()) {
		return HalfOpen
	}
	return b.st.State
}

// ticket is what admission hands to the report of a call's outcome.
type ticket struct {
	generation uint64
	trial      uint64 // the trial's ID, or 0 for a call in a closed circuit
}

// Execute calls fn through b: it returns ErrOpen (or ErrTrialLimit) at once
// while the circuit rejects calls, and otherwise fn's result, after counting
// fn's error if it is a failure. A panic in fn counts as a failure and is
// re-panicked.
//
// Execute is a function, not a method, so that one Breaker serves calls of
// any result type.
func Execute[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (T, error) {
	t, err := b.admit(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	panicked := true
	defer func() {
		if panicked {
			b.report(ctx, t, true)
		}
	}()
	v, err := fn(ctx)
	panicked = false
	b.report(ctx, t, err != nil && b.countable(ctx, err))
	return v, err
}

// countable reports whether err is a failure of the downstream, and not of
// the caller's own context.
func (b *Breaker) countable(ctx context.Context, err error) bool {
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		return false
	}
	return b.set.IsFailure(err)
}

// admit decides whether a call may go through.
func (b *Breaker) admit(ctx context.Context) (ticket, error) {
	b.refresh(ctx)
	b.mu.Lock()
	state, generation, openedAt := b.st.State, b.st.Generation, b.st.OpenedAt
	b.mu.Unlock()
	if state == Closed {
		return ticket{generation: generation}, nil
	}
	now := b.set.Now()
	if state == Open && now.Sub(time.Unix(0, openedAt)) < b.set.OpenFor {
		return ticket{}, ErrOpen
	}

	// Half-open, or open with the stand-down over: take a trial slot.
	id := rand.Uint64() | 1
	var admitted ticket
	var rejected error
	b.update(ctx, func(c *circuit) bool {
		admitted, rejected = ticket{}, nil
		switch {
		case c.State == Closed:
			// Closed meanwhile by another trial.
			admitted = ticket{generation: c.Generation}
			return false
		case c.State == Open && !b.standDownOver(*c, now):
			rejected = ErrOpen
			return false
		case c.State == Open:
			c.State, c.Generation, c.Trials = HalfOpen, c.Generation+1, nil
		}
		live := c.Trials[:0:0]
		for _, t := range c.Trials {
			if now.Sub(time.Unix(0, t.Start)) < b.set.TrialTimeout {
				live = append(live, t)
			}
		}
		if len(live) >= b.set.MaxTrials {
			dropped := len(live) != len(c.Trials)
			c.Trials = live
			rejected = ErrTrialLimit
			return dropped
		}
		c.Trials = append(live, trial{ID: id, Start: now.UnixNano()})
		admitted = ticket{generation: c.Generation, trial: id}
		return true
	})
	if rejected != nil {
		return ticket{}, rejected
	}
	return admitted, nil
}

// report records the outcome of an admitted call.
func (b *Breaker) report(ctx context.Context, t ticket, failed bool) {
	if !failed && t.trial == 0 {
		return // a success in a closed circuit changes nothing
	}
	now := b.set.Now()
	b.update(ctx, func(c *circuit) bool {
		if c.Generation != t.generation {
			return false // the circuit changed since the call began: stale
		}
		switch c.State {
		case Closed:
			if !failed {
				return false
			}
			if c.Failures == 0 || now.Sub(time.Unix(0, c.WindowStart)) > b.set.Window {
				c.Failures, c.WindowStart = 0, now.UnixNano()
			}
			c.Failures++
			if c.Failures >= b.set.FailureThreshold {
				*c = circuit{State: Open, Generation: c.Generation + 1, OpenedAt: now.UnixNano()}
			}
			return true
		case HalfOpen:
			if t.trial == 0 {
				return false
			}
			if failed {
				*c = circuit{State: Open, Generation: c.Generation + 1, OpenedAt: now.UnixNano()}
			} else {
				*c = circuit{State: Closed, Generation: c.Generation + 1}
			}
			return true
		}
		return false
	})
}

func (b *Breaker) standDownOver(c circuit, now time.Time) bool {
	return now.Sub(time.Unix(0, c.OpenedAt)) >= b.set.OpenFor
}

// update applies change to the circuit: to the Store by compare-and-set,
// reading it again after every conflict, or to the process-local state when
// there is no Store or it has failed. change reports whether it changed the
// circuit; it may run several times, on fresher states.
func (b *Breaker) update(ctx context.Context, change func(*circuit) bool) {
	for attempt := 0; ; attempt++ {
		b.mu.Lock()
		cur, version := b.st, b.version
		useStore := !b.local && !b.degraded
		if !useStore {
			next := cur.clone()
			if change(&next) {
				b.st = next
				b.mu.Unlock()
				b.changed(cur.State, next.State)
				return
			}
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()

		next := cur.clone()
		if !change(&next) {
			return
		}
		value, err := json.Marshal(next)
		if err != nil {
			b.fallBack(ctx, err)
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, b.set.StoreTimeout)
		newVersion, err := b.set.Store.CompareAndSet(sctx, b.key, version, value, b.ttl())
		cancel()
		switch {
		case err == nil:
			b.mu.Lock()
			b.st, b.version, b.readAt = next, newVersion, b.set.Now()
			b.mu.Unlock()
			b.changed(cur.State, next.State)
			return
		case errors.Is(err, store.ErrConflict):
			// Another instance wrote first: read its state and apply the
			// change to that. Under heavy contention, back off a little,
			// with jitter, so that the writers spread out.
			if attempt >= maxConflicts || ctx.Err() != nil {
				b.logger().LogAttrs(ctx, slog.LevelWarn, "breaker: update abandoned after repeated conflicts",
					slog.String("breaker", b.set.Name), slog.Int("attempts", attempt+1))
				return
			}
			if attempt >= 2 {
				backOff(ctx, attempt)
			}
			if err := b.read(ctx); err != nil {
				b.fallBack(ctx, err)
			}
		default:
			b.fallBack(ctx, err)
		}
	}
}

// maxConflicts bounds the compare-and-set retries of one update.
const maxConflicts = 200

// backOff waits a random time that grows with attempt, up to 10 ms, or until
// ctx is done.
func backOff(ctx context.Context, attempt int) {
	limit := min(time.Duration(50<<min(attempt, 10))*time.Microsecond, 10*time.Millisecond)
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (b *Breaker) changed(from, to State) {
	if from != to && b.set.OnStateChange != nil {
		b.set.OnStateChange(b.set.Name, from, to)
	}
}

// ttl is how long the Store keeps the circuit: long after any window or
// stand-down, so that only a circuit idle for a day is forgotten.
func (b *Breaker) ttl() time.Duration {
	return 24*time.Hour + b.set.Window + b.set.OpenFor
}

// refresh reads the circuit from the Store if this breaker's copy is older
// than Staleness. One caller reads while the others go on with the copy
// they have.
func (b *Breaker) refresh(ctx context.Context) {
	if b.local {
		return
	}
	now := b.set.Now()
	b.mu.Lock()
	if b.refreshing || now.Sub(b.readAt) < b.set.Staleness {
		b.mu.Unlock()
		return
	}
	b.refreshing = true
	b.mu.Unlock()
	err := b.read(ctx)
	b.mu.Lock()
	b.refreshing = false
	if err != nil {
		// Try the Store again after Staleness, not on every call.
		b.readAt = now
	}
	b.mu.Unlock()
	if err != nil {
		b.fallBack(ctx, err)
	}
}

// read replaces this breaker's copy of the circuit with the Store's.
func (b *Breaker) read(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, b.set.StoreTimeout)
	it, err := b.set.Store.Get(sctx, b.key)
	cancel()
	if err != nil {
		return err
	}
	var c circuit
	if it.Version != 0 {
		if err := json.Unmarshal(it.Value, &c); err != nil {
			return fmt.Errorf("breaker: decoding the circuit %q from the store: %w", b.set.Name, err)
		}
	}
	b.mu.Lock()
	b.st, b.version, b.readAt = c, it.Version, b.set.Now()
	if b.degraded {
		b.degraded = false
		b.mu.Unlock()
		b.logger().LogAttrs(ctx, slog.LevelInfo, "breaker: store reachable again", slog.String("breaker", b.set.Name))
		return nil
	}
	b.mu.Unlock()
	return nil
}

// fallBack switches to process-local state after a Store failure, logging
// it once per outage. The caller's call goes on regardless.
func (b *Breaker) fallBack(ctx context.Context, err error) {
	b.mu.Lock()
	first := !b.degraded
	b.degraded = true
	b.mu.Unlock()
	if first {
		b.logger().LogAttrs(ctx, slog.LevelWarn, "breaker: store unavailable, using process-local state",
			slog.String("breaker", b.set.Name), slog.String("error", err.Error()))
	}
}

func (b *Breaker) logger() *slog.Logger {
	if b.set.Logger != nil {
		return b.set.Logger
	}
	return slog.Default()
}

func (c circuit) clone() circuit {
	if c.Trials != nil {
		c.Trials = append([]trial(nil), c.Trials...)
	}
	return c
}
