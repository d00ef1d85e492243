// Package redisstore is a [store.Store] kept in Redis, shared by every
// instance of a function that reaches the same Redis server or cluster. It
// uses github.com/redis/go-redis/v9; a function that does not import this
// package does not link it.
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:                  os.Getenv("REDIS_ADDR"),
//		ContextTimeoutEnabled: true,
//	})
//	s := redisstore.New(rdb)
//
// Build the client once per execution environment, outside the handler, and
// share the Store between invocations: it is safe for concurrent use. The
// caller owns the client: the Store never closes it.
//
// # Layout
//
// Each item is a Redis hash at the store's prefix (default "funcify:")
// followed by the key, with three fields: "value", the bytes as given,
// "version", the item's version in decimal, and "nonce", a random decimal
// number that each CompareAndSet and Insert writes to recognise its own write (see
// below). A TTL is the hash's own expiry
// (PEXPIRE, to the millisecond; an item without TTL has none), so Redis
// drops an expired item by itself, and an expired item reads as absent.
// One hash per item keeps every operation on one key, which is what a Redis
// Cluster needs to run it atomically, and lets `redis-cli HGETALL
// funcify:KEY` show an item as it is.
//
// A counter ([store.Counter]) is a hash at the same prefix with one field,
// "count", in decimal. Add runs HINCRBY on it in a Lua script that also
// sets the hash's expiry when the script creates it, so the expiry is the
// one the first Add asked for.
//
// # Versions and atomicity
//
// CompareAndSet and Delete each run one Lua script, so that the comparison
// and the write happen in one step that no other client can interleave.
// Each compares the stored version with the caller's, a missing hash
// counting as version 0. On a match CompareAndSet writes the value, the
// new version and its nonce, then sets the expiry (PEXPIRE) or removes it
// (PERSIST); Delete removes the hash. Otherwise they change nothing and
// return [store.ErrConflict].
//
// Insert ([store.Inserter]) runs one script too: it writes as
// CompareAndSet with version 0 does when the key holds no item, and
// otherwise returns the item that holds it, value, version and remaining
// TTL, in the same reply. A caller that lost the race to create a key thus
// learns who won in one round trip, with no Get after it.
//
// go-redis sends a command again when its reply was lost (an EOF, a read
// timeout; MaxRetries, 3 by default), so a script may run twice. The second
// run of a CompareAndSet (or an Insert) finds the version that the first
// wrote; the script then returns the stored version and nonce, and it recognises
// its own write (same version, same nonce) and succeeds, instead of
// reporting its own write as a conflict. A Delete leaves nothing to
// recognise: when its reply was lost, the second run finds the key absent
// and Delete returns [store.ErrConflict] although the item is gone. Telling
// that from another client's delete would take a tombstone; a caller that
// reads again after ErrConflict, as the store contract asks, finds the key
// absent. An Add run twice adds twice, as [store.Counter] warns. With
// MaxRetries -1 go-redis sends nothing twice: a lost reply is then an error,
// and the write may or may not have been applied.
//
// The new version is the old one plus one. An item created where none is
// stored starts at a random version from 1 to 2^62, so a client that read an
// earlier life of the key, since deleted or expired, cannot write over the
// new one by chance. Versions travel as decimal strings, never as Lua
// numbers, which would round those above 2^53.
//
// Get runs a script too, so that the value, the version and the remaining
// TTL it reads belong to the same write. [store.Item.Expires] is the local
// time at which Get was called plus the TTL that Redis reported: it may be
// early by the call's round trip, never later than the moment Redis drops
// the item, and it does not depend on the Redis server's clock.
//
// Scripts are sent by their SHA-1 digest (EVALSHA) and in full only when the
// server does not know them yet, after a restart or a SCRIPT FLUSH. They
// use Redis 4 commands and no Redis 7 script flags.
//
// # Deadlines and errors
//
// Every method returns by the time ctx is done, with an error that wraps
// ctx.Err(). go-redis itself honours a context's deadline on the socket only
// when the client is built with ContextTimeoutEnabled: true; without it, a
// command to a server that does not answer goes on, in the background, until
// the client's ReadTimeout (5 s by default). Set it, as above.
//
// go-redis retries by itself: with its defaults, a call to a server that
// refuses connections dials 5 times, 100 ms apart, for each of 4 tries, and
// fails after about 2 s. Give each call a context with the deadline you can
// afford, or lower the client's MaxRetries and DialerRetries.
//
// Errors start with "redisstore: " and wrap the client's error. Only a
// version mismatch is [store.ErrConflict] (and a Delete sent twice, above).
// After any other error a write may or may not have been applied (the reply
// may have been lost on the way back, and go-redis's retries failed): read
// the item again before deciding what to do.
package redisstore
