package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/store"
)

// DefaultPrefix is the prefix of every key the Store writes unless
// [WithPrefix] sets another.
const DefaultPrefix = "funcify:"

// getScript returns the item at KEYS[1] as {value, version, pttl}, pttl
// being -1 when the item does not expire, or {} when it is absent or has
// expired.
var getScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'value', 'version')
if not f[2] then
	return {}
end
return {f[1] or '', f[2], redis.call('PTTL', KEYS[1])}
`)

// casScript writes the item at KEYS[1] if its stored version ("0" when
// absent) is ARGV[1]. ARGV[2] is the value, ARGV[3] the new version, ARGV[4]
// the TTL in milliseconds, "0" for none, and ARGV[5] the write's nonce. It
// returns the new version as a string, or, on a version mismatch,
// {0, stored version, stored nonce}, so that a write that go-redis sent
// again after its reply was lost can recognise the item its first run
// wrote. Versions stay strings throughout: a Lua number would round 2^62+1
// to 2^62.
var casScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'version', 'nonce')
local version = cur[1] or '0'
if version ~= ARGV[1] then
	return {0, version, cur[2] or ''}
end
redis.call('HSET', KEYS[1], 'value', ARGV[2], 'version', ARGV[3], 'nonce', ARGV[5])
if ARGV[4] == '0' then
	redis.call('PERSIST', KEYS[1])
else
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return ARGV[3]
`)

// insertScript writes the item at KEYS[1] if the key holds none. ARGV[1] is
// the value, ARGV[2] the new version, ARGV[3] the TTL in milliseconds, "0"
// for none, and ARGV[4] the write's nonce. It returns the new version as a
// string, or, when the key holds an item, {0, version, nonce, value, pttl}:
// the item, as getScript reads it, and its nonce, so that a write sent again
// after its reply was lost can recognise its own.
var insertScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'version', 'nonce', 'value')
if cur[1] then
	return {0, cur[1], cur[2] or '', cur[3] or '', redis.call('PTTL', KEYS[1])}
end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'version', ARGV[2], 'nonce', ARGV[4])
if ARGV[3] == '0' then
	redis.call('PERSIST', KEYS[1])
else
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return ARGV[2]
`)

// deleteScript deletes the item at KEYS[1] if its stored version ("0" when
// absent) is ARGV[1]. It returns 1, or 0 on a version mismatch.
var deleteScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'version') or '0'
if cur ~= ARGV[1] then
	return 0
end
redis.call('DEL', KEYS[1])
return 1
`)

// addScript adds ARGV[1] to the field "count" of the hash at KEYS[1],
// creating it at 0 when absent, and returns the new count as a string (a
// Lua number would round counts above 2^53). ARGV[2] is the TTL in
// milliseconds of a hash that this call creates, "0" for none; the TTL of
// an existing hash is left as it is.
var addScript = redis.NewScript(`
local fresh = redis.call('EXISTS', KEYS[1]) == 0
redis.call('HINCRBY', KEYS[1], 'count', ARGV[1])
if fresh and ARGV[2] ~= '0' then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('HGET', KEYS[1], 'count')
`)

// Store is a [store.Store] kept in Redis. It is safe for concurrent use; the
// zero value is not usable: call [New].
type Store struct {
	client redis.UniversalClient
	prefix string
	// firstVersion returns the version of an item created where none is
	// stored: random, in [1, 2^62].
	firstVersion func() int64
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Counter  = (*Store)(nil)
	_ store.Inserter = (*Store)(nil)
)

// Option configures a [Store].
type Option func(*Store)

