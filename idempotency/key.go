package idempotency

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/funcify/funcify/internal/canonjson"
)

// Key identifies a call for [Do]: a route, an identity within it, and a hash
// of the call's payload. Calls with equal routes and identities, run by
// Guards of the same Scope on the same store, are duplicates of each other.
// Build a Key with [NewKey] or [KeyFromJSON]; the zero Key is refused by Do.
//
// A Key holds hashes (SHA-256) of the identity and of the payload, never
// the bytes themselves.
type Key struct {
	route   string
	id      [sumLen]byte // SHA-256 of the identity
	payload [sumLen]byte // see payloadSum
	ok      bool
}

// NewKey returns the key of the call on route identified by id, which the
// caller chooses: an SQS message id, an Idempotency-Key header's value, an
// order number. The route keeps apart the keys of different handlers of a
// function ("POST /orders", "order-events"); payload is the call's input,
// which Config.CheckPayload compares between duplicates: a payload that is
// JSON is hashed in canonical form (see [KeyFromJSON]), so another member
// order or spacing is the same payload; any other payload is hashed as its
// bytes. An empty payload is a payload too; an empty id makes a key that Do
// refuses, since every call whose id came out empty would share it.
func NewKey(route, id string, payload []byte) Key {
	if id == "" {
		// Every call whose id came out empty would share this key, and get
		// the first one's result: Do refuses it, as the zero Key.
		return Key{}
	}
	k := Key{route: route, ok: true}
	k.id = sha256.Sum256([]byte(id))
	k.payload = payloadSum(payload)
	return k
}

// uncheckedKey is NewKey without the payload's hash, for a Guard that does
// not compare payloads: canonicalising a payload costs several times what
// Do does. A record written with it holds no payload hash, which a Guard
// that does check takes as unknown (see Guard.begin), so that turning
// CheckPayload on never refuses the duplicates of records written before.
func uncheckedKey(route, id string) Key {
	if id == "" {
		return Key{}
	}
	return Key{route: route, ok: true, id: sha256.Sum256([]byte(id))}
}

// KeyFromJSON returns the key of the call on route whose JSON payload
// identifies it. The identity is the canonical JSON of the values at the RFC
// 6901 pointers into payload ("/order/id", "/lines/0/sku"), all of them, as
// an array: `["o-1"]` for "/order/id" in {"order":{"id":"o-1"}}; with no
// pointer, the canonical form of the whole payload. A pointer that does not
// resolve is an error: a key is never made of a missing value, which would
// make every call without it a duplicate of the first.
//
// The canonical form sorts object members, drops insignificant whitespace,
// writes strings with the fewest escapes ("\u0041" is "A") and numbers by
// their exact decimal value (1, 1.0, 10E-1 are one number; large integers
// keep all their digits); it is RFC 8785's, but for numbers, which RFC 8785
// rounds to a double. A payload that is not JSON, or that has duplicate
// member names, invalid UTF-8 or an unpaired surrogate escape, has no
// canonical form and is an error.
//
// KeyFromJSON(route, payload, ptrs...) equals NewKey(route, id, payload)
// where id is the identity above.
func KeyFromJSON(route string, payload []byte, pointers ...string) (Key, error) {
	d, err := canonjson.Parse(payload)
	if err != nil {
		return Key{}, fmt.Errorf("idempotency: key from JSON: %w", err)
	}
	defer d.Release()
	b := getBuf()
	defer putBuf(b)
	// The payload's hash.
	buf := append((*b)[:0], tagJSON)
	buf = d.Append(buf)
	k := Key{route: route, ok: true, payload: sha256.Sum256(buf)}
	// The identity.
	if len(pointers) == 0 {
		k.id = sha256.Sum256(buf[1:])
		*b = buf
		return k, nil
	}
	buf = append(buf[:0], '[')
	for i, p := range pointers {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = d.AppendPointer(buf, p); err != nil {
			*b = buf
			return Key{}, fmt.Errorf("idempotency: key from JSON: %w", err)
		}
	}
	buf = append(buf, ']')
	k.id = sha256.Sum256(buf)
	*b = buf
	return k, nil
}

// The first byte hashed with a payload says how it was written.
const (
	tagJSON  = 'j' // the payload's canonical JSON
	tagBytes = 'b' // the payload's bytes, which are not JSON
)

// payloadSum returns the SHA-256 of payload's canonical JSON, or of its
// bytes if it is not JSON, each after a tag of its own.
func payloadSum(payload []byte) [sumLen]byte {
	b := getBuf()
	defer putBuf(b)
	buf := append((*b)[:0], tagJSON)
	buf, err := canonjson.Append(buf, payload)
	if err != nil {
		buf = append(buf[:0], tagBytes)
		buf = append(buf, payload...)
	}
	*b = buf
	return sha256.Sum256(buf)
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func getBuf() *[]byte { return bufs.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	bufs.Put(b)
}
