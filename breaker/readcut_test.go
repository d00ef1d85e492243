package breaker

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/store/redisstore"
	"github.com/redis/go-redis/v9"
)

// netDeadlineStore reads over a connection to a server that never answers,
// with the connection's deadline set from the context's, as go-redis does:
// the read fails with an i/o timeout when the deadline comes, which may be
// before the context's own timer has marked it done.
type netDeadlineStore struct {
	store.Store
	addr string
}

func (s netDeadlineStore) Get(ctx context.Context, key string) (store.Item, error) {
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		return store.Item{}, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	var buf [1]byte
	_, err = c.Read(buf[:])
	return store.Item{}, err
}

// TestReadCutByCallerNotAnOutage is the regression test for a read cut
// off by the caller's deadline taken for a Store outage: refresh decided
// that a failed read was the caller's doing by ctx.Err() right after the
// read returned. A Store client that bounds its I/O by the context's
// deadline (go-redis sets the connection's deadline from it) returns "i/o
// timeout" at that deadline, possibly before the context's timer has
// fired: the caller's own deadline was then logged as a Store outage and
// the breaker fell back to process-local state. refresh compares the wall clock with the deadline,
// as update does.
func TestReadCutByCallerNotAnOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // never answers
		}
	}()
	outages := 0
	const runs = 200
	for range runs {
		var logs syncBuffer
		b := New(Settings{Name: "api", Store: netDeadlineStore{Store: memstore.New(), addr: ln.Addr().String()},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		b.State(ctx) // the caller's deadline (5 ms) comes before StoreTimeout (500 ms)
		cancel()
		b.mu.Lock()
		degraded := b.degraded
		b.mu.Unlock()
		if degraded || strings.Contains(logs.String(), "store unavailable") {
			outages++
		}
	}
	if outages > 0 {
		t.Errorf("%d of %d reads cut off by the caller's 5 ms deadline were taken for a Store outage (logged, process-local state)", outages, runs)
	}
}

// TestReadCutByCallerNotAnOutageRedis is the same with redisstore on
// a go-redis client built as redisstore's doc says (ContextTimeoutEnabled),
// talking to a server that accepts and never answers.
func TestReadCutByCallerNotAnOutageRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer rdb.Close()
	st := redisstore.New(rdb)
	outages := 0
	const runs = 100
	for range runs {
		var logs syncBuffer
		b := New(Settings{Name: "api", Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		b.State(ctx)
		cancel()
		if strings.Contains(logs.String(), "store unavailable") {
			outages++
			if outages == 1 {
				t.Logf("logged: %s", logs.String())
			}
		}
	}
	if outages > 0 {
		t.Errorf("%d of %d Redis reads cut off by the caller's 5 ms deadline were logged as a Store outage", outages, runs)
	}
}
