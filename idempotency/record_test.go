package idempotency

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	tok := [tokenLen]byte{1, 2, 3}
	sum := [sumLen]byte{9, 8, 7}
	tests := []struct {
		name string
		b    []byte
		want record
	}{
		{"in progress", encodeInProgress(&tok, &sum, -5), record{state: inProgress, leaseEnd: -5}},
		{"completed", encodeCompleted(&tok, &sum, []byte(`{"id":1}`)), record{state: completed, result: []byte(`{"id":1}`)}},
		{"too large", encodeTooLarge(&tok, &sum, 1<<20), record{state: tooLarge, size: 1 << 20}},
		{"failed", encodeFailed(&tok, &sum, 409, "out of stock: A-1", "out of stock", ""), record{state: failed, status: 409, msg: "out of stock: A-1", public: "out of stock"}},
		{"failed, typed", encodeFailed(&tok, &sum, 409, "out of stock: A-1", "out of stock", "OutOfStock"), record{state: failed, status: 409, msg: "out of stock: A-1", public: "out of stock", errType: "OutOfStock"}},
		{"failed, empty messages", encodeFailed(&tok, &sum, 500, "", "", ""), record{state: failed, status: 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRecord(tt.b)
			tt.want.token, tt.want.payload = tok, sum
			if err != nil || got.state != tt.want.state || got.token != tt.want.token || got.payload != tt.want.payload ||
				got.leaseEnd != tt.want.leaseEnd || !bytes.Equal(got.result, tt.want.result) || got.size != tt.want.size ||
				got.status != tt.want.status || got.msg != tt.want.msg || got.public != tt.want.public {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRecordFailedMessagesCut(t *testing.T) {
	tok, sum := [tokenLen]byte{}, [sumLen]byte{}
	long := strings.Repeat("é", maxMessage) // 2 bytes each
	r, err := decodeRecord(encodeFailed(&tok, &sum, 400, long, "bad \xff byte", ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.msg) != maxMessage || r.msg != long[:maxMessage] {
		t.Errorf("message of %d bytes, want the first %d", len(r.msg), maxMessage)
	}
	if r.public != "bad \uFFFD byte" {
		t.Errorf("public %q, want the invalid byte replaced", r.public)
	}
}

func TestRecordStrictDecode(t *testing.T) {
	tok, sum := [tokenLen]byte{}, [sumLen]byte{}
	in := encodeInProgress(&tok, &sum, 1)
	done := encodeCompleted(&tok, &sum, []byte("1"))
	fail := encodeFailed(&tok, &sum, 400, "m", "p", "")
	with := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short header", in[:headerLen-1]},
		{"other version", with(in, func(b []byte) []byte { b[0] = 2; return b })},
		{"unknown state", with(in, func(b []byte) []byte { b[1] = 9; return b })},
		{"state 0", with(in, func(b []byte) []byte { b[1] = 0; return b })},
		{"in progress, short", in[:len(in)-1]},
		{"in progress, long", append(bytes.Clone(in), 0)},
		{"completed, no result", done[:headerLen]},
		{"too large, short", encodeTooLarge(&tok, &sum, 5)[:headerLen+7]},
		{"failed, no status", fail[:headerLen+1]},
		{"failed, truncated", fail[:len(fail)-1]},
		{"failed, trailing", append(bytes.Clone(fail), 'x')},
		{"failed, empty type", append(bytes.Clone(fail), 0)},
		{"failed, huge length", binary.AppendUvarint(bytes.Clone(fail[:headerLen+2]), 1<<40)},
		{"failed, invalid UTF-8", with(fail, func(b []byte) []byte { b[headerLen+3] = 0xff; return b })},
	}
	for _, tt := range tests {
		if r, err := decodeRecord(tt.b); err == nil {
			t.Errorf("%s: decoded %+v, want an error", tt.name, r)
		}
	}
}

// FuzzDecodeRecord: decoding never panics, and a record that decodes is
// the one its fields encode, byte for byte: no two stored forms of a record.
func FuzzDecodeRecord(f *testing.F) {
	tok, sum := [tokenLen]byte{1}, [sumLen]byte{2}
	for _, b := range [][]byte{
		encodeInProgress(&tok, &sum, 12345),
		encodeCompleted(&tok, &sum, []byte(`{"a":1}`)),
		encodeTooLarge(&tok, &sum, 400000),
		encodeFailed(&tok, &sum, 409, "out of stock", "out of stock", ""),
		encodeFailed(&tok, &sum, 409, "out of stock", "out of stock", "OutOfStock"),
		nil,
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		var again []byte
		switch r.state {
		case inProgress:
			again = encodeInProgress(&r.token, &r.payload, r.leaseEnd)
		case completed:
			again = encodeCompleted(&r.token, &r.payload, r.result)
		case tooLarge:
			again = encodeTooLarge(&r.token, &r.payload, int(r.size))
		case failed:
			again = encodeFailed(&r.token, &r.payload, r.status, r.msg, r.public, r.errType)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded %x as %+v, which encodes as %x", b, r, again)
		}
	})
}
