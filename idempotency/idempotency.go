package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// StorePolicy says what [Do] does when the store fails.
type StorePolicy int

const (
	// FailClosed refuses the call with an error that wraps
	// ErrStoreUnavailable and the store's error: the function does not run.
	FailClosed StorePolicy = iota
	// RunWithout runs the function without idempotency, as if there were
	// no Guard, and logs it at Warn once per outage.
	RunWithout
)

// String returns "fail-closed" or "run-without".
func (p StorePolicy) String() string {
	switch p {
	case FailClosed:
		return "fail-closed"
	case RunWithout:
		return "run-without"
	}
	return fmt.Sprintf("StorePolicy(%d)", int(p))
}

// The defaults of Config's fields.
const (
	DefaultTTL            = time.Hour
	DefaultLeaseMargin    = 10 * time.Second
	DefaultMinLease       = 5 * time.Second
	DefaultMaxLease       = 15 * time.Minute // Lambda's longest timeout
	DefaultMaxResultBytes = 350 << 10        // under DynamoDB's item limit of 400 KB
	DefaultStoreTimeout   = 2 * time.Second
)

// Config configures a [Guard]. The zero value of every field but Store
// means the documented default.
type Config struct {
	// Store holds the records of calls, shared by every instance of the
	// function: store/dynamostore or store/redisstore across instances,
	// store/memstore within one process (tests, local runs). Required.
	// store/ssmstore works but does not fit: each key becomes a parameter
	// that is never deleted, against an account's quota of parameters
	// (shared with its configuration) and Parameter Store's low write rate;
	// keep it for a handful of keys.
	Store store.Store

	// Scope keeps apart the keys of Guards on one store: Guards of the same
	// Scope see each other's calls with equal keys as duplicates. Default:
	// the environment variable AWS_LAMBDA_FUNCTION_NAME, read by New, else
	// "local". Give functions that share a table a Scope each (their names
	// do that by default), or one Scope to functions that take turns on the
	// same calls.
	Scope string

	// TTL is how long the outcome of a completed call is kept and replayed
	// to duplicates, from its completion. Default 1 hour.
	TTL time.Duration

	// LeaseMargin is added to the caller's deadline to make the lease of a
	// call in progress: the time after which a duplicate may take over the
	// key from an attempt that never completed (its Lambda timed out or
	// crashed). Default 10 seconds.
	LeaseMargin time.Duration
	// MinLease and MaxLease bound the lease: a caller close to its deadline
	// still gets MinLease, and a caller without a deadline MaxLease.
	// Defaults 5 seconds, and 15 minutes (Lambda's longest timeout) plus
	// LeaseMargin, so that the longest calls keep their margin.
	MinLease, MaxLease time.Duration

	// Wait makes duplicates that find the key in progress wait for the
	// first call's outcome, polling the store, rather than fail at once
	// with ErrInProgress. Turn it on where retries come on their own
	// schedule and a refusal is lost: a Step Functions task's retries and
	// Lambda's asynchronous retries come while the lease of an attempt that
	// timed out or crashed still runs (its deadline plus LeaseMargin), and
	// without Wait they get ErrInProgress. A duplicate waits no longer than its own
	// context's deadline allows: it returns ErrInProgress when the next
	// look at the store would come after its deadline.
	Wait bool

	// CheckPayload refuses, with ErrPayloadMismatch, a call whose key was
	// used with another payload (see [NewKey]): it never gets the other
	// payload's result.
	CheckPayload bool

	// OnStoreError says what to do when the store fails: FailClosed (the
	// default) or RunWithout.
	OnStoreError StorePolicy

	// StoreTimeout bounds each store call made before the function runs
	// (taking the key, reading what holds it), and at most half the time
	// the caller has left: a store that stops answering (a network that
	// drops packets, an SDK retrying) then fails in time for OnStoreError
	// to decide, rather than keep the caller until its deadline. Default
	// 2 seconds.
	StoreTimeout time.Duration

	// MaxResultBytes is the size of the largest record stored: a result
	// whose record (its JSON and a 50-byte header) is larger is not stored,
	// and Do returns it with an error that wraps ErrResultTooLarge. So
	// does a result whose record the store refuses for its size (an error
	// that matches store.ErrTooLarge). Default 350 KB, under DynamoDB's
	// 400 KB item limit; with store/ssmstore, whose parameters hold 4 KB
	// (8 KB advanced), set it lower, or leave the store to refuse.
	MaxResultBytes int

	// Logger receives the Warn lines of failures that Do does not return:
	// a result not stored, a lease lost, a record not deleted, running
	// without the store. Default slog.Default().
	Logger *slog.Logger

	// now returns the current time, time.Now unless set by this package's
	// tests (export_test.go), which move time without sleeping. It decides
	// leases; waits between polls use real timers.
	now func() time.Time
	// waiting, if set by this package's tests, is called when a call
	// starts waiting for another's outcome (Wait).
	waiting func()
}

