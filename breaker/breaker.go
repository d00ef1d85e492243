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
	"sync/atomic"
	"time"

	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/internal/breakerclock"
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

// Settings configure a [Breaker]. The zero value of every field means the
// documented default, which are pyfuncify's.
type Settings struct {
	// Name names the circuit in logs and, with a Store, keys it there:
	// breakers that share a Store and a Name share one circuit, so give
	// each downstream a Name of its own (the empty Name is one circuit
	// too). The circuit is the Store item "breaker/" + Name; with a
	// [store.Counter], each window's failures are counted under
	// "breaker.failures/" + Name + "/<generation>/<window start, unix ns>".
	// The Store may put its own prefix before both: with redisstore's
	// default the circuit is the Redis hash "funcify:breaker/<Name>"; with
	// ssmstore, a parameter under its path, the key escaped.
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
	// write made the change; while the Store is unreachable, by the
	// breaker whose process-local state changed.
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
	// process-local state. Default 500 ms. Every Store call is also
	// bounded by the caller's deadline (a write after the call by 100 ms
	// before it), except one write after a call that returns within those
	// 100 ms or past the deadline. A write runs on the caller's context without its
	// cancellation (context.WithoutCancel), so that a caller who gave up
	// does not cut it off once sent. A write that the Store does not
	// confirm within StoreTimeout may still have been applied: see "Writes
	// the Store did not take" in the package documentation for what the
	// breaker does about it.
	StoreTimeout time.Duration
	// ConflictBudget bounds the retries of a write of the circuit after
	// compare-and-set conflicts with other instances. An update of the
	// circuit (taking a trial slot before a call, recording its outcome
	// after it) ends within StoreTimeout + ConflictBudget of its start,
	// and by the caller's deadline: each retry, a read and a write, starts
	// only while there is time left, each bounded by StoreTimeout and by
	// the time left. Retries back off a random moment, under 0.5 ms after
	// the first conflict and growing by 0.5 ms a retry to at most 4 ms, so
	// the budget holds a caller only while other instances keep winning
	// the race to write; there is no limit on their number but the budget.
	// Default 5 seconds, independent of StoreTimeout: when a downstream
	// fails, every instance reports at once, and with a Store that is not
	// a [store.Counter] each failure is one compare-and-set among theirs.
	//
	// An update that runs out of the budget is given up, and logged at
	// Warn ("breaker: update abandoned after repeated conflicts", or "add
	// abandoned" for a count a store.Counter did not get, with the
	// breaker's Name and the budget), unless the caller's deadline ended
	// it first, which says nothing of the Store. What is given up is not
	// lost, except a trial slot not taken:
	//   - taking a trial slot: the call is rejected with [ErrTrialLimit],
	//     as if the slots were taken (or with ctx's error when ctx ended);
	//   - a failure: it is kept pending in the process, and written when
	//     the Store next takes a write (see "Writes the Store did not
	//     take" in the package documentation);
	//   - a trial's outcome: it is remembered, and applied to the circuit
	//     in the Store, if that still holds the trial's slot, when the
	//     Store next answers;
	//   - an opening that a store.Counter's count called for: the next
	//     failure counted makes it.
	//
	// The writes of earlier outcomes that a read makes before the caller's
	// call do not use the budget: they get StoreTimeout from the read's
	// start and no retry after a conflict, and what they leave is written
	// after the call, within its budget.
	ConflictBudget time.Duration
	// Logger receives the line logged when the Store fails and the
	// breaker falls back to process-local state. Default slog.Default().
	Logger *slog.Logger

	// now returns the current time, time.Now unless set: by this
	// package's own tests, and through internal/breakerclock by funcify's
	// packages that inject a clock into a breaker they build (jwtauth,
	// token) or whose tests drive one (httpclient), so that tests move
	// time without sleeping. It is not exported: funcify injects time one
	// way, through unexported hooks.
	now func() time.Time
}

func init() {
	breakerclock.Register(func(settings any, now func() time.Time) {
		settings.(*Settings).now = now
	})
}

// Breaker is a circuit breaker. It is safe for concurrent use; build one per
// downstream with [New], at init, and share it across invocations.
type Breaker struct {
	set     Settings
	key     string
	local   bool          // no Store: the state lives here only
	counter store.Counter // the Store, when it counts failures atomically

	// wall tells the real time that bounds the Store calls of an update,
	// and pause waits between them: time.Now and time.Sleep, which tests
	// replace to run an update's budget without waiting for it.
	wall  func() time.Time
	pause func(time.Duration)

	// owed is set when the work before a call (see refresh) left failures
	// pending or trial outcomes unsettled: the report after the call
	// takes them up.
	owed atomic.Bool

	mu         sync.Mutex   // guards the fields below
	st         circuit      // the last state known
	version    int64        // the Store's version of st
	readAt     time.Time    // when st was read from or written to the Store
	ownWrite   bool         // st is this breaker's own write, not read since
	refreshing bool         // a Store read is under way
	degraded   bool         // the Store failed: running on process-local state
	noCounter  bool         // the Store's Add is unsupported: count by compare-and-set
	unsettled  []trialWrite // trials whose slot the Store may hold unbeknown to it
	pending    []pending    // failures the Store does not hold yet

	skewMu sync.Mutex // guards skew; taken only for an OpenedAt in the future
	skew   futureOpen // the last circuit seen opened after this breaker's now
}

