package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/store"
)

// storeTTL is how long the store keeps a document, and the age past which
// a stored key set is refused even when the provider fails.
const storeTTL = 7 * 24 * time.Hour

// storeKey is the store key of the document of kind at rawURL (see
// [urlName]).
func storeKey(kind, rawURL string) string {
	return "jwtauth/" + kind + "/" + urlName(rawURL)
}

// readStored returns the document kept under key, opened ([options.open]),
// and the version that a newer one is written over: 0 when none is kept or
// the store failed. ok is false when there is no document to use: none
// kept, the store failed (logged), or the seal does not check (logged).
// Without a store it returns nothing.
func readStored(ctx context.Context, o options, key string) (doc []byte, version int64, ok bool) {
	if o.store == nil {
		return nil, 0, false
	}
	it, err := storeGet(ctx, o, key)
	if err != nil || it.Version == 0 {
		return nil, 0, false
	}
	doc, ok = o.open(ctx, key, it.Value)
	return doc, it.Version, ok
}

// writeStored keeps doc under key, over version (0 when none was kept),
// sealed if the source has a seal key. Without a store it does nothing.
func writeStored(ctx context.Context, o options, key string, version int64, doc []byte) {
	if o.store == nil {
		return
	}
	storeSet(ctx, o, key, version, o.seal(key, doc))
}

// storedSet is a key set as kept in the store: its JWKS document as
// fetched, and when it was fetched, which decides whether it may serve.
type storedSet struct {
	At  int64           `json:"at"` // unix nanoseconds of the fetch
	Doc json.RawMessage `json:"doc"`
}

// readStoredSet returns the key set kept under key, as [readStored] does.
func readStoredSet(ctx context.Context, o options, key string) (s storedSet, version int64, ok bool) {
	value, version, ok := readStored(ctx, o, key)
	if !ok || json.Unmarshal(value, &s) != nil {
		return storedSet{}, version, false
	}
	return s, version, true
}

// writeStoredSet keeps the key set document doc, fetched at at, under key,
// as [writeStored] does.
func writeStoredSet(ctx context.Context, o options, key string, version int64, doc []byte, at time.Time) {
	if o.store == nil {
		return
	}
	v, _ := json.Marshal(storedSet{At: at.UnixNano(), Doc: doc})
	writeStored(ctx, o, key, version, v)
}

const storeTimeout = time.Second

// storeGet reads key. A failure is logged as the store's, unless the
// caller's own context ended it.
func storeGet(ctx context.Context, o options, key string) (store.Item, error) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	it, err := o.store.Get(sctx, key)
	if err != nil && ctx.Err() == nil {
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store read failed", slog.String("key", key), slog.String("error", redact.Text(err)))
	}
	return it, err
}

// storeSet writes value; a lost race means another instance wrote a set
// as recent, and is not an error. A failure is logged as the store's,
// unless the caller's own context ended it.
func storeSet(ctx context.Context, o options, key string, version int64, value []byte) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, err := o.store.CompareAndSet(sctx, key, version, value, storeTTL)
	if err != nil && !errors.Is(err, store.ErrConflict) && ctx.Err() == nil {
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store write failed", slog.String("key", key), slog.String("error", redact.Text(err)))
	}
}
