package token_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
	"github.com/funcify/funcify/store/redisstore"
	"github.com/funcify/funcify/token"
)

const instances = 200

var tables atomic.Int64

func redisClients(t *testing.T) func() store.Store {
	addr := testenv.Redis(t)
	prefix := fmt.Sprintf("{%s}:", t.Name())
	return func() store.Store {
		c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, PoolSize: 2})
		t.Cleanup(func() { c.Close() })
		return redisstore.New(c, redisstore.WithPrefix(prefix))
	}
}

func dynaliteClients(t *testing.T) func() store.Store {
	endpoint := testenv.Dynalite(t)
	c := testenv.DynamoDBClient(endpoint)
	name := fmt.Sprintf("token-test-%d", tables.Add(1))
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := dynamostore.CreateTable(cctx, c, name); err != nil {
		t.Fatal(err)
	}
	return func() store.Store { return dynamostore.New(testenv.DynamoDBClient(endpoint), name) }
}

// TestStampede starts 200 cold instances at once on one shared store: one
// grant reaches the provider and all serve its token. Then, with every
// instance past the end of the refresh window, again at once: at most one
// refresh.
func TestStampede(t *testing.T) {
	for name, clients := range map[string]func(*testing.T) func() store.Store{"redis": redisClients, "dynalite": dynaliteClients} {
		t.Run(name, func(t *testing.T) {
			newStore := clients(t)
			p := newProvider(t)
			clk := newClock()
			log, logs := newLogger()
			srcs := make([]*token.Source, instances)
			for i := range srcs {
				// StoreTimeout: 200 instances at once on a local, single-threaded
				// emulator, on a loaded 2-core machine, can take longer than the
				// 1 s default to answer; a slow store is not a down one, and this
				// test is about the lease, not the outage fallback (tested apart).
				srcs[i] = newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: newStore(), Logger: log, StoreTimeout: 15 * time.Second}))
			}
			run := func() []string {
				var wg sync.WaitGroup
				got := make([]string, instances)
				start := make(chan struct{})
				for i, s := range srcs {
					wg.Go(func() {
						<-start
						c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
						defer cancel()
						tok, err := s.Token(c)
						if err != nil {
							t.Errorf("instance %d: %v", i, err)
							return
						}
						got[i] = tok.AccessToken
					})
				}
				close(start)
				wg.Wait()
				return got
			}
			check := func(phase string, got []string, want string, grants int64) {
				t.Helper()
				for i, g := range got {
					if g != want {
						t.Errorf("%s: instance %d got %q, want %q", phase, i, g, want)
						break
					}
				}
				if n := p.grants.Load(); n != grants {
					t.Errorf("%s: grants = %d, want %d", phase, n, grants)
				}
			}
			check("cold", run(), "tok-1", 1)

			// Past the end of every instance's window (the hour-long token's
			// window is scaled to [30, 45) minutes), still valid.
			clk.Add(50 * time.Minute)
			got := run()
			if n := p.grants.Load(); n > 2 {
				t.Errorf("near expiry: grants = %d, want at most 2", n)
			}
			for i, g := range got {
				if g != "tok-1" && g != "tok-2" {
					t.Errorf("near expiry: instance %d got %q", i, g)
					t.Logf("logs:\n%.2000s", logs.String())
					break
				}
			}
			// Once the holder has stored the new token, everyone takes it.
			clk.Add(2 * time.Second)
			check("after the refresh", run(), "tok-2", 2)
			if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "tok-") {
				t.Error("a secret or token was logged")
			}
		})
	}
}