// Guard runs functions at most once per key. It is safe for concurrent
// use; build one per handler (or per function) at init and share it.
type Guard struct {
	store    store.Store
	scope    []byte // the hash's prefix: a domain tag and the scope, length-prefixed
	ttl      time.Duration
	margin   time.Duration
	minLease time.Duration
	maxLease time.Duration
	wait     bool
	check    bool
	policy   StorePolicy
	maxBytes int
	storeMax time.Duration
	log      *slog.Logger
	now      func() time.Time
	waiting  func()

	// without is set when the store failed and calls ran without it
	// (RunWithout), so that the outage is logged once; the store's next
	// answer clears it.
	without atomic.Bool
}

// New returns a Guard with cfg. It fails on a nil Store or on values that
// cannot work together.
func New(cfg Config) (*Guard, error) {
	if cfg.Store == nil {
		return nil, errors.New("idempotency: Config.Store is nil")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"TTL", cfg.TTL}, {"LeaseMargin", cfg.LeaseMargin}, {"MinLease", cfg.MinLease}, {"MaxLease", cfg.MaxLease}, {"StoreTimeout", cfg.StoreTimeout}} {
		if d.v < 0 {
			return nil, fmt.Errorf("idempotency: Config.%s is negative (%v)", d.name, d.v)
		}
	}
	if cfg.MaxResultBytes < 0 {
		return nil, fmt.Errorf("idempotency: Config.MaxResultBytes is negative (%d)", cfg.MaxResultBytes)
	}
	if cfg.OnStoreError != FailClosed && cfg.OnStoreError != RunWithout {
		return nil, fmt.Errorf("idempotency: Config.OnStoreError is %v", cfg.OnStoreError)
	}
	g := &Guard{
		store:    cfg.Store,
		ttl:      or(cfg.TTL, DefaultTTL),
		margin:   or(cfg.LeaseMargin, DefaultLeaseMargin),
		minLease: or(cfg.MinLease, DefaultMinLease),
		// By default the ceiling leaves the margin to a call with Lambda's
		// longest timeout too.
		maxLease: or(cfg.MaxLease, DefaultMaxLease+or(cfg.LeaseMargin, DefaultLeaseMargin)),
		wait:     cfg.Wait,
		check:    cfg.CheckPayload,
		policy:   cfg.OnStoreError,
		maxBytes: or(cfg.MaxResultBytes, DefaultMaxResultBytes),
		storeMax: or(cfg.StoreTimeout, DefaultStoreTimeout),
		log:      cfg.Logger,
		now:      cfg.now,
		waiting:  cfg.waiting,
	}
	if g.minLease > g.maxLease {
		return nil, fmt.Errorf("idempotency: MinLease (%v) is longer than MaxLease (%v)", g.minLease, g.maxLease)
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	scope := cfg.Scope
	if scope == "" {
		scope = os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	if scope == "" {
		scope = "local"
	}
	g.scope = append([]byte(hashTag), 0)
	g.scope = binary.BigEndian.AppendUint32(g.scope, uint32(len(scope)))
	g.scope = append(g.scope, scope...)
	return g, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// hashTag starts what is hashed into a store key, so that no other hash of
// the same bytes is a key.
const hashTag = "funcify/idempotency/v1"

// keyPrefix starts every store key.
const keyPrefix = "idempotency/"

// storeKey returns the store key of k: keyPrefix and the URL-safe base64 of
// SHA-256(hashTag, 0, scope, route, SHA-256(id)), the scope and the route
// each after its length (4 bytes, big-endian), so that no two (scope,
// route, id) share a key.
func (g *Guard) storeKey(k *Key) string {
	var a [256]byte
	b := append(a[:0], g.scope...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(k.route)))
	b = append(b, k.route...)
	b = append(b, k.id[:]...)
	sum := sha256.Sum256(b)
	var out [len(keyPrefix) + 43]byte
	copy(out[:], keyPrefix)
	base64.RawURLEncoding.Encode(out[len(keyPrefix):], sum[:])
	return string(out[:])
}

// The polls of a waiting duplicate: the first after pollFirst, then twice
// as long each time up to pollMax, each with jitter (a random half of it
// taken off).
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 500 * time.Millisecond
)

