package breaker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
	"github.com/funcify/funcify/store/redisstore"
	"github.com/redis/go-redis/v9"
)

// redisClient returns a store on its own go-redis client, as a separate
// Lambda would have.
func redisClient(t *testing.T, addr string) store.Store {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return redisstore.New(c)
}

// dynamoStore returns a store on its own DynamoDB client.
func dynamoStore(t *testing.T, endpoint, table string) store.Store {
	c := testenv.DynamoDBClient(endpoint, func(o *dynamodb.Options) {
		o.RetryMaxAttempts = 1
	})
	return dynamostore.New(c, table)
}

func newTable(t *testing.T, endpoint string) string {
	table := "breaker" + strings.ReplaceAll(t.Name(), "/", "-")
	if err := dynamostore.CreateTable(context.Background(), testenv.DynamoDBClient(endpoint), table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return table
}

// TestSharedStateRedis and TestSharedStateDynamo: 8 breakers, each with its
// own store client, report 125 outcomes each at once; the stored failure
// count must equal the failures reported, and a threshold crossed from every
// instance at once opens the circuit exactly once. See RunSharedStateTest.
func TestSharedStateRedis(t *testing.T) {
	addr := testenv.Redis(t)
	RunSharedStateTest(t, func(t *testing.T) store.Store { return redisClient(t, addr) })
}

func TestSharedStateDynamo(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	table := newTable(t, endpoint)
	RunSharedStateTest(t, func(t *testing.T) store.Store { return dynamoStore(t, endpoint, table) })
}

// TestStoreStopped stops the store's server mid-test: calls still run, the
// breaker still works on process-local state, and the fallback is logged.
func TestStoreStopped(t *testing.T) {
	servers := map[string]func(t *testing.T) (store.Store, func()){
		"redis": func(t *testing.T) (store.Store, func()) {
			srv := testenv.StartRedis(t)
			return redisClient(t, srv.Addr), srv.Stop
		},
		"dynamo": func(t *testing.T) (store.Store, func()) {
			srv := testenv.StartDynalite(t)
			return dynamoStore(t, srv.Endpoint, newTable(t, srv.Endpoint)), srv.Stop
		},
	}
	for name, start := range servers {
		t.Run(name, func(t *testing.T) {
			s, stop := start(t)
			clk := newClock()
			var logs syncBuffer
			b := New(Settings{Name: "api", Store: s, now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			call(b, errDown) // one failure stored
			if n := storedFailures(t, b); n != 1 {
				t.Fatalf("stored %d failures, want one", n)
			}
			stop()

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ran := 0
			start := time.Now()
			for range 5 {
				clk.Advance(2 * time.Second) // past the staleness: each call tries the store
				if _, err := Execute(ctx, b, func(context.Context) (int, error) { ran++; return 0, nil }); err != nil {
					t.Fatalf("a call failed with the store down: %v", err)
				}
			}
			if ran != 5 {
				t.Fatalf("ran %d of 5 calls", ran)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("5 calls took %v with the store down", d)
			}
			for range 3 {
				call(b, errDown)
			}
			if err := call(b, nil); !errors.Is(err, ErrOpen) {
				t.Fatalf("local state after the outage: got %v, want ErrOpen", err)
			}
			if n := strings.Count(logs.String(), "store unavailable"); n != 1 {
				t.Fatalf("got %d fallback lines, want 1:\n%s", n, logs.String())
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
