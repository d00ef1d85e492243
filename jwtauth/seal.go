package jwtauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
)

// minSealKey is the least length of a [WithSealKey] key: the 256 bits of
// HMAC-SHA256.
const minSealKey = 32

// sealPrefix starts a value sealed by [WithSealKey]: the prefix, the
// base64url tag, a dot, then the document as it would be stored unsealed.
const sealPrefix = "jwtauth-hmac1."

// seal returns value as stored under the store key key: with its tag when
// the source has a seal key, as it is otherwise.
func (o options) seal(key string, value []byte) []byte {
	if o.sealKey == nil {
		return value
	}
	tag := o.tag(key, value)
	out := make([]byte, 0, len(sealPrefix)+base64.RawURLEncoding.EncodedLen(len(tag))+1+len(value))
	out = append(out, sealPrefix...)
	out = base64.RawURLEncoding.AppendEncode(out, tag)
	out = append(out, '.')
	return append(out, value...)
}

// open returns the document in the stored value of key. With a seal key,
// only a value whose tag checks is returned; a value that fails is logged,
// being either a store written by someone without the key or a fleet whose
// instances hold different keys. Without one, a sealed value is read
// without checking its tag and any other value is taken as it is.
func (o options) open(ctx context.Context, key string, value []byte) ([]byte, bool) {
	rest, sealed := bytes.CutPrefix(value, []byte(sealPrefix))
	var tag64, doc []byte
	if sealed {
		tag64, doc, sealed = bytes.Cut(rest, []byte{'.'})
	}
	if o.sealKey == nil {
		if sealed {
			return doc, true
		}
		return value, true
	}
	if sealed {
		tag, err := base64.RawURLEncoding.DecodeString(string(tag64))
		if err == nil && hmac.Equal(tag, o.tag(key, doc)) {
			return doc, true
		}
	}
	o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: stored document refused: its seal does not check with the seal key; fetching it from the provider",
		slog.String("key", key), slog.Bool("sealed", sealed))
	return nil, false
}

// tag is the HMAC-SHA256 of value under the seal key, bound to the store
// key so that a value sealed for one document cannot stand for another.
func (o options) tag(key string, value []byte) []byte {
	m := hmac.New(sha256.New, o.sealKey)
	m.Write([]byte("funcify/jwtauth store v1\x00"))
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write(value)
	return m.Sum(nil)
}