// maxTakes bounds the attempts to take a key that keeps changing hands
// between a conflict and the read after it.
const maxTakes = 8

// afterCallTimeout bounds each store write after the function returned,
// when the caller's context has ended by then.
const afterCallTimeout = 5 * time.Second

// attempt is one call's hold on its key.
type attempt struct {
	g        *Guard
	key      string
	token    [tokenLen]byte
	payload  [sumLen]byte
	version  int64 // the store's version of the record this attempt wrote
	leaseEnd int64 // Unix nanoseconds
}

// logKey returns the part of the store key that logs show: enough to find
// the record, nothing of the identity or the payload.
func (a *attempt) logKey() slog.Attr {
	return slog.String("key", a.key[len(keyPrefix):len(keyPrefix)+8])
}

// outcome is what begin decided.
type outcome int

const (
	run     outcome = iota // the attempt holds the key: run the function
	replay                 // a completed record: replay it
	without                // the store failed: run without it (RunWithout)
	refused                // return the error
	retake                 // (inspect) try to take the key at the version read
)

// Do runs fn once per key among concurrent and later duplicates, within
// the Guard's TTL, and replays fn's outcome to the duplicates: the value,
// as JSON (encoding/json) decoded into a T, or a [Final] error as a
// [*ReplayedError]. fn gets ctx.
//
//   - The first call takes the key by compare-and-set, runs fn, and stores
//     its outcome. If fn fails (without Final) or panics, Do deletes the
//     record, so that a retry runs fn, and returns the error or
//     re-panics.
//   - A duplicate while fn runs gets [ErrInProgress], or with Config.Wait
//     waits for the outcome within its deadline. With Config.CheckPayload,
//     a duplicate with another payload gets [ErrPayloadMismatch].
//   - A duplicate after the first call's lease ended (it outlived its
//     deadline) takes the key over and runs fn; the late first call's
//     outcome is then not stored (fencing), and logged.
//   - When the store fails, Do returns an error that wraps
//     [ErrStoreUnavailable], or runs fn without idempotency
//     (Config.OnStoreError).
//
// A ctx that is already done takes nothing: Do returns ctx's error. See the
// package documentation for each failure in full.
func Do[T any](ctx context.Context, g *Guard, key Key, fn func(ctx context.Context) (T, error)) (T, error) {
	return do(ctx, g, &key, fn, jsonCodec[T]{})
}

// do is Do with the codec c of the stored results: JSON for Do,
// Middleware's frame for its answers.
func do[T any, C codec[T]](ctx context.Context, g *Guard, key *Key, fn func(ctx context.Context) (T, error), c C) (T, error) {
	var zero T
	var a attempt
	r, o, err := g.begin(ctx, key, &a)
	switch o {
	case refused:
		return zero, err
	case replay:
		return replayed(&r, c)
	case without:
		return fn(ctx)
	}
	return runFn(ctx, &a, fn, c)
}

