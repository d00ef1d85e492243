// Package dynamostore is a [store.Store] on Amazon DynamoDB, shared by every
// instance of every function that uses the same table: the circuit breaker,
// the service token and the JWKS cache see what the other instances learnt.
//
// [New] takes a DynamoDB client (AWS SDK for Go v2) and the table name.
// [DefaultClient] is the process's client, built once per cold start
// through package awsclient (configuration from the Lambda environment,
// endpoint from FUNCIFY_ENDPOINT_DYNAMODB if set); any *dynamodb.Client of
// your own will do as well:
//
//	db, err := dynamostore.DefaultClient(ctx)
//	if err != nil {
//		return err
//	}
//	s := dynamostore.New(db, "funcify-state")
//
// The AWS SDK stays in this package: a function that does not import it does
// not link the SDK.
//
// # Table
//
// One item per key, in a table whose partition key is the string attribute
// pk and which has no sort key. [CreateTable] makes one (on-demand billing)
// for tests and a first setup; an infrastructure template would declare:
//
//	pk             S  partition key: the store key
//	value          B  the value, any bytes (may be empty)
//	version        N  the item's version
//	expires_at     N  expiry in Unix seconds, rounded up; absent: never
//	expires_at_ms  N  expiry in Unix milliseconds; absent: never
//	nonce          N  random, written by each CompareAndSet and Insert, and by the Add that creates a counter, to recognise its own write
//	count          N  a counter's value (items written by Add), instead of value and version
//
// Set the table's time to live (TTL) attribute to expires_at, so that
// DynamoDB deletes expired items. It does so lazily, up to a few days after
// they expire, so the store never relies on it: it reads expires_at_ms,
// which keeps millisecond precision, and treats an item whose expiry has
// passed as absent, both when reading and in the conditions of its writes.
// Without TTL the store stays correct; expired items only keep their space.
//
// # Writes
//
// Every write is a single conditional request, so concurrent writers on
// different instances cannot lose an update:
//
//	CompareAndSet, version 0   PutItem     attribute_not_exists(pk) OR expires_at_ms <= :now
//	CompareAndSet, version v   PutItem     version = :v AND (attribute_not_exists(expires_at_ms) OR expires_at_ms > :now)
//	Delete, version 0          DeleteItem  same as CompareAndSet with version 0
//	Delete, version v          DeleteItem  same as CompareAndSet with version v
//	Insert                     PutItem     same as CompareAndSet with version 0
//
// Insert ([store.Inserter]) asks with ReturnValuesOnConditionCheckFailure
// ALL_OLD for the item that failed its condition: DynamoDB returns it with
// the ConditionalCheckFailedException, so a caller that lost the race to
// create a key learns who won in that one request. A server that returns
// none (dynalite does not implement the parameter) costs a consistent
// GetItem after it.
//
// A failed condition (ConditionalCheckFailedException) is [store.ErrConflict],
// except for the store's own write. When DynamoDB applies a PutItem and its
// reply is lost, the SDK sends it again and the retry fails its condition on
// the item the first attempt wrote. So a CompareAndSet whose PutItem the SDK
// retried compares the item that failed the condition (returned with the
// error through ReturnValuesOnConditionCheckFailure, or read when the server
// returns none) with its own: the same version and nonce mean that its write
// was applied, and it returns the new version; the same version with
// another nonce is another writer's item, written from the same version
// between the two attempts, and a conflict. Two cases remain a conflict
// although the write was applied: another writer wrote over it between the
// lost reply and the retry, and a Delete whose reply was lost. A Delete
// leaves no item behind to compare: its retry finds the key absent, which
// this Delete, another client's or the item's expiry may have caused, and
// only a tombstone could tell them apart. A caller who reads again after
// [store.ErrConflict] then finds its own change in the state it reads (for
// a Delete, the key absent).
//
// The new version is v+1, or a random number below 2^62 when the key was
// absent or expired, so that a reader who saw an earlier life of the key
// cannot write over a new one. Reads are strongly consistent (ConsistentRead).
//
// Add ([store.Counter]) is an UpdateItem "ADD count :d" on a counter that
// exists and has not expired, in one request, so concurrent Adds never
// conflict. When there is no such counter, a PutItem with the condition of
// CompareAndSet with version 0 creates it at the delta, with the expiry of
// this first Add and a nonce that recognises it when the SDK retried it;
// if another instance created it first, Add adds to theirs. Add needs a
// client with UpdateItem: a *dynamodb.Client, not just a [Client].
//
// :now is the caller's clock, in Unix milliseconds: instances whose clocks
// differ by d may disagree about an item's expiry for d.
//
// # Errors and deadlines
//
// Every method takes the caller's context, and the SDK client honours its
// deadline, retries included. Errors other than [store.ErrConflict] are the
// SDK's, wrapped with the prefix "dynamostore: ". An item over DynamoDB's
// limit of 400 KB (its attribute names and values together) is refused with
// a ValidationException that the error wraps with [store.ErrTooLarge]. A function that must answer
// quickly when DynamoDB is slow gives the call a context with a short
// deadline, or the client a retryer with fewer attempts, and falls back to
// local state on error.
//
// A [Store] is safe for concurrent use, as the SDK client is.
package dynamostore
