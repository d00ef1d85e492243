package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

var discard = slog.New(slog.DiscardHandler)

// lastWrite wraps a store and keeps the key and value of its last
// compare-and-set.
type lastWrite struct {
	store.Store
	mu    sync.Mutex // guards key, value
	key   string
	value []byte
}

func (s *lastWrite) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	s.mu.Lock()
	s.key, s.value = key, bytes.Clone(value)
	s.mu.Unlock()
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

func (s *lastWrite) last() (string, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, s.value
}

// bodyHandler answers 201 with a Content-Type and a body of n bytes, and
// counts its runs.
func bodyHandler(n int, runs *int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*runs++
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		w.Write(bytes.Repeat([]byte("ab"), n)[:n])
	})
}

func serveKey(h http.Handler, key string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/pages", strings.NewReader(`{}`))
	r.Header.Set(HeaderName, key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestFrameSizeBoundary: the body is stored whenever the whole record fits
// in MaxResultBytes: a record of exactly MaxResultBytes replays, one byte
// more does not (the first caller gets its answer, repeats 500).
func TestFrameSizeBoundary(t *testing.T) {
	const limit = 4096
	prefix := framePrefixLen([]field{{name: "Content-Type", values: []string{"text/plain"}}})
	fits := limit - headerLen - prefix
	for _, tt := range []struct {
		name   string
		body   int
		replay bool
	}{
		{"record of MaxResultBytes", fits, true},
		{"one byte more", fits + 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &lastWrite{Store: memstore.New()}
			g, err := New(Config{Store: s, MaxResultBytes: limit, Logger: discard})
			if err != nil {
				t.Fatal(err)
			}
			var runs int
			h := Middleware(g)(bodyHandler(tt.body, &runs))
			first := serveKey(h, "k")
			if first.Code != http.StatusCreated || first.Body.Len() != tt.body {
				t.Fatalf("first: got %d and %d bytes, want 201 and %d", first.Code, first.Body.Len(), tt.body)
			}
			// The answer's record, or, too large, the Final error in its stead.
			_, v := s.last()
			if st := state(v[1]); tt.replay && (st != completed || len(v) != limit) || !tt.replay && st != failed {
				t.Errorf("record of state %d and %d bytes, want %d bytes completed or, too large, failed", st, len(v), limit)
			}
			again := serveKey(h, "k")
			switch {
			case runs != 1:
				t.Errorf("handler ran %d times, want 1", runs)
			case tt.replay && (again.Code != http.StatusCreated || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) ||
				again.Header().Get("Content-Type") != "text/plain" || again.Header().Get(ReplayedHeader) != "true"):
				t.Errorf("repeat: got %d, %d bytes, %v; want the first answer replayed", again.Code, again.Body.Len(), again.Header())
			case !tt.replay && again.Code != http.StatusInternalServerError:
				t.Errorf("repeat: got %d, want 500", again.Code)
			}
		})
	}
}