// A codec encodes the results of Do's function for the store and decodes
// them for replays. Its implementations are empty structs, so that a type
// parameter, not an interface value, carries them: no allocation.
type codec[T any] interface {
	// encode writes v's encoding, 1 byte or more, to e.buf. It may panic
	// (a MarshalJSON that does), which releases the key.
	encode(e *resultEncoder, v T) error
	// decode decodes b, the bytes that encode wrote, into v.
	decode(b []byte, v *T) error
}

// jsonCodec is Do's codec: encoding/json, without HTML escaping.
type jsonCodec[T any] struct{}

func (jsonCodec[T]) encode(e *resultEncoder, v T) error {
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	e.buf.Truncate(e.buf.Len() - 1) // Encode's newline
	return nil
}

func (jsonCodec[T]) decode(b []byte, v *T) error { return json.Unmarshal(b, v) }

// runFn runs fn for the attempt that holds the key, and stores or drops its
// outcome, encoded by c.
func runFn[T any, C codec[T]](ctx context.Context, a *attempt, fn func(context.Context) (T, error), c C) (T, error) {
	returned := false
	defer func() {
		if !returned {
			// fn panicked, which goes on once the record is deleted, or
			// called runtime.Goexit.
			a.abandon(ctx)
		}
	}()
	res, err := fn(ctx)
	if err != nil {
		returned = true
		final := isFinal(err)
		if f, ok := err.(*finalError); ok {
			// The first caller gets the error as fn made it, its type
			// included (which the Lambda runtime reports as the errorType
			// that Step Functions' Retry and Catch match).
			err = f.err
		}
		if final {
			ans := httperror.AnswerOf(err)
			a.finish(ctx, encodeFailed(&a.token, &a.payload, ans.Status, message(err), ans.Message, typeName(err)))
		} else {
			a.abandon(ctx)
		}
		return res, err
	}
	e := encoders.Get().(*resultEncoder)
	defer e.put()
	err = c.encode(e, res) // a MarshalJSON that panics releases the key, as fn's panic does
	returned = true
	if err != nil {
		// The function's work is done: record that, so that it is not
		// done again, as an error, since there is no result to replay.
		a.finish(ctx, encodeFailed(&a.token, &a.payload, 500, "idempotency: the result could not be stored", "", ""))
		return res, fmt.Errorf("idempotency: encode the result: %w", err)
	}
	return res, a.complete(ctx, e.buf.Bytes())
}