// WithPrefix makes the store keep key at Redis key prefix+key, instead of
// [DefaultPrefix]+key. Stores that share a Redis database need distinct
// prefixes only when they must not share items. A prefix that is a hash tag
// such as "{funcify}:" puts every item in one Redis Cluster slot.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// New returns a Store that keeps its items through client. The caller owns
// client and closes it; see the package documentation for how to build it.
// New does no I/O; it panics if client is nil, a mistake in the code that
// sets the function up, as net/http's ServeMux.Handle does with a nil
// handler (found later, it would panic in the goroutine of a first call,
// where no caller could recover it).
func New(client redis.UniversalClient, opts ...Option) *Store {
	if client == nil {
		panic("redisstore: New with a nil client")
	}
	s := &Store{
		client:       client,
		prefix:       DefaultPrefix,
		firstVersion: func() int64 { return rand.Int64N(1<<62) + 1 },
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Get returns the item at key; see [store.Store.Get].
func (s *Store) Get(ctx context.Context, key string) (store.Item, error) {
	now := time.Now()
	res, err := s.run(ctx, getScript, key)
	if err != nil {
		return store.Item{}, s.wrap(ctx, "get", key, err)
	}
	f, ok := res.([]any)
	if !ok || (len(f) != 0 && len(f) != 3) {
		return store.Item{}, s.unexpected("get", key, res)
	}
	if len(f) == 0 {
		return store.Item{}, nil
	}
	value, ok1 := f[0].(string)
	ver, ok2 := f[1].(string)
	pttl, ok3 := f[2].(int64)
	version, err := strconv.ParseInt(ver, 10, 64)
	if !ok1 || !ok2 || !ok3 || err != nil || version == 0 {
		return store.Item{}, s.unexpected("get", key, res)
	}
	it := store.Item{Value: []byte(value), Version: version}
	if pttl >= 0 {
		it.Expires = now.Add(time.Duration(pttl) * time.Millisecond)
	}
	return it, nil
}

// CompareAndSet writes value at key if version is the stored one; see
// [store.Store.CompareAndSet]. A ttl is kept to the millisecond, rounded up.
//
// The item carries a random nonce, so that the store recognises its own
// write: go-redis sends a command again when its reply was lost (an EOF or
// a read timeout), and the second run of the script then finds the version
// that the first wrote. The same version and nonce mean that the write is
// this call's, and CompareAndSet succeeds.
func (s *Store) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	next := version + 1
	if version == 0 {
		next = s.firstVersion()
	}
	nextStr := strconv.FormatInt(next, 10)
	nonce := strconv.FormatInt(rand.Int64N(1<<62)+1, 10)
	res, err := s.run(ctx, casScript, key,
		strconv.FormatInt(version, 10), value, nextStr, strconv.FormatInt(millis(ttl), 10), nonce)
	if err != nil {
		return 0, s.wrap(ctx, "compare-and-set", key, err)
	}
	switch r := res.(type) {
	case string:
		if r == nextStr {
			return next, nil
		}
	case []any:
		if len(r) == 3 && r[0] == int64(0) {
			if r[1] == nextStr && r[2] == nonce {
				return next, nil // this call's own write, run twice
			}
			return 0, store.ErrConflict
		}
	}
	return 0, s.unexpected("compare-and-set", key, res)
}

// Insert writes value at key if the key holds no item, or returns
// store.ErrConflict and the item that holds it, in one script (one EVALSHA
// round trip); see [store.Inserter.Insert]. A ttl is kept to the
// millisecond, rounded up. As with CompareAndSet, a run of the script that
// go-redis sent again after its reply was lost recognises the item that
// the first run wrote by its nonce, and Insert succeeds.
func (s *Store) Insert(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, store.Item, error) {
	now := time.Now()
	next := s.firstVersion()
	nextStr := strconv.FormatInt(next, 10)
	nonce := strconv.FormatInt(rand.Int64N(1<<62)+1, 10)
	res, err := s.run(ctx, insertScript, key, value, nextStr, strconv.FormatInt(millis(ttl), 10), nonce)
	if err != nil {
		return 0, store.Item{}, s.wrap(ctx, "insert", key, err)
	}
	switch r := res.(type) {
	case string:
		if r == nextStr {
			return next, store.Item{}, nil
		}
	case []any:
		if len(r) != 5 || r[0] != int64(0) {
			break
		}
		ver, ok1 := r[1].(string)
		value, ok2 := r[3].(string)
		pttl, ok3 := r[4].(int64)
		version, err := strconv.ParseInt(ver, 10, 64)
		if !ok1 || !ok2 || !ok3 || err != nil || version == 0 {
			break
		}
		if ver == nextStr && r[2] == nonce {
			return next, store.Item{}, nil // this call's own write, run twice
		}
		it := store.Item{Value: []byte(value), Version: version}
		if pttl >= 0 {
			it.Expires = now.Add(time.Duration(pttl) * time.Millisecond)
		}
		return 0, it, store.ErrConflict
	}
	return 0, store.Item{}, s.unexpected("insert", key, res)
}

// Delete removes key if version is the stored one; see [store.Store.Delete].
func (s *Store) Delete(ctx context.Context, key string, version int64) error {
	res, err := s.run(ctx, deleteScript, key, strconv.FormatInt(version, 10))
	if err != nil {
		return s.wrap(ctx, "delete", key, err)
	}
	switch res {
	case int64(1):
		return nil
	case int64(0):
		return store.ErrConflict
	}
	return s.unexpected("delete", key, res)
}

// Add adds delta to the counter at key and returns its new value, in one
// HINCRBY; see [store.Counter.Add]. A ttl is kept to the millisecond,
// rounded up.
func (s *Store) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	res, err := s.run(ctx, addScript, key, strconv.FormatInt(delta, 10), strconv.FormatInt(millis(ttl), 10))
	if err != nil {
		return 0, s.wrap(ctx, "add", key, err)
	}
	str, ok := res.(string)
	n, err := strconv.ParseInt(str, 10, 64)
	if !ok || err != nil {
		return 0, s.unexpected("add", key, res)
	}
	return n, nil
}

