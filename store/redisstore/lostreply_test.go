package redisstore

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
)

// replyDropper is a TCP proxy in front of Redis. While armed, the first
// request that carries the SHA-1 of the script it watches is either
// forwarded, so that Redis runs it, and its reply dropped (the proxy closes
// the client's connection instead of passing the reply back: a reply lost
// on the way), or, when swallow is set, not forwarded at all: swallow runs
// first, then the proxy closes the connection, a request lost on the way.
// go-redis then sends the command again on a new connection.
type replyDropper struct {
	target  string
	sha     []byte
	swallow func() // if set, what happens instead of the armed request
	armed   atomic.Bool
	seen    atomic.Int64 // requests carrying sha, forwarded or not
	ln      net.Listener
	wg      sync.WaitGroup
}

func newReplyDropper(t *testing.T, target, sha string) *replyDropper {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyDropper{target: target, sha: []byte(sha), ln: ln}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

// serve relays one client connection. Every read has a deadline, so that
// a test that fails midway cannot leave it waiting.
func (p *replyDropper) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	var dropReply atomic.Bool
	done := make(chan struct{})
	go func() { // client -> server
		defer close(done)
		defer server.Close()
		buf := make([]byte, 64<<10)
		for {
			client.SetReadDeadline(time.Now().Add(20 * time.Second))
			n, err := client.Read(buf)
			if n > 0 && bytes.Contains(buf[:n], p.sha) {
				p.seen.Add(1)
				if p.armed.CompareAndSwap(true, false) {
					if p.swallow != nil {
						p.swallow()
						client.Close()
						return
					}
					dropReply.Store(true)
				}
			}
			if n > 0 {
				if _, err := server.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for { // server -> client
		server.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := server.Read(buf)
		if n > 0 && dropReply.Load() {
			break // Redis ran the script; its reply is lost.
		}
		if n > 0 {
			if _, err := client.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	client.Close()
	server.Close()
	<-done
}

// TestLostReply is the regression test for a store that reported its own
// write as a conflict: Redis ran a CompareAndSet, its reply was lost, and
// go-redis (with its default MaxRetries, as the package documentation
// builds the client) sent the script again, which found the version that
// the first run wrote.
func TestLostReply(t *testing.T) {
	addr := testenv.Redis(t)
	direct := New(newClient(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name   string
		create bool // the write creates the key (version 0)
		ttl    time.Duration
	}{
		{"update", false, 0},
		{"create", true, time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newReplyDropper(t, addr, casScript.Hash())
			s := New(newClient(t, p.ln.Addr().String()))
			// Load the script on the server, so that the armed request
			// is the EVALSHA that go-redis retries.
			if _, err := s.CompareAndSet(ctx, testKey(t)+"/load", 0, []byte("x"), 0); err != nil {
				t.Fatal(err)
			}
			k := testKey(t)
			var version int64
			if !tt.create {
				v, err := direct.CompareAndSet(ctx, k, 0, []byte("before"), 0)
				if err != nil {
					t.Fatal(err)
				}
				version = v
			}
			before := p.seen.Load()
			p.armed.Store(true)
			v, err := s.CompareAndSet(ctx, k, version, []byte("mine"), tt.ttl)
			if n := p.seen.Load() - before; n != 2 {
				t.Fatalf("the proxy saw %d requests of the script, want 2 (the first, whose reply it dropped, and go-redis's retry); err %v", n, err)
			}
			it, gerr := direct.Get(ctx, k)
			if gerr != nil || string(it.Value) != "mine" {
				t.Fatalf("the write was not applied (stored %+v, %v); the test needs it applied", it, gerr)
			}
			if err != nil {
				t.Fatalf("CompareAndSet whose write Redis applied and whose reply was lost: got %v (stored version %d, value %q), want version %d", err, it.Version, it.Value, it.Version)
			}
			if v != it.Version {
				t.Fatalf("got version %d, stored %d", v, it.Version)
			}
		})
	}

	// The retry of a write that never reached Redis finds another
	// writer's item, written from the same version: the very version
	// this call would have written. Only the nonce tells them apart.
	t.Run("other writer of the same version", func(t *testing.T) {
		k := testKey(t)
		v, err := direct.CompareAndSet(ctx, k, 0, []byte("before"), 0)
		if err != nil {
			t.Fatal(err)
		}
		p := newReplyDropper(t, addr, casScript.Hash())
		s := New(newClient(t, p.ln.Addr().String()))
		if _, err := s.CompareAndSet(ctx, testKey(t)+"/load", 0, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		p.swallow = func() {
			if _, err := direct.CompareAndSet(ctx, k, v, []byte("theirs"), 0); err != nil {
				t.Errorf("the other writer: %v", err)
			}
		}
		before := p.seen.Load()
		p.armed.Store(true)
		got, err := s.CompareAndSet(ctx, k, v, []byte("mine"), 0)
		if n := p.seen.Load() - before; n != 2 {
			t.Fatalf("the proxy saw %d requests of the script, want 2 (the first, not forwarded, and go-redis's retry); err %v", n, err)
		}
		it, gerr := direct.Get(ctx, k)
		if gerr != nil || string(it.Value) != "theirs" || it.Version != v+1 {
			t.Fatalf("stored %+v, %v; want the other writer's value at version %d", it, gerr, v+1)
		}
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CompareAndSet that lost to another writer of the same version: got version %d, %v; want ErrConflict", got, err)
		}
	})

	// A Delete leaves no item to recognise: its retry finds the key
	// absent and reports a conflict, as the package documentation says.
	// The key is gone all the same.
	t.Run("delete", func(t *testing.T) {
		p := newReplyDropper(t, addr, deleteScript.Hash())
		s := New(newClient(t, p.ln.Addr().String()))
		if err := s.Delete(ctx, testKey(t)+"/load", 0); err != nil {
			t.Fatal(err)
		}
		k := testKey(t)
		v, err := direct.CompareAndSet(ctx, k, 0, []byte("x"), 0)
		if err != nil {
			t.Fatal(err)
		}
		before := p.seen.Load()
		p.armed.Store(true)
		err = s.Delete(ctx, k, v)
		if n := p.seen.Load() - before; n != 2 {
			t.Fatalf("the proxy saw %d requests of the script, want 2; err %v", n, err)
		}
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("Delete whose reply was lost: got %v, want ErrConflict, as documented", err)
		}
		if it, err := direct.Get(ctx, k); err != nil || it.Version != 0 {
			t.Fatalf("Get after the Delete: got %+v, %v; want the key absent", it, err)
		}
	})
}

// TestInsertLostReply: Redis ran an Insert, its reply was lost, and
// go-redis sent the script again, which found the item the first run
// wrote. Insert recognises it by its nonce and succeeds; the retry of an
// Insert that never reached Redis, finding another writer's item, gets
// ErrConflict and that item.
func TestInsertLostReply(t *testing.T) {
	addr := testenv.Redis(t)
	direct := New(newClient(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, other := range []bool{false, true} {
		name := "own write"
		if other {
			name = "other writer"
		}
		t.Run(name, func(t *testing.T) {
			p := newReplyDropper(t, addr, insertScript.Hash())
			s := New(newClient(t, p.ln.Addr().String()))
			if _, _, err := s.Insert(ctx, testKey(t)+"/load", []byte("x"), 0); err != nil {
				t.Fatal(err)
			}
			k := testKey(t)
			if other {
				p.swallow = func() {
					if _, _, err := direct.Insert(ctx, k, []byte("theirs"), 0); err != nil {
						t.Errorf("the other writer: %v", err)
					}
				}
			}
			before := p.seen.Load()
			p.armed.Store(true)
			v, cur, err := s.Insert(ctx, k, []byte("mine"), time.Minute)
			if n := p.seen.Load() - before; n != 2 {
				t.Fatalf("the proxy saw %d requests of the script, want 2; err %v", n, err)
			}
			it, gerr := direct.Get(ctx, k)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if other {
				if !errors.Is(err, store.ErrConflict) || cur.Version != it.Version || string(cur.Value) != "theirs" {
					t.Fatalf("Insert that lost to another writer: got %d, %+v, %v; want ErrConflict and their item %+v", v, cur, err, it)
				}
				return
			}
			if err != nil || v != it.Version || string(it.Value) != "mine" {
				t.Fatalf("Insert whose reply was lost: got %d, %v (stored %+v); want its own version", v, err, it)
			}
		})
	}
}