// resultEncoder encodes results into a buffer that is reused, since the
// record is a copy of it.
type resultEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := new(resultEncoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (e *resultEncoder) put() {
	if e.buf.Cap() > 64<<10 {
		return // let a large result's buffer go
	}
	e.buf.Reset()
	encoders.Put(e)
}

// replayed returns the outcome of a completed record.
func replayed[T any, C codec[T]](r *record, c C) (T, error) {
	var v T
	switch r.state {
	case completed:
		if err := c.decode(r.result, &v); err != nil {
			return v, fmt.Errorf("idempotency: decode the stored result: %w", err)
		}
		return v, nil
	case failed:
		return v, &ReplayedError{Message: r.msg, Status: r.status, Public: r.public, Type: r.errType}
	default: // tooLarge
		return v, fmt.Errorf("%w: the first call's result, of %d bytes, was not stored", ErrResultTooLarge, r.size)
	}
}

// begin takes the key of k for a, or finds what holds it.
func (g *Guard) begin(ctx context.Context, k *Key, a *attempt) (record, outcome, error) {
	if !k.ok {
		return record{}, refused, errors.New("idempotency: the zero Key, or one made with an empty identity")
	}
	if err := ctx.Err(); err != nil {
		return record{}, refused, err
	}
	a.g = g
	a.key = g.storeKey(k)
	binary.LittleEndian.PutUint64(a.token[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(a.token[8:], rand.Uint64())
	a.payload = k.payload
	// A store that inserts returns the record that holds the key with the
	// conflict: a duplicate then reads it in the request that failed to
	// take the key.
	ins, _ := g.store.(store.Inserter)
	version := int64(0) // take an absent key
	for range maxTakes {
		now := g.now()
		lease := g.lease(ctx, now)
		a.leaseEnd = now.Add(lease).UnixNano()
		rec := encodeInProgress(&a.token, &a.payload, a.leaseEnd)
		var (
			v   int64
			cur store.Item
			err error
		)
		sctx, cancel := g.storeCtx(ctx)
		if version == 0 && ins != nil {
			v, cur, err = ins.Insert(sctx, a.key, rec, lease)
		} else {
			v, err = g.store.CompareAndSet(sctx, a.key, version, rec, lease)
		}
		cancel()
		if err == nil {
			a.version = v
			g.answered()
			return record{}, run, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			if ctx.Err() == nil {
				// The store may have applied the take and lost its reply
				// (cut short by StoreTimeout): a record of this attempt
				// left in progress would refuse every retry until its
				// lease ends.
				a.releaseIfOwn(ctx)
			}
			return g.outage(ctx, a, err)
		}
		var first *store.Item
		if cur.Version != 0 {
			first = &cur
		}
		r, o, err := g.inspect(ctx, a, &version, first)
		if o != retake {
			return r, o, err
		}
	}
	// The key changed hands between each write and the read after it:
	// others are taking it.
	return record{}, refused, ErrInProgress
}

// inspect reads what holds a's key after a lost compare-and-set, and
// waits for it with Config.Wait. first, if not nil, is what holds the key,
// returned by the write that lost (store.Inserter): the first look then
// reads nothing; later ones, while waiting, read the store. It returns
// retake with *version set to try the key again.
func (g *Guard) inspect(ctx context.Context, a *attempt, version *int64, first *store.Item) (record, outcome, error) {
	poll := pollFirst
	for waited := false; ; waited = true {
		var it store.Item
		if first != nil {
			it, first = *first, nil
		} else {
			sctx, cancel := g.storeCtx(ctx)
			var err error
			it, err = g.store.Get(sctx, a.key)
			cancel()
			if err != nil {
				return g.outage(ctx, a, err)
			}
		}
		g.answered()
		if it.Version == 0 {
			*version = 0 // gone since: deleted after a failure, or expired
			return record{}, retake, nil
		}
		r, err := decodeRecord(it.Value)
		if err != nil {
			return g.outage(ctx, a, err)
		}
		if r.token == a.token {
			// This attempt's own write, applied although the store
			// reported a conflict (a lost reply, retried).
			if r.state == inProgress {
				a.version = it.Version
				return r, run, nil
			}
			return r, replay, nil
		}
		// A record without a payload hash (written by a Guard that does not
		// check) matches any payload.
		if g.check && r.payload != noPayloadSum && r.payload != a.payload {
			return r, refused, ErrPayloadMismatch
		}
		if r.state != inProgress {
			return r, replay, nil
		}
		now := g.now()
		left := time.Duration(r.leaseEnd - now.UnixNano())
		if left <= 0 {
			*version = it.Version // the holder outlived its lease: take over
			return record{}, retake, nil
		}
		if !g.wait {
			return r, refused, ErrInProgress
		}
		if !waited && g.waiting != nil {
			g.waiting()
		}
		d := poll - rand.N(poll/2)
		d = min(d, left) // look again when the lease ends, to take over
		if dl, ok := ctx.Deadline(); ok && !now.Add(d).Before(dl) {
			return r, refused, ErrInProgress // the next look would come too late
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return r, refused, fmt.Errorf("%w: %w", ErrInProgress, ctx.Err())
		case <-t.C:
		}
		poll = min(2*poll, pollMax)
	}
}

// storeCtx returns the context of a store call made before the function
// runs: ctx, bounded by StoreTimeout and half the time ctx has left (on the
// real clock, as deadlines are), so that a store that does not answer fails
// while the caller can still act on it (outage sees ctx alive: the store's
// failure).
func (g *Guard) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, inMemory := g.store.(*memstore.Store); inMemory {
		return ctx, noCancel // answers from memory: no wait to bound, no timer to pay for
	}
	d := or(g.storeMax, DefaultStoreTimeout)
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)/2)
	}
	return context.WithTimeout(ctx, d)
}

