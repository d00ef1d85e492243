package breaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
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
	// caller's own context being done never counts, and says nothing of
	// the downstream: a trial call that ends so neither closes nor opens
	// the circuit, it gives its slot back.
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
	// StoreTimeout bounds each Store call, so that a Store that hangs
	// delays a call by at most this before the breaker falls back to
	// process-local state. Default 500 ms. A read is also bounded by the
	// caller's own deadline; a write is not, so that it is never cut off
	// half-way, its outcome unknown: it runs on the caller's context
	// without its cancellation (context.WithoutCancel), for at most
	// StoreTimeout. Retries of a write after conflicts stop after four
	// times StoreTimeout in all (see the package documentation).
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
	set     Settings
	key     string
	local   bool          // no Store: the state lives here only
	counter store.Counter // the Store, when it counts failures atomically

	mu         sync.Mutex // guards the fields below
	st         circuit    // the last state known
	version    int64      // the Store's version of st
	readAt     time.Time  // when st was read from or written to the Store
	refreshing bool       // a Store read is under way
	degraded   bool       // the Store failed: running on process-local state
	noCounter  bool       // the Store's Add is unsupported: count by compare-and-set
}

// circuit is the state of a circuit, as kept in the Store.
type circuit struct {
	State      State  `json:"s"`
	Generation uint64 `json:"g"`
	// Failures counts the failures of the window, unless the Store is a
	// store.Counter: then a counter of the Store's own counts them (see
	// countKey), and Failures counts only those counted while the Store
	// was unreachable.
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
	b := &Breaker{set: s, key: "breaker/" + s.Name, local: s.Store == nil}
	b.counter, _ = s.Store.(store.Counter)
	return b
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

// outcome is what a call says of the downstream.
type outcome int

const (
	succeeded outcome = iota // it answered, even with an error that is not a failure
	failed                   // an error that IsFailure counts, or a panic
	cutOff                   // the caller's own context ended the call: nothing
)

// Execute calls fn through b: it returns ErrOpen (or ErrTrialLimit) at once
// while the circuit rejects calls, and otherwise fn's result, after counting
// fn's error if it is a failure. A panic in fn counts as a failure and is
// re-panicked. An error caused by ctx being done does not count; if the call
// was a half-open circuit's trial, it gives its slot back and the circuit
// stays half-open. A trial is not started on a ctx that is already done:
// Execute returns ctx.Err() instead.
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
			b.report(ctx, t, failed)
		}
	}()
	v, err := fn(ctx)
	panicked = false
	b.report(ctx, t, b.outcome(ctx, err))
	return v, err
}

