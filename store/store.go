// Package store is funcify's shared state: a key-value store with a version
// per item and compare-and-set writes, which the circuit breaker, the service
// token and the JWKS cache use to share what they know across every instance
// of a function.
//
// Every write names the version it read; a write that lost a race to another
// instance fails with [ErrConflict] instead of overwriting it, so no update is
// ever lost. Read, change, write, and on ErrConflict read again:
//
//	for {
//		it, err := s.Get(ctx, key)
//		if err != nil {
//			return err
//		}
//		n := decode(it.Value) + 1
//		_, err = s.CompareAndSet(ctx, key, it.Version, encode(n), time.Hour)
//		if !errors.Is(err, store.ErrConflict) {
//			return err
//		}
//	}
//
// A store may also implement [Counter], which adds to a number in one step:
// many writers counting at once then never conflict, so none has to retry.
// The circuit breaker counts failures with it where it can.
//
// A store may implement [Inserter], which creates an item and, when the key
// is taken, returns the item that holds it, in one round trip where a
// CompareAndSet that conflicts needs a Get after it. Package idempotency
// takes its keys with it, so that a duplicate call reads the first one's
// outcome in the request that failed to take the key.
//
// A write of a value that the store cannot hold, whatever its state, fails
// with an error that matches [ErrTooLarge] (errors.Is).
//
// Implementations: store/memstore (in process, the default), store/redisstore
// and store/dynamostore (shared by every instance), all three Counters and
// Inserters; and store/ssmstore (shared, on SSM Parameter Store, for a few
// keys that change rarely, such as a service token), which is neither.
// Each user of a store owns the encoding of its values. store/storetest
// checks that an implementation keeps this contract, and the Counter and
// Inserter contracts when it has them.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrConflict is returned by a write whose version is not the stored one:
// another writer got there first. Read again and retry.
var ErrConflict = errors.New("store: version conflict")

// ErrTooLarge is matched (errors.Is) by the error of a write that the store
// refuses for the size of its value: the value will never fit, however
// often it is written again, so retrying is useless. The store's error says
// by how much where it knows. A store with no practical limit (Redis)
// never returns it.
var ErrTooLarge = errors.New("store: value too large")

// Item is a stored value and its version.
type Item struct {
	// Value is the stored bytes; the caller may keep and modify them.
	Value []byte
	// Version identifies this write of the item; 0 means the key is
	// absent (or has expired). Versions are opaque: every write gives a new
	// version, different from the one it replaced, and versions are only
	// ever compared for equality.
	Version int64
	// Expires is when the item expires; the zero time means never.
	Expires time.Time
}

// Store is a versioned key-value store. Every method takes the caller's
// context and honours its deadline. Implementations are safe for concurrent
// use. A write whose value is too large for the store fails with an error
// that matches [ErrTooLarge] and changes nothing.
type Store interface {
	// Get returns the item at key. An absent or expired key is not an
	// error: it returns an Item whose Version is 0.
	Get(ctx context.Context, key string) (Item, error)

	// CompareAndSet writes value at key if the stored version equals
	// version, where version 0 means the key must be absent (or expired).
	// A ttl of zero or less means the item never expires. It returns the
	// new version, or ErrConflict if the stored version differs.
	CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error)

	// Delete removes key if the stored version equals version, or returns
	// ErrConflict. Deleting an absent key with version 0 succeeds.
	Delete(ctx context.Context, key string, version int64) error
}

// Counter is implemented by stores that can add to a counter atomically:
// concurrent Adds neither conflict nor lose each other's deltas, however
// many writers there are. It is optional; a user that needs a count from a
// store without it falls back to compare-and-set.
type Counter interface {
	// Add adds delta to the counter at key and returns the counter's new
	// value. An absent or expired counter counts from 0. The ttl of the
	// Add that creates the counter sets when it expires, and later Adds do
	// not move that time: a counter counts over a fixed span. A ttl of
	// zero or less means the counter never expires.
	//
	// A counter is not an item: use keys for counters that Get,
	// CompareAndSet and Delete do not use, since what they do with a
	// counter's key depends on the store.
	//
	// Like any write, an Add whose reply is lost may or may not have been
	// applied; a client that retries it by itself (the AWS SDK, go-redis)
	// may then apply it twice. Count with it where one count too many is
	// harmless, as a circuit breaker opening one failure early.
	Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
}

// Inserter is implemented by stores that can create an item and, when the
// key is taken, return the item that holds it, read in the same atomic step
// as the write that failed. A caller that wants the current item after a
// lost race (package idempotency, whose duplicates replay the first call's
// outcome) then needs one round trip to the store where CompareAndSet and
// Get need two. It is optional; a user of a store without it calls
// CompareAndSet with version 0, then Get on [ErrConflict].
type Inserter interface {
	// Insert writes value at key if the key is absent or has expired, as
	// CompareAndSet with version 0 does, and returns the new version. A
	// ttl of zero or less means the item never expires.
	//
	// When the key holds an item, Insert writes nothing and returns
	// ErrConflict with that item, as Get would have returned it at the
	// moment the write failed: its Version is never 0.
	//
	// Like CompareAndSet, an Insert whose reply was lost and which the
	// store's client sent again succeeds when the store can tell that the
	// item is its own write; otherwise its own item comes back with
	// ErrConflict, and a caller that can recognise its value (a token of
	// its own in it) takes it as written.
	Insert(ctx context.Context, key string, value []byte, ttl time.Duration) (version int64, current Item, err error)
}