// noPayloadSum is the payload hash of a key made without one.
var noPayloadSum [sumLen]byte

// lease returns how long a call that starts at now holds its key.
func (g *Guard) lease(ctx context.Context, now time.Time) time.Duration {
	l := g.maxLease
	if dl, ok := ctx.Deadline(); ok {
		l = dl.Sub(now) + g.margin
	}
	return max(g.minLease, min(l, g.maxLease))
}

// outage handles a store error before the function ran: a ctx that ended
// is the caller's, not the store's; else the policy decides.
func (g *Guard) outage(ctx context.Context, a *attempt, err error) (record, outcome, error) {
	if ctx.Err() != nil {
		return record{}, refused, ctx.Err()
	}
	if g.policy == RunWithout {
		if g.without.CompareAndSwap(false, true) {
			g.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: store unavailable, running without idempotency",
				a.logKey(), slog.Any("err", err))
		}
		return record{}, without, nil
	}
	return record{}, refused, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// answered notes that the store answered, ending an outage.
func (g *Guard) answered() {
	if g.without.Load() {
		g.without.Store(false)
	}
}

// complete stores the result's JSON as the attempt's outcome. It returns
// an error, wrapping ErrResultTooLarge, only when the result is too large
// to store, for Config.MaxResultBytes or for the store; other failures are
// logged.
func (a *attempt) complete(ctx context.Context, result []byte) error {
	rec := encodeCompleted(&a.token, &a.payload, result)
	if len(rec) > a.g.maxBytes {
		a.finish(ctx, encodeTooLarge(&a.token, &a.payload, len(result)))
		return fmt.Errorf("%w: a record of %d bytes, more than %d", ErrResultTooLarge, len(rec), a.g.maxBytes)
	}
	return a.finish(ctx, rec)
}

// finish replaces the attempt's record in progress with rec, the outcome,
// if the attempt still holds the key (fencing). When the store refuses rec
// for its size (store.ErrTooLarge), finish writes in its place a record
// that says so, so that duplicates get ErrResultTooLarge rather than find
// the key in progress until the lease ends, and returns an error that wraps
// ErrResultTooLarge and the store's error; it returns nil otherwise, and
// logs the other failures.
func (a *attempt) finish(ctx context.Context, rec []byte) error {
	g := a.g
	version := a.version
	var refused error // the store's refusal of the outcome for its size
	for range 2 {
		_, err := a.cas(ctx, version, rec, g.ttl)
		if refused == nil && errors.Is(err, store.ErrTooLarge) {
			// The store cannot hold the outcome, whatever its state:
			// record over the same version that the call is done
			// without it.
			refused = err
			rec = encodeTooLarge(&a.token, &a.payload, len(rec)-headerLen)
			_, err = a.cas(ctx, version, rec, g.ttl)
		}
		if err == nil {
			return tooLargeForStore(refused)
		}
		if !errors.Is(err, store.ErrConflict) {
			g.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: result not stored; the key stays in progress until its lease ends",
				a.logKey(), slog.Time("lease_end", time.Unix(0, a.leaseEnd)), slog.Any("err", err))
			return tooLargeForStore(refused)
		}
		// Read what holds the key now.
		wctx, cancel := afterCtx(ctx)
		it, err := g.store.Get(wctx, a.key)
		cancel()
		if err != nil {
			g.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: result not stored: the key changed hands and could not be read",
				a.logKey(), slog.Any("err", err))
			return tooLargeForStore(refused)
		}
		if it.Version == 0 {
			// The record expired (the lease ended) and nobody took the
			// key: store the outcome, so that no duplicate runs again.
			version = 0
			continue
		}
		r, err := decodeRecord(it.Value)
		if err == nil && r.token == a.token {
			if r.state != inProgress {
				// This write, applied although reported as a conflict.
				return tooLargeForStore(refused)
			}
			version = it.Version
			continue
		}
		break
	}
	g.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: lease lost: another call took the key; result not stored",
		a.logKey(), slog.Time("lease_end", time.Unix(0, a.leaseEnd)))
	return tooLargeForStore(refused)
}