// futureOpen records a circuit whose OpenedAt, written by an instance whose
// clock runs ahead, was in the future when this breaker first saw it, at
// seen (unix nanoseconds): its stand-down is reckoned from seen.
type futureOpen struct {
	generation uint64
	openedAt   int64
	seen       int64
}

// pending counts failures that could not be written to the Store: the
// Store failed or was degraded, or the budget of their report ran out
// before a write of them was made. They are written when the Store answers
// again (see flush).
type pending struct {
	generation uint64 // the generation of the circuit the calls were admitted in
	window     int64  // the start of the window they were counted in, unix nanoseconds
	n          int
	// nonce, if not 0, is that of a write of these failures that the Store
	// reported as a conflict and that could not be read back: the Store
	// may have applied it. The next read decides (see reconcile).
	nonce uint64
}

// circuit is the state of a circuit, as kept in the Store.
type circuit struct {
	State      State  `json:"s"`
	Generation uint64 `json:"g"`
	// Failures counts the failures of the window that were counted in
	// the circuit itself, by compare-and-set: all of them with a Store
	// that is not a store.Counter, and otherwise those counted while the
	// Store's Add was unusable, or by an instance that counts so. With a
	// store.Counter the rest are in a counter of the Store's own (see
	// countKey), and the window's count is the sum of the two.
	Failures    int     `json:"f,omitempty"`
	WindowStart int64   `json:"w,omitempty"` // unix nanoseconds of the first failure counted
	OpenedAt    int64   `json:"o,omitempty"` // unix nanoseconds
	Trials      []trial `json:"t,omitempty"`
	// Nonce is random, new with each write: a breaker that finds its own
	// nonce in the circuit it reads after a conflict knows that the Store
	// applied the write it reported as a conflict.
	Nonce uint64 `json:"n,omitempty"`
}