// TestFrameCorrupt: a stored answer whose frame does not decode answers
// 500 "internal error" in the envelope, with nothing of the decoding error,
// and never panics (a status out of range would make WriteHeader panic).
func TestFrameCorrupt(t *testing.T) {
	valid := frame(t, response{status: 201, header: []field{{"Content-Type", []string{"text/plain"}}, {"Location", []string{"/a"}}}, body: []byte("body")})
	for _, tt := range []struct {
		name  string
		frame []byte
	}{
		{"short", valid[:3]},
		{"version 2", append([]byte{2}, valid[1:]...)},
		{"status 0", append([]byte{1, 0, 0}, valid[3:]...)},
		{"status 1000", append([]byte{1, 0x03, 0xe8}, valid[3:]...)},
		{"more fields than bytes", []byte{1, 0, 201, 0x7f, 'b'}},
		{"field cut", valid[:10]},
		{"newline in a value", bytes.Replace(valid, []byte("/a"), []byte("\r\n"), 1)},
		{"space in a name", bytes.Replace(valid, []byte("Location"), []byte("Locat on"), 1)},
		{"names out of order", bytes.Replace(valid, []byte("Location"), []byte("Aocation"), 1)},
		{"long varint", append([]byte{1, 0, 201, 0x80, 0}, "body"...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &lastWrite{Store: memstore.New()}
			g, err := New(Config{Store: s, Logger: discard})
			if err != nil {
				t.Fatal(err)
			}
			var runs int
			h := Middleware(g)(bodyHandler(10, &runs))
			if w := serveKey(h, "k"); w.Code != http.StatusCreated {
				t.Fatalf("first: got %d", w.Code)
			}
			key, rec := s.last()
			it, err := s.Get(t.Context(), key)
			if err != nil || !bytes.Equal(it.Value, rec) {
				t.Fatalf("the record written last is not the one stored (%v)", err)
			}
			bad := append(rec[:headerLen:headerLen], tt.frame...)
			if _, err := s.CompareAndSet(t.Context(), key, it.Version, bad, time.Hour); err != nil {
				t.Fatal(err)
			}
			w := serveKey(h, "k")
			var env struct {
				Error string `json:"error"`
				Code  int    `json:"code"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || w.Code != 500 || env.Code != 500 {
				t.Fatalf("got %d %s, want 500 in the envelope", w.Code, w.Body)
			}
			if env.Error != "internal error" || strings.Contains(w.Body.String(), "malformed") || strings.Contains(w.Body.String(), "decode") {
				t.Errorf("got message %q, want internal error and nothing of the cause", env.Error)
			}
			if runs != 1 {
				t.Errorf("handler ran %d times, want 1", runs)
			}
		})
	}
}

// TestFrameRoundTrip: decode(encode(r)) is r, for lengths around the
// varints' 1-byte limit.
func TestFrameRoundTrip(t *testing.T) {
	long := strings.Repeat("v", 200)
	for _, r := range []response{
		{status: 200},
		{status: 204, body: []byte{0, 1, 2, 0xff}},
		{status: 599, header: []field{{"Content-Type", []string{"application/json"}}}, body: []byte(`{}`)},
		{status: 201, header: []field{
			{"Content-Encoding", []string{"gzip", ""}},
			{"Location", []string{long}},
			{"X-N" + strings.Repeat("n", 130), []string{"\tx\x80"}},
		}, body: bytes.Repeat([]byte{'b'}, 300)},
	} {
		b := frame(t, r)
		if n := framePrefixLen(r.header) + len(r.body); n != len(b) {
			t.Errorf("framePrefixLen + body = %d, want the frame's length %d", n, len(b))
		}
		var got response
		if err := (frameCodec{}).decode(b, &got); err != nil {
			t.Errorf("decode(encode(%v)): %v", r, err)
			continue
		}
		if len(got.body) == 0 {
			got.body = r.body // nil or empty
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("decode(encode(r)) = %v, want %v", got, r)
		}
	}
}

func frame(t testing.TB, r response) []byte {
	t.Helper()
	var e resultEncoder
	if err := (frameCodec{}).encode(&e, r); err != nil {
		t.Fatal(err)
	}
	return e.buf.Bytes()
}

// FuzzFrame: decode never panics; a frame it accepts is one that encode
// writes (encode(decode(b)) is b) and whose status and headers a
// ResponseWriter takes; and an answer built from the inputs survives
// encode then decode.
func FuzzFrame(f *testing.F) {
	f.Add(frame(f, response{status: 201, header: []field{{"Content-Type", []string{"text/plain"}}, {"Location", []string{"/a", "/b"}}}, body: []byte("body")}), uint16(1), "application/json", []byte("{}"))
	f.Add(frame(f, response{status: 200}), uint16(0), "", []byte(nil))
	f.Add([]byte{1, 0, 201, 0x80, 0}, uint16(399), "\r\n", []byte{0})
	f.Add([]byte{1, 0, 201, 1, 1, 'A', 1, 0}, uint16(7), strings.Repeat("x", 200), bytes.Repeat([]byte{0xff}, 200))
	f.Fuzz(func(t *testing.T, b []byte, status uint16, value string, body []byte) {
		var r response
		if err := (frameCodec{}).decode(b, &r); err == nil {
			if again := frame(t, r); !bytes.Equal(again, b) {
				t.Fatalf("encode(decode(%q)) = %q", b, again)
			}
			// Replay it: WriteHeader panics on a status out of range.
			h := &idemHandler{o: &httpOptions{marker: ReplayedHeader}}
			h.replay(httptest.NewRecorder(), &r)
		}

		r = response{status: 200 + int(status%400), body: body}
		if validValue(value) {
			r.header = []field{{"Content-Type", []string{value}}, {"Location", []string{value, value}}}
		}
		var got response
		if err := (frameCodec{}).decode(frame(t, r), &got); err != nil {
			t.Fatalf("decode(encode(%v)): %v", r, err)
		}
		if len(got.body) == 0 && len(r.body) == 0 {
			got.body = r.body
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("decode(encode(r)) = %v, want %v", got, r)
		}
	})
}