// tooLargeForStore returns nil for a nil err, else the error of a result
// that the store refused for its size: it wraps ErrResultTooLarge and err.
func tooLargeForStore(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: the store refused its record: %w", ErrResultTooLarge, err)
}

// abandon deletes the attempt's record, so that a retry runs the function.
func (a *attempt) abandon(ctx context.Context) {
	err := a.delete(ctx, a.version)
	if errors.Is(err, store.ErrConflict) {
		// Another version holds the key: another call's, or still this
		// attempt's record under a version the store moved on (ssmstore
		// counts a racing writer's refused write as a version). Read it,
		// and delete it at its version if it is still this attempt's.
		wctx, cancel := afterCtx(ctx)
		it, gerr := a.g.store.Get(wctx, a.key)
		cancel()
		if gerr != nil {
			err = gerr
		} else if r, derr := decodeRecord(it.Value); it.Version == 0 || derr != nil || r.token != a.token || r.state != inProgress {
			return // gone, or not this attempt's any more
		} else {
			err = a.delete(ctx, it.Version)
		}
	}
	if err == nil || errors.Is(err, store.ErrConflict) {
		return // deleted, or not this attempt's any more
	}
	a.g.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: record in progress not deleted; duplicates are refused until its lease ends",
		a.logKey(), slog.Time("lease_end", time.Unix(0, a.leaseEnd)), slog.Any("err", err))
}

// releaseIfOwn deletes the attempt's record if the store holds it in
// progress, after a take whose outcome is unknown: a read and a delete,
// each bounded as a store call before the function runs, and no more than
// a try (a store that is down leaves the record to its lease).
func (a *attempt) releaseIfOwn(ctx context.Context) {
	sctx, cancel := a.g.storeCtx(ctx)
	defer cancel()
	it, err := a.g.store.Get(sctx, a.key)
	if err != nil || it.Version == 0 {
		return
	}
	if r, err := decodeRecord(it.Value); err != nil || r.token != a.token || r.state != inProgress {
		return
	}
	a.g.store.Delete(sctx, a.key, it.Version)
}

// delete deletes the attempt's key at version, on ctx or, when ctx has
// ended (before or during the call), on ctx without its cancellation.
func (a *attempt) delete(ctx context.Context, version int64) error {
	wctx, cancel := afterCtx(ctx)
	err := a.g.store.Delete(wctx, a.key, version)
	cancel()
	if err != nil && wctx == ctx && ctx.Err() != nil {
		wctx, cancel = afterCtx(ctx)
		err = a.g.store.Delete(wctx, a.key, version)
		cancel()
	}
	return err
}

// cas writes rec at the attempt's key over version, on ctx or, when ctx has
// ended (before or during the write), on ctx without its cancellation.
func (a *attempt) cas(ctx context.Context, version int64, rec []byte, ttl time.Duration) (int64, error) {
	wctx, cancel := afterCtx(ctx)
	v, err := a.g.store.CompareAndSet(wctx, a.key, version, rec, ttl)
	cancel()
	if err != nil && wctx == ctx && ctx.Err() != nil {
		wctx, cancel = afterCtx(ctx)
		v, err = a.g.store.CompareAndSet(wctx, a.key, version, rec, ttl)
		cancel()
	}
	return v, err
}

// afterCtx returns the context of a store call after the function
// returned: ctx while it lasts, so that the write honours the caller's
// deadline; once it has ended, ctx without its cancellation for at most
// afterCallTimeout, so that a caller who gave up does not leave its record
// in progress.
func afterCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, noCancel
	}
	return context.WithTimeout(context.WithoutCancel(ctx), afterCallTimeout)
}

func noCancel() {}
