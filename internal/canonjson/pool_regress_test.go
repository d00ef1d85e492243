package canonjson

// Reproducer (review of issue 15), package internal/canonjson (internal
// test): Release bounds only lit and nodes before pooling a Doc, so a Doc
// that parsed a payload with long member names (keys), long escaped strings
// (tmp) or many members (kids, stack) goes back to the pool with those
// buffers: up to MaxBodyBytes (6 MB) per pooled Doc, per P, held between
// garbage collections, from one hostile request. Run without -race (the race
// detector drops pooled items at random).

import (
	"bytes"
	"testing"
)

func TestReleaseDropsLargeBuffers(t *testing.T) {
	src := []byte(`{"` + string(bytes.Repeat([]byte("a"), 4<<20)) + `":1}`)
	d, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if cap(d.keys) < 4<<20 {
		t.Fatalf("keys cap %d, want the 4 MB name", cap(d.keys))
	}
	d.Release()
	got := docs.Get().(*Doc)
	if got == d && cap(got.keys) > 1<<20 {
		t.Fatalf("the pool kept a Doc whose keys buffer holds %d bytes; want buffers over 1 MB let go", cap(got.keys))
	}
}