// outcome classifies the error of a call made with ctx.
func (b *Breaker) outcome(ctx context.Context, err error) outcome {
	switch {
	case err == nil:
		return succeeded
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return cutOff
	case b.set.IsFailure(err):
		return failed
	}
	return succeeded
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
	if err := ctx.Err(); err != nil {
		return ticket{}, err // a trial on a done context would tell nothing
	}

	// Half-open, or open with the stand-down over: take a trial slot.
	id := rand.Uint64() | 1
	var admitted ticket
	var rejected error
	ok := b.update(ctx, true, func(c *circuit) bool {
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
			if t.ID == id {
				// This breaker's own write, which the Store reported
				// as a conflict: the slot is taken already.
				admitted = ticket{generation: c.Generation, trial: id}
				return false
			}
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
	switch {
	case !ok && ctx.Err() != nil:
		return ticket{}, ctx.Err()
	case !ok:
		return ticket{}, ErrTrialLimit // others kept the Store busy
	case rejected != nil:
		return ticket{}, rejected
	}
	return admitted, nil
}

// report records the outcome of an admitted call.
func (b *Breaker) report(ctx context.Context, t ticket, o outcome) {
	if t.trial == 0 && o != failed {
		return // only a failure changes a closed circuit
	}
	now := b.set.Now()
	if t.trial == 0 && b.counting() {
		b.count(ctx, t, now)
		return
	}
	b.update(ctx, false, func(c *circuit) bool {
		if c.Generation != t.generation {
			return false // the circuit changed since the call began: stale
		}
		switch c.State {
		case Closed:
			return b.countLocal(c, now)
		case HalfOpen:
			if t.trial == 0 {
				return false
			}
			switch o {
			case cutOff:
				// The trial says nothing: give its slot back.
				i := slices.IndexFunc(c.Trials, func(tr trial) bool { return tr.ID == t.trial })
				if i < 0 {
					return false // timed out and dropped already
				}
				c.Trials = slices.Delete(c.Trials, i, i+1)
			case failed:
				*c = circuit{State: Open, Generation: c.Generation + 1, OpenedAt: now.UnixNano()}
			default:
				*c = circuit{State: Closed, Generation: c.Generation + 1}
			}
			return true
		}
		return false
	})
}

// countLocal counts a failure at now in the closed circuit c, in c itself,
// and opens c at the threshold. It reports whether it changed c.
func (b *Breaker) countLocal(c *circuit, now time.Time) bool {
	if c.Failures == 0 || now.Sub(time.Unix(0, c.WindowStart)) > b.set.Window {
		c.Failures, c.WindowStart = 0, now.UnixNano()
	}
	c.Failures++
	if c.Failures >= b.set.FailureThreshold {
		*c = circuit{State: Open, Generation: c.Generation + 1, OpenedAt: now.UnixNano()}
	}
	return true
}

// counting reports whether failures are counted by the Store's Add.
func (b *Breaker) counting() bool {
	if b.counter == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.degraded && !b.noCounter
}

// count counts a failure of a call admitted with t in a closed circuit,
// with the Store's Add: concurrent failures on every instance then never
// conflict, and none is lost. Only the start of a window and the opening of
// the circuit are compare-and-sets, each made once, by one instance, and
// retried by the others only to see that it was made.
func (b *Breaker) count(ctx context.Context, t ticket, now time.Time) {
	var window int64
	if !b.update(ctx, false, func(c *circuit) bool {
		window = 0
		if c.Generation != t.generation || c.State != Closed {
			return false // stale
		}
		if c.WindowStart != 0 && now.Sub(time.Unix(0, c.WindowStart)) <= b.set.Window {
			window = c.WindowStart
			return false
		}
		c.Failures, c.WindowStart = 0, now.UnixNano()
		window = c.WindowStart
		return true
	}) {
		return
	}
	if !b.counting() {
		b.countFallback(ctx, t, now) // the Store failed meanwhile
		return
	}
	if window == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.set.StoreTimeout)
	n, err := b.counter.Add(sctx, b.countKey(t.generation, window), 1, b.set.Window+time.Minute)
	cancel()
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			b.mu.Lock()
			b.noCounter = true
			b.mu.Unlock()
		} else {
			b.fallBack(context.WithoutCancel(ctx), err)
		}
		b.countFallback(ctx, t, now)
		return
	}
	if n < int64(b.set.FailureThreshold) {
		return
	}
	b.update(ctx, false, func(c *circuit) bool {
		if c.Generation != t.generation || c.State != Closed || c.WindowStart != window {
			return false // opened already, or a new window
		}
		*c = circuit{State: Open, Generation: c.Generation + 1, OpenedAt: now.UnixNano()}
		return true
	})
}

// countFallback counts a failure in the circuit itself, by compare-and-set,
// or in process-local state while the Store is unreachable.
func (b *Breaker) countFallback(ctx context.Context, t ticket, now time.Time) {
	b.update(ctx, false, func(c *circuit) bool {
		if c.Generation != t.generation || c.State != Closed {
			return false
		}
		return b.countLocal(c, now)
	})
}

