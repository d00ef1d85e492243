// Package breaker is a circuit breaker whose state can be shared by every
// instance of a function without lost updates.
//
//	var orders = breaker.New(breaker.Settings{Name: "orders-api", Store: shared})
//
//	func fetch(ctx context.Context, id string) (*Order, error) {
//		return breaker.Execute(ctx, orders, func(ctx context.Context) (*Order, error) {
//			return client.GetOrder(ctx, id)
//		})
//	}
//
//	func cancel(ctx context.Context, id string) error {
//		return breaker.Do(ctx, orders, func(ctx context.Context) error {
//			return client.CancelOrder(ctx, id)
//		})
//	}
//
// # States
//
// A circuit starts [Closed] and counts failures: FailureThreshold failures
// (default 3) within Window (default 5 minutes) open it. [Open] rejects
// calls with [ErrOpen] for OpenFor (default 5 minutes). Then the circuit is
// [HalfOpen]: up to MaxTrials trial calls (default 1) go through and the rest
// are rejected with [ErrTrialLimit]; a trial's success closes the circuit,
// its failure opens it again. A trial that never reports back (its Lambda
// was frozen mid-call) frees its slot after TrialTimeout.
//
// Only failures that say the downstream is unwell count: by default
// [IsDownstreamFailure], so a downstream's 5xx statuses ([DownstreamError]),
// timeouts and refused connections, not 4xx answers nor the caller's own
// cancelled context. A panic in the call
// counts as a failure and is re-panicked. Every state change starts a new
// generation, and the outcome of a call admitted in an earlier generation is
// ignored, so a slow call cannot close or re-open a circuit that has moved on.
//
// # Errors and the HTTP answer
//
// A rejected call gets [ErrOpen], inside an [*OpenError] that tells how
// long the stand-down has left, or [ErrTrialLimit]: test with
// errors.Is(err, ErrOpen), which matches both. A handler of funcify's app
// (or any server using package httperror) that returns them answers its
// caller 503 "service unavailable", with a Retry-After header of the
// stand-down's seconds left for an *OpenError; their text, for logs, names
// no downstream. The classifier reads a downstream's status from
// DownstreamStatus, never from HTTPStatus, which chooses that answer: so
// another breaker's ErrOpen is not a failure of this one's downstream.
//
// Upgrading: the classifier once read HTTPStatus (the StatusError
// interface, HTTPStatus() >= 500 counted). An error type of your own that
// implemented it for the breaker now implements DownstreamStatus() int
// ([DownstreamError]) with the downstream's status, or its 5xx no longer
// count; keep HTTPStatus only for the answer your own callers get (usually
// 502 or 503, never the downstream's status as it is).
//
// # What a breaker knows
//
// [Breaker.State] and [Breaker.Counts] tell the circuit's state, its
// generation, the failures of the current window, when it opened, its
// trials in flight, and the failures this process holds that the Store
// does not. With a Store, they are the circuit all instances share, read
// at most Staleness ago. A breaker keeps no count of requests or
// successes: a successful call on a closed circuit changes nothing.
//
// # The caller's context
//
// A call that ends because the caller's own context ended (its deadline
// passed, or it was cancelled) says nothing of the downstream: it is not a
// failure, nor a success. A trial cut off so neither closes nor opens the
// circuit: it gives its slot back, the circuit stays half-open, and the
// next call (on any instance) is a trial. A trial is not started on a
// context that is already done.
//
// Store writes after the call are made on the caller's context without its
// cancellation (context.WithoutCancel), so that a caller who gave up does
// not cut off a write once sent. But no Store work holds a caller past its
// deadline: what Execute writes after the call ends 100 ms before the
// caller's deadline, and work before the call (a read, and the writes of
// what the Store missed, below) ends by then too, and within StoreTimeout
// of its start. When less than those
// 100 ms are left as the call returns, or the deadline has passed already,
// the breaker makes one write, bounded by StoreTimeout, to record a
// failure or a trial's outcome, and nothing else. What it could not write is not lost: see "Writes the Store did not
// take". A Store call that failed because the caller's context ended is
// not a Store outage: it is neither logged as one nor a reason to fall
// back.
//
// # Shared state
//
// With a Store, breakers of the same Name share one circuit across
// instances: the Store item "breaker/" followed by the Name (see
// Settings.Name for the keys in full). Every change (a window of failures started, a state change, a
// trial slot taken or given back) is written by compare-and-set on the
// Store's version and retried on a conflict, so concurrent instances never
// lose each other's updates and a state change is made, and reported to
// OnStateChange, by exactly one instance. Each write carries a random
// nonce: a breaker that finds its own nonce in the circuit it reads after a
// conflict knows that its write was applied (a Store may report a write as
// a conflict when its reply was lost and its client sent it again), and
// reports the change it made.
//
// Failures are counted without conflicts when the Store is a
// [store.Counter] (memstore, redisstore and dynamostore are): each failure
// adds one to a counter of the current window, kept in the Store under
// "breaker.failures/" followed by the Name, the generation and the window's
// start, and an instance whose Add brings the window's count to
// FailureThreshold opens the circuit. With any other Store (or one whose
// Add is unsupported) the count lives in the circuit itself. The window's
// count is the two added up, and a window is started again only once it
// has ended, so that instances that count either way, sharing a circuit,
// add to one count. An instance that counts in the circuit sees only the
// circuit's part of it, though: when its failure is the one that brings
// the sum to FailureThreshold, the circuit stays closed until an instance
// that counts with Add next reads the circuit (within Staleness, if it is
// taking calls): it checks the sum whenever it finds the circuit's part
// grown, and opens the circuit.
// (Instances of a release before counters restart a window whose own count
// is 0: while such instances share the circuit, during a rolling deploy,
// the failures counted before one of them restarts a window are left out,
// at most FailureThreshold-1 once per window.)
//
// A write that conflicts is retried, on the state read again, after a
// random back-off of a few milliseconds at most, for up to ConflictBudget
// (default 5 seconds): each read and write starts only before the budget
// ends, bounded by the time left, so an update holds its caller for at most
// StoreTimeout + ConflictBudget, and never past the caller's deadline (see
// above). An update that runs out of ConflictBudget is given up and logged
// as abandoned; one that the caller's deadline cuts short is not logged.
// Neither loses a failure or a trial's outcome (see below); a trial slot
// not taken so rejects its call with ErrTrialLimit (see
// Settings.ConflictBudget). A breaker whose copy is its own last write reads the
// circuit again before counting a failure in it, as the instances that
// lost to that write do, so that under contention no instance wins every
// round.
//
// On the closed path a breaker reads the Store at most once per Staleness
// (default 1 second) and a successful call writes nothing. A Store error
// never fails the caller's call: each Store call is bounded by StoreTimeout
// (default 500 ms), and on an error, or a call that gets no answer within
// it, the breaker goes on with process-local state, logs that once, and
// tries the Store again after Staleness, on its next call.
//
// # Writes the Store did not take
//
// A failure that could not be written to the Store (the breaker runs on
// process-local state after a Store error or a call slower than
// StoreTimeout; the conflict budget or the caller's deadline ran out first)
// still counts in process-local state when the breaker runs on it, and is
// kept pending in the process, by generation and window. When the Store
// answers again (the breaker's next read of it, at most Staleness after
// the outage and on its next call, or its next failure that the Store
// takes), the pending failures are written as any failure is. Written on
// a read before a call, they get about a StoreTimeout, no more, and no
// retry after a conflict, so that a caller's own call does not wait for
// earlier ones; what is left then is written by the report after the
// call, within its budget. They are written: added to the
// window's counter with a store.Counter, without conflicts, or to the
// circuit's count by compare-and-set otherwise; and the circuit opens if
// the window's count reaches FailureThreshold. So a failure is lost only if
// the process ends first (a Lambda execution environment shut down, or
// never invoked again while its window lasts), and it stops counting only
// as any failure does: once its window has ended, or once the circuit in
// the Store has changed state since its call was admitted (the outcome of
// a call of an earlier generation is ignored). A write that was sent and
// got no answer within its bound is taken as applied, since the Store may
// have applied it and writing it again would count it twice: that one
// failure is missing if the Store did not apply it. A write reported as a
// conflict that could not be read back (the read failed, or the caller's
// deadline left no read) is kept pending with its write's nonce: the
// breaker's next read of the circuit drops it if the circuit carries that
// nonce (the Store applied the write), and otherwise takes it as not
// applied and writes it. One limit remains, with a Store that is not a
// store.Counter: a write that the Store applied, that another instance
// wrote on top of before the first one's conflict was read back, is taken
// as not applied, since the circuit carries only its last writer's nonce,
// and its failures are counted twice. That takes a lost reply while
// instances race, and errs towards opening the circuit. A state change that
// process-local state made from pending failures is reported to
// OnStateChange then, and, if writing them opens the circuit in the Store,
// again.
//
// A trial's slot may be held in the Store although the trial is over: the
// write that took it, or the one that recorded its outcome, was not
// answered, failed, or was reported as a conflict that could not be read
// back; or the outcome went to process-local state only (the breaker fell
// back to it during the trial), or nowhere (the budget or the caller's
// deadline ran out). The Store would then reject every other instance
// until TrialTimeout. So a breaker remembers each trial whose outcome the
// Store has not confirmed, and once the outcome is known and the Store
// answers (at once, after the call, and later on any read), it applies the
// outcome, by compare-and-set, to the circuit in the Store if that still
// holds the trial's slot: it closes the circuit, opens it again, or gives
// the slot back. OnStateChange is not called twice for it.
//
// A Breaker is safe for concurrent use. Build it once, at init, and share it.
package breaker
