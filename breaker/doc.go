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
// [IsDownstreamFailure], so 5xx statuses, timeouts and refused connections,
// not 4xx answers nor the caller's own cancelled context. A panic in the call
// counts as a failure and is re-panicked. Every state change starts a new
// generation, and the outcome of a call admitted in an earlier generation is
// ignored, so a slow call cannot close or re-open a circuit that has moved on.
//
// # The caller's context
//
// A call that ends because the caller's own context ended (its deadline
// passed, or it was cancelled) says nothing of the downstream: it is not a
// failure, nor a success. A trial cut off so neither closes nor opens the
// circuit: it gives its slot back, the circuit stays half-open, and the
// next call (on any instance) is a trial. A trial is not started on a
// context that is already done. Store writes after the call are made on the
// caller's context without its cancellation (context.WithoutCancel), each
// bounded by StoreTimeout, so that an outcome is recorded even after the
// caller gave up, and a write is never cut off half-way with its outcome
// unknown. A Store call that failed because the caller's context ended is
// not a Store outage: it is neither logged as one nor a reason to fall back.
//
// # Shared state
//
// With a Store, breakers of the same Name share one circuit across
// instances. Every change (a window of failures started, a state change, a
// trial slot taken or given back) is written by compare-and-set on the
// Store's version and retried on a conflict, so concurrent instances never
// lose each other's updates and a state change is made, and reported to
// OnStateChange, by exactly one instance. Failures are counted without
// conflicts when the Store is a [store.Counter] (memstore, redisstore and
// dynamostore are): each failure adds one to a counter of the current
// window, kept in the Store under "breaker.failures/" followed by the Name,
// the generation and the window's start, and an instance whose Add reaches
// FailureThreshold opens the circuit. With any other Store the count lives
// in the circuit itself, and a failure is retried after conflicts, with a
// growing random back-off, for up to four times StoreTimeout; only a Store
// busy for that long loses one, with a warning logged.
//
// On the closed path a breaker reads the Store at most once per Staleness
// (default 1 second) and a successful call writes nothing. A Store error
// never fails the caller's call: each Store call is bounded by StoreTimeout
// (default 500 ms), and on an error the breaker goes on with process-local
// state, logs that once, and tries the Store again after Staleness.
//
// A Breaker is safe for concurrent use. Build it once, at init, and share it.
package breaker