// countKey is the key of the Store counter that counts the failures of the
// window that began at window in the given generation of the circuit.
func (b *Breaker) countKey(generation uint64, window int64) string {
	return "breaker.failures/" + b.set.Name + "/" + strconv.FormatUint(generation, 10) + "/" + strconv.FormatInt(window, 10)
}

func (b *Breaker) standDownOver(c circuit, now time.Time) bool {
	return now.Sub(time.Unix(0, c.OpenedAt)) >= b.set.OpenFor
}

// update applies change to the circuit: to the Store by compare-and-set,
// reading it again after every conflict, or to the process-local state when
// there is no Store or it has failed. change reports whether it changed the
// circuit; it may run several times, on fresher states. update reports
// whether the circuit holds the change (or change found nothing to change),
// false when it gave up.
//
// Each write runs on ctx without its cancellation, for at most
// StoreTimeout, so that a write, once sent, is seen through and its outcome
// known: a write cut off by the caller's deadline might take a trial slot,
// or count a failure, that no one would know of. Retries after conflicts go
// on, with a growing random back-off, for up to four times StoreTimeout in
// all; before the call (admission) they also stop when ctx is done.
func (b *Breaker) update(ctx context.Context, admission bool, change func(*circuit) bool) bool {
	wctx := context.WithoutCancel(ctx)
	var giveUp time.Time
	for attempt := 0; ; attempt++ {
		b.mu.Lock()
		cur, version := b.st, b.version
		if b.local || b.degraded {
			next := cur.clone()
			changed := change(&next)
			if changed {
				b.st = next
			}
			b.mu.Unlock()
			if changed {
				b.changed(cur.State, next.State)
			}
			return true
		}
		b.mu.Unlock()

		next := cur.clone()
		if !change(&next) {
			return true
		}
		value, err := json.Marshal(next)
		if err != nil {
			b.fallBack(wctx, err)
			continue
		}
		sctx, cancel := context.WithTimeout(wctx, b.set.StoreTimeout)
		newVersion, err := b.set.Store.CompareAndSet(sctx, b.key, version, value, b.ttl())
		cancel()
		switch {
		case err == nil:
			b.mu.Lock()
			b.st, b.version, b.readAt = next, newVersion, b.set.Now()
			b.mu.Unlock()
			b.changed(cur.State, next.State)
			return true
		case errors.Is(err, store.ErrConflict):
			// Another instance wrote first: read its state and apply the
			// change to that. Under heavy contention, back off a little,
			// with jitter, so that the writers spread out.
			if attempt == 0 {
				giveUp = time.Now().Add(4 * b.set.StoreTimeout)
			}
			if time.Now().After(giveUp) || admission && ctx.Err() != nil {
				b.logger().LogAttrs(ctx, slog.LevelWarn, "breaker: update abandoned after repeated conflicts",
					slog.String("breaker", b.set.Name), slog.Int("attempts", attempt+1))
				return false
			}
			if attempt >= 2 {
				backOff(attempt)
			}
			if err := b.read(wctx); err != nil {
				b.fallBack(wctx, err)
			}
		default:
			b.fallBack(wctx, err)
		}
	}
}

// backOff waits a random time that grows with attempt, up to 10 ms.
func backOff(attempt int) {
	limit := min(time.Duration(50<<min(attempt, 10))*time.Microsecond, 10*time.Millisecond)
	time.Sleep(rand.N(limit) + 1)
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
	outage := err != nil && ctx.Err() == nil // a read the caller cut short says nothing of the Store
	b.mu.Lock()
	b.refreshing = false
	if outage {
		// Try the Store again after Staleness, not on every call.
		b.readAt = now
	}
	b.mu.Unlock()
	if outage {
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
// it once per outage. The caller's call goes on regardless. ctx is the
// context of the failed Store call: when it is done, the failure is the
// caller's, not the Store's, and fallBack does nothing.
func (b *Breaker) fallBack(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
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
