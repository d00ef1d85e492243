// Package idempotency runs a function at most once per key, across every
// instance of a Lambda function, and replays its outcome to the duplicates:
// the SQS message delivered twice, the POST a client retried, the
// asynchronous invoke Lambda retried.
//
//	var guard, _ = idempotency.New(idempotency.Config{
//		Store: dynamostore.New(db, "funcify-state"), // shared by every instance
//		Wait:  true,
//	})
//
//	func onOrderEvent(ctx context.Context, msg events.SQSMessage) error {
//		key := idempotency.NewKey("order-events", msg.MessageId, []byte(msg.Body))
//		_, err := idempotency.Do(ctx, guard, key, func(ctx context.Context) (Receipt, error) {
//			return charge(ctx, msg.Body) // runs once per message id
//		})
//		return err
//	}
//
// It keeps its records in a [store.Store]: store/dynamostore or
// store/redisstore to share them between instances, store/memstore within
// one process.
//
// # Keys
//
// A [Key] names a call: a route (the handler: "POST /orders",
// "order-events"), an identity within it, and the payload. [NewKey] takes an
// identity of the caller's choosing, such as a message id or an
// Idempotency-Key header; [KeyFromJSON] takes it from JSON pointers into the
// payload, or the whole payload, in a canonical form (object members
// sorted, numbers by their exact value, no insignificant whitespace), so
// that the member order and spacing of a retried request never change its
// key. A pointer that does not resolve is an error, never an empty identity
// that every call would share.
//
// The store key is "idempotency/" and the SHA-256 of the Guard's Scope
// (default: the function's name), the route and the identity's SHA-256,
// each length-prefixed: two functions or two routes never share a key, and
// no store key shows an identity or a payload. The
// payload's own SHA-256 goes into the record, for Config.CheckPayload:
// a duplicate with the same key and another payload gets
// [ErrPayloadMismatch], never the other payload's result. The wrappers
// ([Func] with an id function, [SQS], [Kinesis], [DynamoDBStream] by id)
// hash the payload only for a Guard that checks it, since its canonical
// form costs several times what Do does; a record written without a hash
// matches any payload, so turning CheckPayload on later refuses no
// duplicate of a record written before.
//
// # Records and leases
//
// The first call takes the key by compare-and-set on an absent key, writing
// a record in progress: a random token of its own, the payload's hash, and
// a lease, which ends at the call's deadline (its context's) plus
// Config.LeaseMargin, never before Config.MinLease from now (a call close to
// its deadline, or past it, still gets that) nor after Config.MaxLease (a
// call without a deadline gets MaxLease). The record's TTL in the store is
// the lease. When the function returns, the record becomes completed by
// compare-and-set on the version the call wrote: its result as JSON
// (encoding/json, decoded into a T for each duplicate), or a [Final] error,
// kept for Config.TTL. Records are a small binary form with a version byte,
// decoded strictly: a record that does not decode is a store failure (see
// below), never taken as an absent key.
//
// A duplicate that finds the record completed replays it. One that finds it
// in progress gets [ErrInProgress] at once, or, with Config.Wait, polls the
// store (after 10 ms, doubling to 500 ms, with jitter) until the outcome is
// there; it gives up with ErrInProgress when the next look would come after
// its context's deadline, and returns an error matching ErrInProgress and
// ctx's error when ctx ends. A duplicate that finds the record gone (the
// first call failed) or its lease over (the first call outlived it: its
// Lambda timed out or crashed) takes the key and runs the function itself.
//
// Leases are judged by the reader's clock against the lease end written by
// the holder's: clocks that disagree between instances shorten or lengthen
// a lease by the difference, which LeaseMargin covers when it is small.
//
// # Fencing
//
// A call completes only if its record is still the one it wrote. A call
// that outlived its lease and was taken over finds the key changed: its
// outcome is not stored, it returns its result to its own caller as if
// nothing happened, and it logs the loss at Warn ("lease lost"). The newer
// call's outcome stands. A late call whose record merely expired, with no
// one taking the key since, stores its outcome after all, so that no
// duplicate runs the function again.
//
// # Failures
//
//   - The function returns an error: Do deletes the record (if it is still
//     the call's) and returns the error, so that a retry runs the function
//     again. An error marked with [Final] is stored instead, and
//     duplicates get a [*ReplayedError] with its text and its HTTP answer;
//     its type does not survive the store (errors.Is and errors.As of the
//     original match for the first caller only).
//   - The function panics (or calls runtime.Goexit): the record is deleted
//     and the panic goes on.
//   - The store fails (an error from Get, CompareAndSet or Delete other
//     than [store.ErrConflict]) before the function runs: with
//     Config.OnStoreError [FailClosed] (the default) Do returns an error
//     that wraps [ErrStoreUnavailable] and the store's error, and the
//     function does not run; with [RunWithout] the function runs without
//     idempotency, and the Guard logs it at Warn once per outage (again
//     after the store has answered in between). A record that does not
//     decode counts as a store failure.
//   - The caller's context ends: a done context takes nothing, and a
//     store call that fails because ctx ended is the caller's, not the
//     store's; Do returns ctx's error, under either policy, and logs
//     nothing. If the take itself was cut off after the store applied it,
//     the record stays in progress until its lease ends.
//   - The write of the outcome fails: Do still returns the function's
//     result (or error), and logs the failure at Warn. The record stays in
//     progress until its lease ends: duplicates get ErrInProgress (or wait)
//     until then, and the first one after it runs the function again. The
//     same holds for a deletion after an error that fails.
//   - The result is larger than Config.MaxResultBytes: Do returns it with
//     an error wrapping [ErrResultTooLarge], and records the call as done
//     without a result: duplicates get an error wrapping ErrResultTooLarge
//     rather than run the function again. The same holds when the store
//     refuses the record for its size (an error that matches
//     store.ErrTooLarge: ssmstore over its tier, DynamoDB over 400 KB): Do
//     returns the result with an error wrapping ErrResultTooLarge and the
//     store's, and records the call as done without a result, so that
//     duplicates neither run again nor find the key in progress. A result
//     that encoding/json
//     cannot encode is returned with an error, and recorded as a failure
//     that duplicates get back as a [*ReplayedError].
//   - A stored result that does not decode into the duplicate's T (a type
//     changed between releases): Do returns the decoding error.
//
// The writes after the function returns (completion, deletion) use the
// caller's context while it lasts; once it has ended, they run on it
// without its cancellation (context.WithoutCancel) for at most 5 seconds,
// so that a caller who gave up does not leave its record in progress.
//
// # Store round trips
//
// Do takes the key with a write first and reads only when that conflicts,
// since most calls are not duplicates: a fresh call makes two writes (take,
// complete) and no read. On a store that is a store.Inserter (memstore,
// redisstore, dynamostore) the take is an Insert, which returns the record
// that holds the key with the conflict: a duplicate finding a completed
// record costs that one round trip (one EVALSHA on Redis; one PutItem on
// DynamoDB, plus a read on servers that do not return the old item, such as
// dynalite). On other stores the take is a compare-and-set and a duplicate
// reads after it: two round trips (store/ssmstore, which is no store for
// idempotency beyond a handful of keys, makes more requests per write). A
// failed call is a take and a
// delete; a waiting duplicate, one read per poll after its first look. A
// store that reports a write it applied as a conflict (a lost reply,
// retried by its client) costs a read more: the call recognises its own
// token there.
//
// # HTTP answers and logs
//
// A handler of funcify's app, or any server using package httperror, that
// returns Do's errors answers 409 for ErrInProgress, 422 for
// ErrPayloadMismatch, 503 for ErrStoreUnavailable (without the store's
// error text), and for a ReplayedError the status and public message of the
// original error. The Warn lines name the key by the first 8 characters of
// its hash, never the identity, the payload or the result.
//
// # Wrappers
//
// Do is the core; three shapes sit on it, each returning what funcify's app
// takes for a route:
//
//   - [Func] wraps a typed function (app.HandleInvoke, a typed route): the
//     identity is what its id function returns, or the whole input as
//     canonical JSON.
//   - [SQS], [Kinesis] and [DynamoDBStream] wrap a per-record handler
//     (app.HandleSQS, HandleKinesis, HandleDynamoDBStream): each record is
//     keyed by its message id or event id (or by its body, [KeyByBody]), so a
//     batch redelivered after a partial failure runs only the records that
//     failed; one in progress elsewhere fails its record (ErrInProgress), and
//     the batch reports it for a later redelivery.
//   - [Middleware] makes HTTP requests idempotent by their Idempotency-Key
//     header (the IETF draft): the first request runs, a repeat gets the
//     stored status, selected headers and body, a concurrent repeat 409,
//     the same key with another request 422, a missing or bad key 400.
//
// # Concurrency
//
// A Guard is safe for concurrent use: build it once, at init, and share it
// across invocations and goroutines. It runs no goroutine of its own, and
// every store call takes the caller's context. Any number of concurrent
// duplicates, in one process or across instances, run the function once,
// unless it outlives its lease.
package idempotency
