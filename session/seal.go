package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// KeySize is the size of a sealing key: AES-256.
const KeySize = 32

// Errors of [Sealer.Open]. A session reads a value that fails to open as
// absent and logs which of these it was.
var (
	// ErrInvalidSeal: the value is not one this Sealer's keys sealed for
	// this cookie name: tampered, truncated, sealed for another cookie, or
	// sealed with a key no longer listed.
	ErrInvalidSeal = errors.New("session: sealed value does not open")
	// ErrExpired: the value opened but its expiry has passed.
	ErrExpired = errors.New("session: sealed value expired")
)

// ErrNoKeys is returned by [NewSealer], [ParseKeys] and [KeysFromEnv] given
// no key, and by [Session.SetSealed] when the middleware has no Sealer.
var ErrNoKeys = errors.New("session: no sealing keys")

const (
	sealVersion = 1
	nonceSize   = 12
	tagSize     = 16
	expirySize  = 8
	minSealed   = 1 + nonceSize + tagSize + expirySize
	// maxSealed bounds what Open decodes: no cookie larger than
	// MaxCookieBytes can carry more.
	maxSealed = MaxCookieBytes
)

var sealEncoding = base64.RawURLEncoding.Strict()

// Sealer seals cookie values with AES-256-GCM and opens them again.
//
// A sealed value is the unpadded base64url encoding (RFC 4648 section 5) of
//
//	version (1 byte, 1) || nonce (12 random bytes) || ciphertext
//
// where ciphertext is AES-256-GCM, under the first key, of the expiry (Unix
// seconds, 8 bytes big-endian) followed by the value, with the cookie's
// name as the associated data, and ends with GCM's 16-byte tag. So a sealed
// value is 38 + ceil(4/3 (8 + len(value))) bytes, and it cannot be read,
// altered, or moved to a cookie of another name without the key.
//
// The first key seals; every key opens, so keys rotate by putting a new key
// first and, once every value sealed with the old one has expired, removing
// the old one. Nonces are random: seal fewer than 2^32 values per key.
//
// A Sealer is safe for concurrent use. It never prints or logs its keys.
type Sealer struct {
	aeads []cipher.AEAD // aeads[0] seals
}

// NewSealer returns a Sealer for keys, each [KeySize] random bytes: the
// first seals, all open. The keys are not retained; the caller may wipe them.
func NewSealer(keys ...[]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	s := &Sealer{aeads: make([]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("session: key %d is %d bytes, want %d", i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("session: key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session: key %d: %w", i, err)
		}
		s.aeads[i] = aead
	}
	return s, nil
}

// ParseKeys decodes comma-separated base64 keys of [KeySize] bytes each, as
// in the value of a secret or an environment variable. Standard and URL
// alphabets are accepted, padded or not; spaces around keys are ignored.
// Errors name the key's position, never its text.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		k, err := decodeKey(field)
		if err != nil {
			return nil, fmt.Errorf("session: key %d is not base64", i)
		}
		if len(k) != KeySize {
			return nil, fmt.Errorf("session: key %d is %d bytes, want %d", i, len(k), KeySize)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	return keys, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	return enc.DecodeString(s)
}

// KeysFromEnv reads keys from the environment variable name with
// [ParseKeys]: comma-separated base64 keys, the sealing key first. Make one
// with `openssl rand -base64 32`.
func KeysFromEnv(name string) ([][]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%w: %s is not set", ErrNoKeys, name)
	}
	keys, err := ParseKeys(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return keys, nil
}

// Seal seals value for the cookie name, to open until expires.
func (s *Sealer) Seal(name, value string, expires time.Time) string {
	buf := make([]byte, 1+nonceSize, 1+nonceSize+expirySize+len(value)+tagSize)
	buf[0] = sealVersion
	rand.Read(buf[1:]) // never fails (crypto/rand, Go 1.24+)
	plain := make([]byte, 0, expirySize+len(value))
	plain = binary.BigEndian.AppendUint64(plain, uint64(expires.Unix()))
	plain = append(plain, value...)
	out := s.aeads[0].Seal(buf, buf[1:1+nonceSize], plain, []byte(name))
	return sealEncoding.EncodeToString(out)
}

// Open returns the value sealed for the cookie name, if one of the keys
// opens it and its expiry is after now. It fails with [ErrInvalidSeal] or
// [ErrExpired].
func (s *Sealer) Open(name, sealed string, now time.Time) (string, error) {
	if len(sealed) > maxSealed || len(sealed) < sealEncoding.EncodedLen(minSealed) {
		return "", ErrInvalidSeal
	}
	b, err := sealEncoding.DecodeString(sealed)
	if err != nil || len(b) < minSealed || b[0] != sealVersion {
		return "", ErrInvalidSeal
	}
	nonce, ct := b[1:1+nonceSize], b[1+nonceSize:]
	for _, aead := range s.aeads {
		plain, err := aead.Open(ct[:0:0], nonce, ct, []byte(name))
		if err != nil {
			continue
		}
		exp := int64(binary.BigEndian.Uint64(plain))
		if now.Unix() >= exp {
			return "", ErrExpired
		}
		return string(plain[expirySize:]), nil
	}
	return "", ErrInvalidSeal
}

// String describes the Sealer without its keys.
func (s *Sealer) String() string {
	if s == nil {
		return "session.Sealer(nil)"
	}
	return "session.Sealer{keys: " + strconv.Itoa(len(s.aeads)) + "}"
}

// LogValue logs the Sealer as the number of its keys.
func (s *Sealer) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(slog.Int("keys", len(s.aeads)))
}
