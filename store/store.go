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
// Implementations: store/memstore (in process, the default), store/redisstore
// and store/dynamostore (shared by every instance). Each user of a store owns
// the encoding of its values. store/storetest checks that an implementation
// keeps this contract.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrConflict is returned by a write whose version is not the stored one:
// another writer got there first. Read again and retry.
var ErrConflict = errors.New("store: version conflict")

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
// use.
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
