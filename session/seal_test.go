package session_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/session"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestSealOpen(t *testing.T) {
	s := newSealer(t, key(1))
	for _, v := range []string{"", "1", "x y;z\"é\x00", strings.Repeat("v", 1000)} {
		sealed := s.Seal("sid", v, now.Add(time.Minute))
		if got, err := s.Open("sid", sealed, now); err != nil || got != v {
			t.Errorf("Open(Seal(%q)): got %q, %v", v, got, err)
		}
		if i := strings.IndexFunc(sealed, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
		}); i >= 0 {
			t.Errorf("sealed %q has %q, not base64url without padding", sealed, sealed[i])
		}
		if want := (1 + 12 + 16 + 8 + len(v)) * 4; len(sealed) != (want+2)/3 {
			t.Errorf("sealed length %d, want %d", len(sealed), (want+2)/3)
		}
	}
	if a, b := s.Seal("sid", "v", now), s.Seal("sid", "v", now); a == b {
		t.Error("two seals of one value are equal: the nonce does not change")
	}
}

// TestSealFormat opens a sealed value by hand, as the Sealer documents it.
func TestSealFormat(t *testing.T) {
	s := newSealer(t, key(7))
	b, err := base64.RawURLEncoding.DecodeString(s.Seal("sid", "hello", time.Unix(1900000000, 0)))
	if err != nil || b[0] != 1 {
		t.Fatalf("decode: %v, version %d", err, b[0])
	}
	aead := gcm(t, key(7))
	plain, err := aead.Open(nil, b[1:13], b[13:], []byte("sid"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x00\x00\x00\x00\x71\x3f\xb3\x00hello"; string(plain) != want {
		t.Errorf("got plaintext %q, want %q", plain, want)
	}
}

func TestTamper(t *testing.T) {
	s := newSealer(t, key(1))
	sealed := s.Seal("sid", "user-42", now.Add(time.Hour))
	raw, _ := base64.RawURLEncoding.DecodeString(sealed)

	// Every single flipped bit, in the bytes and in the text.
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			if v, err := s.Open("sid", base64.RawURLEncoding.EncodeToString(b), now); !errors.Is(err, session.ErrInvalidSeal) {
				t.Fatalf("byte %d bit %d flipped: got %q, %v", i, bit, v, err)
			}
		}
	}
	for i := range sealed {
		for bit := range 7 {
			b := []byte(sealed)
			b[i] ^= 1 << bit
			if v, err := s.Open("sid", string(b), now); err == nil {
				t.Fatalf("text byte %d bit %d flipped: opened to %q", i, bit, v)
			}
		}
	}

	tests := []struct {
		name, cookie, value string
		sealer              *session.Sealer
		want                error
	}{
		{"intact", "sid", sealed, s, nil},
		{"swapped cookie name", "user", sealed, s, session.ErrInvalidSeal},
		{"name case", "SID", sealed, s, session.ErrInvalidSeal},
		{"truncated by one", "sid", sealed[:len(sealed)-1], s, session.ErrInvalidSeal},
		{"truncated to header", "sid", sealed[:20], s, session.ErrInvalidSeal},
		{"empty", "sid", "", s, session.ErrInvalidSeal},
		{"extended", "sid", sealed + "AA", s, session.ErrInvalidSeal},
		{"padded", "sid", sealed + "==", s, session.ErrInvalidSeal},
		{"standard alphabet", "sid", strings.NewReplacer("-", "+", "_", "/").Replace(sealed) + "+", s, session.ErrInvalidSeal},
		{"other version", "sid", base64.RawURLEncoding.EncodeToString(append([]byte{2}, raw[1:]...)), s, session.ErrInvalidSeal},
		{"foreign key", "sid", sealed, newSealer(t, key(2)), session.ErrInvalidSeal},
		{"huge", "sid", strings.Repeat("A", 1<<16), s, session.ErrInvalidSeal},
		{"expired", "sid", s.Seal("sid", "v", now), s, session.ErrExpired},
		{"expired long ago", "sid", s.Seal("sid", "v", time.Time{}), s, session.ErrExpired},
		{"one second left", "sid", s.Seal("sid", "user-42", now.Add(time.Second)), s, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.sealer.Open(tt.cookie, tt.value, now)
			if !errors.Is(err, tt.want) || (err == nil && v != "user-42") || (err != nil && v != "") {
				t.Errorf("got %q, %v, want %v", v, err, tt.want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	old := newSealer(t, key(1))
	sealed := old.Seal("sid", "v", now.Add(time.Hour))

	rotated := newSealer(t, key(2), key(1))
	if v, err := rotated.Open("sid", sealed, now); err != nil || v != "v" {
		t.Errorf("old key still listed: got %q, %v", v, err)
	}
	resealed := rotated.Seal("sid", "w", now.Add(time.Hour))
	if _, err := old.Open("sid", resealed, now); !errors.Is(err, session.ErrInvalidSeal) {
		t.Errorf("the first key seals: the old sealer opened a new value (%v)", err)
	}
	retired := newSealer(t, key(2))
	if v, err := retired.Open("sid", sealed, now); !errors.Is(err, session.ErrInvalidSeal) {
		t.Errorf("old key removed: got %q, %v", v, err)
	}
	if v, err := retired.Open("sid", resealed, now); err != nil || v != "w" {
		t.Errorf("new key: got %q, %v", v, err)
	}
}

// TestTamperThroughMiddleware sends bad sealed cookies to a handler: each
// reads as absent with a debug line giving the reason.
func TestTamperThroughMiddleware(t *testing.T) {
	s := newSealer(t, key(1))
	good := s.Seal("sid", "v", time.Now().Add(time.Hour))
	tests := []struct{ name, cookie, reason string }{
		{"expired", "sid=" + s.Seal("sid", "v", time.Now().Add(-time.Second)), "expired"},
		{"swapped name", "sid=" + s.Seal("other", "v", time.Now().Add(time.Hour)), "invalid"},
		{"truncated", "sid=" + good[:len(good)-3], "invalid"},
		{"old key removed", "sid=" + newSealer(t, key(9)).Seal("sid", "v", time.Now().Add(time.Hour)), "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			w := serve(t, session.Options{Sealer: s, Logger: logger}, tt.cookie, func(w http.ResponseWriter, r *http.Request) {
				if v, ok := session.FromRequest(r).GetSealed("sid"); ok {
					t.Errorf("got %q, want absent", v)
				}
			})
			if w.Code != http.StatusOK {
				t.Errorf("got status %d", w.Code)
			}
			want := fmt.Sprintf(`level=DEBUG msg="session: sealed cookie ignored" cookie=sid reason=%s`, tt.reason)
			if !strings.Contains(logs.String(), want) {
				t.Errorf("got log %q, want %q", logs.String(), want)
			}
			if _, v, _ := strings.Cut(tt.cookie, "="); strings.Contains(logs.String(), v) {
				t.Errorf("the value reached the log: %s", logs.String())
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(key(0xfb))
	k2 := base64.RawURLEncoding.EncodeToString(key(0xfe))
	keys, err := session.ParseKeys(" " + k1 + " ,," + k2 + ",")
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], key(0xfb)) || !bytes.Equal(keys[1], key(0xfe)) {
		t.Fatalf("got %x, %v", keys, err)
	}
	short := base64.StdEncoding.EncodeToString(key(1)[:16])
	for _, in := range []string{"", " , ", k1 + ",not base64!", k1 + "," + short} {
		if _, err := session.ParseKeys(in); err == nil {
			t.Errorf("ParseKeys(%q): no error", in)
		} else if strings.Contains(err.Error(), k1) {
			t.Errorf("the error %q shows a key", err)
		}
	}
	if _, err := session.ParseKeys(""); !errors.Is(err, session.ErrNoKeys) {
		t.Errorf("empty: got %v, want ErrNoKeys", err)
	}
}

func TestKeysFromEnv(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(key(3))
	t.Setenv("TEST_SESSION_KEYS", k)
	keys, err := session.KeysFromEnv("TEST_SESSION_KEYS")
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], key(3)) {
		t.Errorf("got %x, %v", keys, err)
	}
	if _, err := session.KeysFromEnv("TEST_SESSION_KEYS_UNSET"); !errors.Is(err, session.ErrNoKeys) {
		t.Errorf("unset: got %v, want ErrNoKeys", err)
	}
	t.Setenv("TEST_SESSION_KEYS", "AAAA")
	if _, err := session.KeysFromEnv("TEST_SESSION_KEYS"); err == nil || !strings.Contains(err.Error(), "TEST_SESSION_KEYS") {
		t.Errorf("short key: got %v", err)
	}
}

func TestNewSealerRejects(t *testing.T) {
	if _, err := session.NewSealer(); !errors.Is(err, session.ErrNoKeys) {
		t.Errorf("no keys: got %v", err)
	}
	if _, err := session.NewSealer(key(1), key(1)[:16]); err == nil {
		t.Error("a 16-byte key: no error")
	}
}

func TestSealerHidesKeys(t *testing.T) {
	s := newSealer(t, key(0xab), key(0xcd))
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "sealer", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %+v", s, s, s), logs.String()} {
		if strings.Contains(strings.ToLower(out), "abab") || !strings.Contains(out, "2") {
			t.Errorf("got %q", out)
		}
	}
}

func gcm(t *testing.T, key []byte) cipher.AEAD {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
