package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// record is the value of the Source's item in the store: the token, sealed
// when an encryption key is set, and the refresh lease.
type record struct {
	// Token is the stored token, in plain JSON, without an encryption key.
	Token json.RawMessage `json:"token,omitempty"`
	// Sealed is the stored token, AES-256-GCM sealed: nonce, then
	// ciphertext and tag, with the store key as additional data.
	Sealed []byte `json:"sealed,omitempty"`
	// Holder is the id of the Source that holds the refresh lease.
	Holder string `json:"holder,omitempty"`
	// Lease is when the lease ends, in Unix nanoseconds.
	Lease int64 `json:"lease,omitempty"`
}

// stored is the token as kept in the store: the grant's response as the
// provider sent it, with the expiry computed from it and when it was
// obtained.
type stored struct {
	Response json.RawMessage `json:"response"`
	Expiry   time.Time       `json:"expiry"`
	Obtained time.Time       `json:"obtained"`
}

// leasedBy reports whether a Source other than id holds the lease at now.
// A lease that ends more than maxAhead from now is not honoured: it comes
// from a skewed clock or a bad writer, and would hold every instance back
// for as long as it says.
func (r *record) leasedBy(id string, now time.Time, maxAhead time.Duration) bool {
	return r.Holder != "" && r.Holder != id && now.UnixNano() < r.Lease && r.Lease <= now.Add(maxAhead).UnixNano()
}

// newAEAD returns the AES-256-GCM cipher of key, or nil for no key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("token: EncryptionKey must be 32 bytes (AES-256), got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token: EncryptionKey: %w", err)
	}
	return cipher.NewGCM(block)
}

// setToken puts g in r, sealed if the Source has a key.
func (s *Source) setToken(r *record, g *granted) error {
	plain, err := json.Marshal(stored{Response: g.raw, Expiry: g.tok.Expiry, Obtained: g.obtained})
	if err != nil {
		return err
	}
	r.Token, r.Sealed = nil, nil
	if s.aead == nil {
		r.Token = plain
		return nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	r.Sealed = s.aead.Seal(nonce, nonce, plain, []byte(s.key))
	return nil
}

// errNoToken says a record holds no token.
var errNoToken = errors.New("no token")

// token reads the token out of r.
func (s *Source) token(r *record) (*granted, error) {
	plain := []byte(r.Token)
	switch {
	case len(r.Sealed) > 0:
		if s.aead == nil {
			return nil, errors.New("the stored token is encrypted and no EncryptionKey is set")
		}
		n := s.aead.NonceSize()
		if len(r.Sealed) < n {
			return nil, errors.New("the stored token is too short")
		}
		var err error
		plain, err = s.aead.Open(nil, r.Sealed[:n], r.Sealed[n:], []byte(s.key))
		if err != nil {
			return nil, errors.New("the stored token does not decrypt with EncryptionKey")
		}
	case len(plain) == 0:
		return nil, errNoToken
	}
	var st stored
	if err := json.Unmarshal(plain, &st); err != nil {
		return nil, errors.New("the stored token is not valid JSON")
	}
	tok, err := parse(st.Response, st.Obtained, 0)
	if err != nil {
		return nil, err
	}
	tok.Expiry = st.Expiry
	return &granted{raw: st.Response, tok: tok, obtained: st.Obtained}, nil
}

func decodeRecord(b []byte) (*record, error) {
	var r record
	if len(b) == 0 {
		return &r, nil
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return &record{}, errors.New("the stored record is not valid JSON")
	}
	return &r, nil
}