// millis returns ttl in milliseconds, rounded up, or 0 for no TTL.
func millis(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// run runs script on the item at key and returns its reply, or ctx's error
// as soon as ctx is done, whichever comes first. go-redis bounds a command
// by ctx's deadline only when the client was built with
// ContextTimeoutEnabled; without it, a command to a server that does not
// answer waits for the client's ReadTimeout. Waiting for the reply in
// another goroutine keeps the Store's promise to honour ctx with any client:
// an abandoned command ends under the client's own timeouts.
func (s *Store) run(ctx context.Context, script *redis.Script, key string, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := []string{s.prefix + key}
	if ctx.Done() == nil {
		return script.Run(ctx, s.client, keys, args...).Result()
	}
	type reply struct {
		res any
		err error
	}
	done := make(chan reply, 1)
	go func() {
		res, err := script.Run(ctx, s.client, keys, args...).Result()
		done <- reply{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// wrap adds the package prefix, the operation and the key to err, and
// ctx's error when ctx has ended, so that errors.Is finds
// context.DeadlineExceeded even when go-redis reports an i/o timeout. ctx
// has ended when it is done, or when the clock has reached its deadline:
// go-redis sets the connection's deadline from ctx's and fails with an i/o
// timeout at that moment, which may come before ctx's own timer marks it
// done.
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	cerr := ctx.Err()
	if cerr == nil && attempt.Ended(ctx, time.Now()) {
		cerr = context.DeadlineExceeded // the socket's deadline, ctx's own
	}
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("redisstore: %s %q: %w (%w)", op, key, cerr, err)
	}
	return fmt.Errorf("redisstore: %s %q: %w", op, key, err)
}

// unexpected reports a script reply of the wrong shape: the key holds
// something this package did not write, or a proxy altered the reply.
func (s *Store) unexpected(op, key string, res any) error {
	return fmt.Errorf("redisstore: %s %q: unexpected reply %#v from Redis key %q", op, key, res, s.prefix+key)
}