// trialWrite is a trial whose slot the Store may hold without this breaker
// knowing it: a write that took its slot got no answer, or was reported as
// a conflict that could not be checked, or the trial's outcome went to
// process-local state only or was not written at all. The breaker settles
// it (see settle) when the Store answers again.
type trialWrite struct {
	id      uint64
	since   time.Time // when the trial was admitted
	outcome outcome   // running while the call goes on
	at      time.Time // when the outcome was reported
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
	if s.ConflictBudget <= 0 {
		s.ConflictBudget = 5 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	b := &Breaker{set: s, key: "breaker/" + s.Name, local: s.Store == nil, wall: time.Now, pause: time.Sleep}
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
	if b.st.State == Open && b.standDownOver(b.st, b.set.now()) {
		return HalfOpen
	}
	return b.st.State
}

// Err returns the error a call would be refused with now, without making
// the call: an [*OpenError] (matching ErrOpen, with what is left of the
// stand-down as RetryAfter) while the circuit is open; nil when a call
// would be admitted or become a half-open trial (which a full set of
// trials may still refuse). It reads the Store as [Breaker.State] does. A
// caller that holds back work of its own while the circuit is open (a
// lease, a queue) returns it, so that its HTTP caller learns when to come
// back.
func (b *Breaker) Err(ctx context.Context) error {
	b.refresh(ctx)
	now := b.set.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st.State != Open || b.standDownOver(b.st, now) {
		return nil
	}
	return b.openError(b.opened(b.st.Generation, b.st.OpenedAt, now), now)
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
	running                  // no outcome yet: the call goes on
)

// Execute calls fn through b: it returns an error matching ErrOpen at once
// while the circuit rejects calls (an [*OpenError] while it stands down,
// [ErrTrialLimit] while its trial slots are taken), and otherwise fn's
// result, after counting fn's error if it is a failure. A panic in fn
// counts as a failure and is re-panicked. An error caused by ctx being done
// does not count; if the call was a half-open circuit's trial, it gives its
// slot back and the circuit stays half-open. A trial is not started on a
// ctx that is already done: Execute returns ctx.Err() instead.
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

// Do calls fn through b, as [Execute] does, for a call that returns only an
// error: an error matching ErrOpen at once while the circuit rejects calls,
// and otherwise fn's error, after counting it if it is a failure. A panic in
// fn counts as a failure and is re-panicked.
func Do(ctx context.Context, b *Breaker, fn func(context.Context) error) error {
	_, err := Execute(ctx, b, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// outcome classifies the error of a call made with ctx.
func (b *Breaker) outcome(ctx context.Context, err error) outcome {
	switch {
	case err == nil:
		return succeeded
	case attempt.EndedByCaller(ctx, err):
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
	now := b.set.now()
	if state == Open {
		if opened := b.opened(generation, openedAt, now); now.Sub(opened) < b.set.OpenFor {
			return ticket{}, b.openError(opened, now)
		}
	}
	if err := ctx.Err(); err != nil {
		return ticket{}, err // a trial on a done context would tell nothing
	}

	// Half-open, or open with the stand-down over: take a trial slot.
	id := rand.Uint64() | 1
	var admitted ticket
	var rejected error
	bud := b.newBudget(ctx, 0, false)
	res, d := b.update(ctx, admitting, &bud, func(c *circuit) bool {
		admitted, rejected = ticket{}, nil
		switch {
		case c.State == Closed:
			// Closed meanwhile by another trial.
			admitted = ticket{generation: c.Generation}
			return false
		case c.State == Open && !b.standDownOver(*c, now):
			rejected = b.openError(b.opened(c.Generation, c.OpenedAt, now), now)
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
	var err error
	switch {
	case res == gaveUp && ctx.Err() != nil:
		err = ctx.Err()
	case res == gaveUp:
		err = ErrTrialLimit // others kept the Store busy
	case rejected != nil:
		err = rejected
	}
	if d != sure {
		// A write that took the slot got no answer, failed, or was
		// reported as a conflict that update could not check (the
		// caller's context ended first): the Store may hold the slot.
		// Remember the trial, to give its slot back or record its
		// outcome there when the Store answers again.
		o := cutOff
		if err == nil && admitted.trial == id {
			o = running
		}
		b.unconfirmed(trialWrite{id: id, since: now, outcome: o, at: now})
	}
	if err != nil {
		return ticket{}, err
	}
	return admitted, nil
}

// report records the outcome of an admitted call.
//
// Its Store work ends within StoreTimeout + ConflictBudget, and
// deadlineMargin before the caller's deadline; when less than that is left,
// or the deadline has passed, it makes one write, bounded by StoreTimeout. What it could
// not write is not lost: a failure is kept pending (see keep), a trial's
// outcome is remembered (see settle), and both are written when the Store
// answers again.
func (b *Breaker) report(ctx context.Context, t ticket, o outcome) {
	if t.trial == 0 && o != failed {
		// Only a failure changes a closed circuit; but what the work
		// before the call left is written now.
		if b.owed.Load() {
			b.catchUp(ctx)
		}
		return
	}
	now := b.set.now()
	bud := b.newBudget(ctx, deadlineMargin, true)
	if t.trial == 0 {
		if b.count(ctx, t.generation, 1, now.UnixNano(), &bud) && b.hasPending() {
			b.flush(ctx, &bud) // the Store answers: write what it missed
		}
		return
	}
	res, _ := b.update(ctx, reporting, &bud, func(c *circuit) bool {
		if c.Generation != t.generation || c.State != HalfOpen {
			return false // the circuit changed since the call began: stale
		}
		return conclude(c, t.trial, o, now)
	})
	if b.local {
		return
	}
	b.mu.Lock()
	i := slices.IndexFunc(b.unsettled, func(w trialWrite) bool { return w.id == t.trial })
	if res == inStore {
		// The Store holds the outcome (or had nothing of this trial).
		if i >= 0 {
			b.unsettled = slices.Delete(b.unsettled, i, i+1)
		}
		b.mu.Unlock()
		return
	}
	// The outcome went to process-local state only (the Store failed, now
	// or during the call), or nowhere (the budget ran out), while the Store
	// may hold the trial's slot: remember it, and record it there if the
	// Store answers now, or else when it answers again.
	if i < 0 {
		b.unsettled = append(b.unsettled, trialWrite{id: t.trial, since: now})
		i = len(b.unsettled) - 1
	}
	b.unsettled[i].outcome, b.unsettled[i].at = o, now
	b.mu.Unlock()
	b.settle(ctx, &bud)
}

// conclude applies the outcome o of the trial id to the half-open circuit
// c at now, and reports whether it changed c: a success closes c, a failure
// opens it again, and a trial cut off gives its slot back, if c holds it.
func conclude(c *circuit, id uint64, o outcome, now time.Time) bool {
	switch o {
	case cutOff:
		// The trial says nothing: give its slot back.
		i := slices.IndexFunc(c.Trials, func(tr trial) bool { return tr.ID == id })
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

// unconfirmed remembers a trial whose slot the Store may hold, after a
// write that took the slot was not confirmed. Trials older than
// TrialTimeout are forgotten: the Store frees their slots by then.
func (b *Breaker) unconfirmed(w trialWrite) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unsettled = slices.DeleteFunc(b.unsettled, func(u trialWrite) bool {
		return u.id == w.id || w.since.Sub(u.since) >= b.set.TrialTimeout
	})
	b.unsettled = append(b.unsettled, w)
}

// settle records in the Store the outcomes of trials that it may hold
// unbeknown to it (see trialWrite), once they are known: where the
// circuit in the Store still holds such a trial's slot, the outcome is
// applied to it by compare-and-set, as report would have. OnStateChange is
// not called again: the change was reported when it was made locally.
// Trials still running wait for their outcome; those settled, or older than
// TrialTimeout, are forgotten; the others wait for the Store to answer
// again (see refresh).
func (b *Breaker) settle(ctx context.Context, bud *budget) {
	now := b.set.now()
	b.mu.Lock()
	var due []trialWrite
	b.unsettled = slices.DeleteFunc(b.unsettled, func(w trialWrite) bool {
		switch {
		case now.Sub(w.since) >= b.set.TrialTimeout:
			return true
		case w.outcome == running:
			return false
		}
		due = append(due, w)
		return true
	})
	degraded := b.degraded
	b.mu.Unlock()
	if len(due) == 0 {
		return
	}
	var left []trialWrite
	defer func() {
		b.mu.Lock()
		b.unsettled = append(b.unsettled, left...)
		b.mu.Unlock()
	}()
	if degraded {
		// Find out whether the Store answers again.
		deadline, byBudget, ok := bud.call(b.wall(), b.set.StoreTimeout, false)
		if !ok {
			left = due
			return
		}
		wctx := context.WithoutCancel(ctx)
		if err := b.read(wctx, deadline); err != nil {
			if !byBudget || b.wall().Before(deadline) {
				b.fallBack(wctx, err)
			}
			left = due
			return
		}
	}
	for _, w := range due {
		res, _ := b.update(ctx, settling, bud, func(c *circuit) bool {
			if c.State != HalfOpen || !slices.ContainsFunc(c.Trials, func(tr trial) bool { return tr.ID == w.id }) {
				return false // the Store does not hold the trial
			}
			return conclude(c, w.id, w.outcome, w.at)
		})
		if res != inStore {
			left = append(left, w)
		}
	}
}

// count counts n failures of calls admitted in generation gen of a closed
// circuit, in the window live in the Store, or else in a new window that
// starts at start (unix nanoseconds): the failure's time, or that of the
// window in which pending failures were counted. It reports whether the
// Store answered: it holds the failures, or they were stale.
//
// With a Store that is a store.Counter, the failures are added to a counter
// of the window: concurrent failures on every instance then never
// conflict. Only the start of a window and the opening of the circuit are
// compare-and-sets, each made once, by one instance, and retried by the
// others only to see that it was made. The window's count is the counter
// plus the circuit's Failures, which an instance that counts by
// compare-and-set adds to; and a window is restarted only when it has
// ended, so that a window holding a counter is never replaced by another.
//
// Failures that could not be written are kept pending (see keep), except
// those of a write that got no answer: the Store may have applied it, and
// writing them again would count them twice.
//
// n may be 0, to check a window's count against the threshold (see
// recheck): it then starts no window.
func (b *Breaker) count(ctx context.Context, gen uint64, n int, start int64, bud *budget) bool {
	now := b.set.now()
	if !b.counting() || (bud.last && !b.liveWindow(gen, now)) {
		// Past the caller's deadline, with no window known, the one
		// write counts the failures in the circuit, starting a window.
		return b.countInCircuit(ctx, gen, n, start, bud, true)
	}
	var window int64
	var failures int
	res, _ := b.update(ctx, reporting, bud, func(c *circuit) bool {
		window, failures = 0, 0
		if c.Generation != gen || c.State != Closed {
			return false // stale
		}
		if b.inWindow(c, now) {
			window, failures = c.WindowStart, c.Failures
			return false
		}
		if n == 0 {
			return false // nothing to check
		}
		c.Failures, c.WindowStart = 0, start
		window = start
		return true
	})
	switch {
	case res == gaveUp:
		b.keep(gen, start, n, 0) // the window's start is not known to be written
		return false
	case res == inLocal || !b.counting():
		return b.countInCircuit(ctx, gen, n, start, bud, true) // the Store failed meanwhile
	case window == 0:
		return true
	}
	deadline, byBudget, ok := bud.call(b.wall(), b.set.StoreTimeout, true)
	if !ok {
		b.abandon(ctx, "add", bud)
		b.keep(gen, window, n, 0)
		return false
	}
	wctx := context.WithoutCancel(ctx)
	sctx, cancel := context.WithDeadline(wctx, deadline)
	total, err := b.counter.Add(sctx, b.countKey(gen, window), int64(n), b.set.Window+time.Minute)
	cancel()
	if err != nil {
		unanswered := !b.wall().Before(deadline)
		switch {
		case unanswered && byBudget:
			b.abandon(ctx, "add", bud) // cut off by the budget, not a Store outage
			return false
		case errors.Is(err, errors.ErrUnsupported):
			b.mu.Lock()
			b.noCounter = true
			b.mu.Unlock()
			return b.countInCircuit(ctx, gen, n, window, bud, true)
		case !b.fallBack(wctx, err):
			return false
		}
		// Count them in process-local state, and keep them pending
		// unless the Add may have been applied.
		b.countInCircuit(ctx, gen, n, window, bud, !unanswered)
		return false
	}
	threshold := int64(b.set.FailureThreshold)
	if total+int64(failures) < threshold {
		return true
	}
	// An opening given up here is made by the next failure counted.
	b.update(ctx, reporting, bud, func(c *circuit) bool {
		if c.Generation != gen || c.State != Closed || c.WindowStart != window || total+int64(c.Failures) < threshold {
			return false // opened already, or a new window
		}
		*c = circuit{State: Open, Generation: c.Generation + 1, OpenedAt: now.UnixNano()}
		return true
	})
	return true
}

// countInCircuit counts n failures in the circuit itself, by
// compare-and-set, or in process-local state while the Store is
// unreachable. With keep, failures that the Store does not hold then, and
// that no unanswered write may have given it, are kept pending. It reports
// whether the Store holds them (or found them stale).
func (b *Breaker) countInCircuit(ctx context.Context, gen uint64, n int, start int64, bud *budget, keep bool) bool {
	if n <= 0 {
		return true
	}
	b.mu.Lock()
	reread := b.ownWrite && !b.local && !b.degraded
	b.mu.Unlock()
	if reread {
		if deadline, byBudget, ok := bud.call(b.wall(), b.set.StoreTimeout, false); ok && !byBudget {
			// This breaker's copy is its own last write. Read the
			// circuit first, as the instances whose writes lost to that
			// one have done: writing from its copy at once, it would win
			// every round against them while its failures keep coming,
			// and they could only retry until their budget ran out.
			wctx := context.WithoutCancel(ctx)
			if err := b.read(wctx, deadline); err != nil && !b.fallBack(wctx, err) {
				return false
			}
		}
	}
	now := b.set.now()
	res, d, nonce := b.updateNonce(ctx, reporting, bud, func(c *circuit) bool {
		if c.Generation != gen || c.State != Closed {
			return false
		}
		return b.countLocal(c, n, start, now)
	})
	if res == inStore {
		return true
	}
	if keep && d != unanswered {
		b.keep(gen, start, n, nonce)
	}
	return false
}

// countLocal counts n failures at now in the closed circuit c, in c itself,
// starting a window at start if c has none live, and opens c when its own
// count reaches the threshold. It reports whether it changed c.
//
// It sees only the circuit's own count: where instances that count with a
// store.Counter share the circuit, the failures in their counter are not
// in it, and a threshold crossed by the two added up is found by the next
// of them to read the circuit (see recheck).
func (b *Breaker) countLocal(c *circuit, n int, start int64, now time.Time) bool {
	if !b.inWindow(c, now) {
		c.Failures, c.WindowStart = 0, start
	}
	c.Failures += n
	if c.Failures >= b.set.FailureThreshold {
		*c = circuit{State: Open, Generation: c.Generation + 1, OpenedAt: now.UnixNano()}
	}
	return true
}

// inWindow reports whether c has a window of failures that has not ended at
// now. A window holding no failure of the circuit's own may hold a counter's.
func (b *Breaker) inWindow(c *circuit, now time.Time) bool {
	return c.WindowStart != 0 && now.Sub(time.Unix(0, c.WindowStart)) <= b.set.Window
}

// liveWindow reports whether this breaker's copy is the closed circuit of
// generation gen with a window live at now.
func (b *Breaker) liveWindow(gen uint64, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.Generation == gen && b.st.State == Closed && b.inWindow(&b.st, now)
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

// countKey is the key of the Store counter that counts the failures of the
// window that began at window in the given generation of the circuit.
func (b *Breaker) countKey(generation uint64, window int64) string {
	return "breaker.failures/" + b.set.Name + "/" + strconv.FormatUint(generation, 10) + "/" + strconv.FormatInt(window, 10)
}

// keep keeps n failures pending: failures of calls admitted in generation
// gen, at start (unix nanoseconds), that the Store does not hold. They are
// counted in the window of this breaker's copy if it is live, and else in
// one that starts at start, merged with others of the same generation and
// window. Pending failures whose window has ended are dropped: they no
// longer count.
func (b *Breaker) keep(gen uint64, start int64, n int, nonce uint64) {
	if n <= 0 || b.local {
		return
	}
	now := b.set.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	window := start
	if c := &b.st; c.Generation == gen && c.State == Closed && b.inWindow(c, now) && c.WindowStart < window {
		window = c.WindowStart
	}
	b.pending = slices.DeleteFunc(b.pending, func(p pending) bool {
		return now.Sub(time.Unix(0, p.window)) > b.set.Window
	})
	for i := range b.pending {
		if p := &b.pending[i]; p.generation == gen && p.window == window && p.nonce == nonce {
			p.n += n
			return
		}
	}
	b.pending = append(b.pending, pending{generation: gen, window: window, n: n, nonce: nonce})
}

func (b *Breaker) hasPending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending) != 0
}

// flush writes the pending failures to the Store, once it answers again,
// as count writes a failure: added to the window's counter (or to the
// circuit's count without a store.Counter), opening the circuit if the
// window's count reaches the threshold. Failures of a generation that the
// circuit in the Store has left, like any outcome of an earlier
// generation, and those whose window has ended, are dropped; those that
// cannot be written now are kept again.
func (b *Breaker) flush(ctx context.Context, bud *budget) {
	b.mu.Lock()
	due := b.pending
	b.pending = nil
	b.mu.Unlock()
	now := b.set.now()
	for _, p := range due {
		switch {
		case now.Sub(time.Unix(0, p.window)) > b.set.Window:
		case p.nonce != 0:
			// Not read back yet: the Store may hold them already.
			b.keep(p.generation, p.window, p.n, p.nonce)
		default:
			b.count(ctx, p.generation, p.n, p.window, bud)
		}
	}
}

// reconcile decides, on a circuit c just read from the Store, the pending
// failures whose write was reported as a conflict and not read back: if c
// carries that write's nonce, the Store applied it, and they are dropped;
// otherwise they are taken as not applied, and written as any pending
// failure. b.mu is held.
//
// A write applied and then overwritten by another instance before this
// read is taken as not applied, and its failures are counted twice: the
// circuit keeps only its last writer's nonce.
func (b *Breaker) reconcile(c *circuit) {
	b.pending = slices.DeleteFunc(b.pending, func(p pending) bool {
		return p.nonce != 0 && p.nonce == c.Nonce
	})
	for i := range b.pending {
		b.pending[i].nonce = 0
	}
}

// recheck opens the circuit when this breaker, which counts failures with
// a store.Counter, reads a closed circuit whose own count grew since its
// copy: an instance that counts by compare-and-set sees only the circuit's
// count, and may have brought the window's count (the counter plus the
// circuit's) to the threshold without knowing it. prev is the copy before
// the read.
func (b *Breaker) recheck(ctx context.Context, prev circuit, bud *budget) {
	if !b.counting() {
		return
	}
	now := b.set.now()
	b.mu.Lock()
	c := b.st
	b.mu.Unlock()
	if c.State != Closed || c.Failures == 0 || !b.inWindow(&c, now) ||
		c.Generation == prev.Generation && c.WindowStart == prev.WindowStart && c.Failures <= prev.Failures {
		return
	}
	b.count(ctx, c.Generation, 0, c.WindowStart, bud)
}

// openError returns the error that rejects a call at now, while the
// circuit opened at opened stands down. Its RetryAfter is within
// [0, OpenFor] whatever the clocks say.
func (b *Breaker) openError(opened, now time.Time) error {
	left := opened.Add(b.set.OpenFor).Sub(now)
	return &OpenError{RetryAfter: min(max(left, 0), b.set.OpenFor)}
}

// standDownOver reports whether the open circuit c's stand-down is over at
// now.
func (b *Breaker) standDownOver(c circuit, now time.Time) bool {
	return now.Sub(b.opened(c.Generation, c.OpenedAt, now)) >= b.set.OpenFor
}

// opened returns when the circuit of generation gen, which says it opened
// at openedAt (unix nanoseconds, another instance's clock maybe), opened
// for this breaker's stand-down. An openedAt after now, written by an
// instance whose clock runs ahead, counts as the moment this breaker first
// saw it, for the whole stand-down, so that the writer's skew does not
// lengthen the stand-down past OpenFor on this breaker's clock.
func (b *Breaker) opened(gen uint64, openedAt int64, now time.Time) time.Time {
	b.skewMu.Lock()
	defer b.skewMu.Unlock()
	if b.skew.generation == gen && b.skew.openedAt == openedAt && b.skew.seen != 0 {
		// Seen in the future before: the moment it was first seen holds
		// for the whole stand-down, even once this clock has passed
		// openedAt, so a skew shorter than OpenFor does not lengthen it
		// either.
		return time.Unix(0, b.skew.seen)
	}
	if openedAt <= now.UnixNano() {
		return time.Unix(0, openedAt)
	}
	b.skew = futureOpen{generation: gen, openedAt: openedAt, seen: now.UnixNano()}
	return time.Unix(0, b.skew.seen)
}

// updateKind says what an update is for.
type updateKind int

const (
	reporting updateKind = iota // records the outcome of a call
	admitting                   // takes a trial slot: stops too when the caller's ctx is done
	settling                    // writes to the Store a change made locally: the Store only, reported already
)

// where tells where an update left its change.
type where int

const (
	inStore where = iota // the Store holds the change, or change found nothing to change
	inLocal              // process-local state holds it: there is no Store, or it failed
	gaveUp               // nowhere: update gave up
)

// doubt tells what an update knows of its last write, when the Store did
// not confirm it.
type doubt int

const (
	sure        doubt = iota // the Store confirmed the write, or no write was made
	unverified               // reported as a conflict, and not read back: a Store may report its own write so
	writeFailed              // failed: most likely not applied
	unanswered               // cut off by its bound: applied if the Store got it
)

// deadlineMargin is the time that Store work after a call leaves before
// the caller's deadline, for the caller to answer.
const deadlineMargin = 100 * time.Millisecond

// budget bounds the Store work of an update, or of the updates of one
// admission or report: no Store call starts at or after end, and each ends
// by it.
type budget struct {
	end      time.Time
	byCaller bool // end is the caller's deadline: running out of it says nothing of the Store
	last     bool // the caller's deadline is less than the margin away or past: one write, bounded by StoreTimeout, and no read
	spent    bool // last: the one write was made
	once     bool // before the call: a write that conflicts is read back, not retried
}

// newBudget returns the budget of Store work that starts now for a caller
// with ctx: StoreTimeout + ConflictBudget, ending at the latest margin
// before the caller's deadline. With lastWrite, a caller with less than
// margin left before its deadline, or past it, gets one write, bounded by
// StoreTimeout, for an outcome that must be recorded; otherwise it gets
// none. (Granting the write only past the deadline left the last margin
// with no write at all: a trial that succeeded there kept its slot in the
// Store for TrialTimeout.)
func (b *Breaker) newBudget(ctx context.Context, margin time.Duration, lastWrite bool) budget {
	now := b.wall()
	bud := budget{end: now.Add(b.set.StoreTimeout + b.set.ConflictBudget)}
	deadline, ok := ctx.Deadline()
	if !ok {
		return bud
	}
	if lastWrite && !now.Before(deadline.Add(-margin)) {
		return budget{end: now.Add(b.set.StoreTimeout), byCaller: true, last: true}
	}
	if d := deadline.Add(-margin); d.Before(bud.end) {
		bud.end, bud.byCaller = d, true
	}
	return bud
}

// preCallBudget returns the budget of the writes that refresh makes before
// the caller's call, after a read that began at start: StoreTimeout from
// start, ending at the latest deadlineMargin before the caller's deadline,
// without retries after a conflict. These writes are of failures and trial
// outcomes of earlier calls; the caller's own call must not wait for them
// more than about a Store call. What they leave stays pending, for the
// report after the call or a later read.
func (b *Breaker) preCallBudget(ctx context.Context, start time.Time) budget {
	bud := budget{end: start.Add(b.set.StoreTimeout), once: true}
	if deadline, ok := ctx.Deadline(); ok {
		if d := deadline.Add(-deadlineMargin); d.Before(bud.end) {
			bud.end, bud.byCaller = d, true
		}
	}
	return bud
}

// call returns the deadline of a Store call (a write, or a read) that
// starts at now under bud: timeout from now, or the budget's end if sooner,
// and then byBudget: a call cut off by the budget is an update put off, not
// a Store outage. ok is false when no call may start: the budget has ended,
// or the caller's deadline has passed and the call is a read or a second
// write.
func (bud *budget) call(now time.Time, timeout time.Duration, write bool) (deadline time.Time, byBudget, ok bool) {
	if bud.last {
		if !write || bud.spent {
			return time.Time{}, false, false
		}
		bud.spent = true
	}
	if !bud.end.After(now) {
		return time.Time{}, false, false
	}
	deadline = now.Add(timeout)
	if deadline.After(bud.end) {
		return bud.end, true, true
	}
	return deadline, false, true
}

// update applies change to the circuit: to the Store by compare-and-set,
// reading it again after every conflict, or to the process-local state when
// there is no Store or it has failed. change reports whether it changed the
// circuit; it may run several times, on fresher states. update reports
// where the change went, and what it knows of its last write when the Store
// did not confirm it.
//
// Each write runs on ctx without its cancellation, so that a write, once
// sent, is not cut off by the caller: it might take a trial slot, or count
// a failure, that no one would know of. Each read and write starts only
// within bud, bounded by StoreTimeout and by the time left; retries after
// conflicts back off a random moment, and the update gives up when bud has
// no time left; before the call (admitting) retries also stop when ctx is
// done. A write whose nonce is in the circuit read after a conflict was
// applied, whatever the Store said.
func (b *Breaker) update(ctx context.Context, kind updateKind, bud *budget, change func(*circuit) bool) (where, doubt) {
	res, d, _ := b.updateNonce(ctx, kind, bud, change)
	return res, d
}

// updateNonce is update, and returns too, when the last write is
// unverified, that write's nonce: the circuit carries it if the Store
// applied the write.
func (b *Breaker) updateNonce(ctx context.Context, kind updateKind, bud *budget, change func(*circuit) bool) (_ where, d doubt, nonce uint64) {
	wctx := context.WithoutCancel(ctx)
	var sent circuit // the last write, which the Store reported as a conflict
	var from State   // the state sent replaced
	defer func() {
		if d == unverified {
			nonce = sent.Nonce
		}
	}()
	d = sure
	for attempt := 0; ; attempt++ {
		b.mu.Lock()
		cur, version := b.st, b.version
		if b.local || b.degraded {
			if kind == settling {
				b.mu.Unlock()
				return inLocal, d, 0
			}
			next := cur.clone()
			changed := change(&next)
			if changed {
				b.st = next
			}
			b.mu.Unlock()
			if changed {
				b.changed(cur.State, next.State)
			}
			return inLocal, d, 0
		}
		b.mu.Unlock()

		if sent.Nonce != 0 {
			if cur.Nonce == sent.Nonce {
				// The Store applied the write that it reported as a
				// conflict (its reply was lost and the client sent it
				// again, say): the circuit read back is that write.
				if kind != settling {
					b.changed(from, sent.State)
				}
				return inStore, sure, 0
			}
			sent, d = circuit{}, sure // read back: not applied
			if bud.once {
				return gaveUp, d, 0 // no retry before the call
			}
		}
		next := cur.clone()
		if !change(&next) {
			return inStore, sure, 0
		}
		next.Nonce = rand.Uint64() | 1
		value, err := json.Marshal(next)
		if err != nil {
			// A circuit always encodes; should it not, give up rather
			// than write something else.
			b.logger().LogAttrs(ctx, slog.LevelError, "breaker: encoding the circuit",
				slog.String("breaker", b.set.Name), slog.String("error", err.Error()))
			return gaveUp, d, 0
		}
		deadline, byBudget, ok := bud.call(b.wall(), b.set.StoreTimeout, true)
		if !ok {
			b.abandon(ctx, "update", bud)
			return gaveUp, d, 0
		}
		sctx, cancel := context.WithDeadline(wctx, deadline)
		newVersion, err := b.set.Store.CompareAndSet(sctx, b.key, version, value, b.ttl())
		cancel()
		switch {
		case err == nil:
			b.mu.Lock()
			b.st, b.version, b.readAt, b.ownWrite = next, newVersion, b.set.now(), true
			b.mu.Unlock()
			if kind != settling {
				b.changed(cur.State, next.State)
			}
			return inStore, sure, 0
		case errors.Is(err, store.ErrConflict):
			// Another instance wrote first: read its state and apply the
			// change to that, after a random moment that spreads the
			// writers out.
			sent, from, d = next, cur.State, unverified
			if kind == admitting && ctx.Err() != nil {
				return gaveUp, d, 0
			}
			b.pause(backOff(attempt))
			deadline, byBudget, ok := bud.call(b.wall(), b.set.StoreTimeout, false)
			if !ok {
				b.abandon(ctx, "update", bud)
				return gaveUp, d, 0
			}
			if err := b.read(wctx, deadline); err != nil {
				if byBudget && !b.wall().Before(deadline) {
					b.abandon(ctx, "update", bud)
					return gaveUp, d, 0
				}
				if !b.fallBack(wctx, err) {
					return gaveUp, d, 0
				}
			}
		case !b.wall().Before(deadline):
			// No answer within the call's bound: the Store may have
			// applied the write or not.
			sent, d = circuit{}, unanswered
			if byBudget {
				// Cut off by the budget, not for want of a Store.
				b.abandon(ctx, "update", bud)
				return gaveUp, d, 0
			}
			if !b.fallBack(wctx, err) {
				return gaveUp, d, 0 // never spin on a Store that cannot be left
			}
		default:
			// A failure: go on with process-local state.
			sent, d = circuit{}, writeFailed
			if !b.fallBack(wctx, err) {
				return gaveUp, d, 0
			}
		}
	}
}

// backOff returns a random wait before the retry that follows attempt:
// under a millisecond at first, growing to at most 4 ms, so that writers
// that conflicted spread out without waiting long.
func backOff(attempt int) time.Duration {
	limit := time.Duration(min(attempt+1, 8)) * 500 * time.Microsecond
	return rand.N(limit) + 1
}

// abandon logs an update given up after conflicts filled its budget. An
// update that the caller's deadline cut short is not logged: the caller's
// own lack of time says nothing of the Store. Either way nothing is lost:
// a failure is kept pending, a trial's outcome remembered.
func (b *Breaker) abandon(ctx context.Context, what string, bud *budget) {
	if bud.byCaller {
		return
	}
	b.logger().LogAttrs(ctx, slog.LevelWarn, "breaker: "+what+" abandoned after repeated conflicts",
		slog.String("breaker", b.set.Name), slog.Duration("budget", b.set.ConflictBudget))
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
// they have. When the Store answers, what it missed is written: the
// outcomes of trials it may hold unbeknown to it, and pending failures;
// and a count that an instance counting by compare-and-set may have taken
// to the threshold is checked (see recheck). That work, before the
// caller's call, ends StoreTimeout after the read began, and deadlineMargin
// before the caller's deadline, and retries no conflict (see
// preCallBudget); what it leaves, the report after the call takes up (see
// catchUp).
func (b *Breaker) refresh(ctx context.Context) {
	if b.local {
		return
	}
	now := b.set.now()
	b.mu.Lock()
	if b.refreshing || now.Sub(b.readAt) < b.set.Staleness {
		b.mu.Unlock()
		return
	}
	b.refreshing = true
	prev := b.st
	b.mu.Unlock()
	start := b.wall()
	err := b.read(ctx, start.Add(b.set.StoreTimeout))
	outage := err != nil && !b.endedByCaller(ctx) // a read the caller cut short says nothing of the Store
	b.mu.Lock()
	b.refreshing = false
	if outage {
		// Try the Store again after Staleness, not on every call.
		b.readAt = now
	}
	due := err == nil && (len(b.unsettled) != 0 || len(b.pending) != 0)
	b.mu.Unlock()
	if outage {
		b.fallBack(ctx, err)
	}
	if err != nil {
		return
	}
	bud := b.preCallBudget(ctx, start)
	b.recheck(ctx, prev, &bud)
	if due {
		b.settle(ctx, &bud)
		b.flush(ctx, &bud)
		if b.owing() {
			b.owed.Store(true)
		}
	}
}

// catchUp writes, after a call, what the work before it left: pending
// failures and trial outcomes the Store does not hold yet, within the
// report's budget (but for the one write past the caller's deadline, which
// is for the call's own outcome).
func (b *Breaker) catchUp(ctx context.Context) {
	if !b.owed.CompareAndSwap(true, false) {
		return
	}
	bud := b.newBudget(ctx, deadlineMargin, false)
	b.settle(ctx, &bud)
	b.flush(ctx, &bud)
}

// owing reports whether failures are pending or trial outcomes known but
// not settled in the Store.
func (b *Breaker) owing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending) != 0 || slices.ContainsFunc(b.unsettled, func(w trialWrite) bool { return w.outcome != running })
}

// endedByCaller reports whether ctx has ended: it is done, or the wall
// clock has reached its deadline. A Store client that sets its connection's
// deadline from ctx's (go-redis does) fails with an i/o timeout at that
// moment, which may come before ctx's own timer marks it done; such a
// failure is the caller's doing, not the Store's.
func (b *Breaker) endedByCaller(ctx context.Context) bool {
	return attempt.Ended(ctx, b.wall())
}

// read replaces this breaker's copy of the circuit with the Store's, by
// deadline at the latest.
func (b *Breaker) read(ctx context.Context, deadline time.Time) error {
	sctx, cancel := context.WithDeadline(ctx, deadline)
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
	b.st, b.version, b.readAt, b.ownWrite = c, it.Version, b.set.now(), false
	if len(b.pending) != 0 {
		b.reconcile(&c)
	}
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
// caller's, not the Store's, and fallBack does nothing. It reports whether
// the breaker now runs on process-local state.
func (b *Breaker) fallBack(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	b.mu.Lock()
	first := !b.degraded
	b.degraded = true
	b.mu.Unlock()
	if first {
		b.logger().LogAttrs(ctx, slog.LevelWarn, "breaker: store unavailable, using process-local state",
			slog.String("breaker", b.set.Name), slog.String("error", err.Error()))
	}
	return true
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
