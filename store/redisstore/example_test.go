package redisstore_test

import (
	"context"
	"errors"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/redisstore"
)

// Build the client and the store once per execution environment, then count
// calls across every instance of the function with compare-and-set. It
// needs a Redis server at $REDIS_ADDR, so it is compiled, not run.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  os.Getenv("REDIS_ADDR"),
		ContextTimeoutEnabled: true, // honour each call's deadline on the socket too
	})
	defer rdb.Close()
	s := redisstore.New(rdb, redisstore.WithPrefix("orders:"))

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	for {
		it, err := s.Get(ctx, "calls")
		if err != nil {
			log.Fatal(err)
		}
		n := 0
		if it.Version != 0 {
			n, _ = strconv.Atoi(string(it.Value))
		}
		_, err = s.CompareAndSet(ctx, "calls", it.Version, []byte(strconv.Itoa(n+1)), 24*time.Hour)
		if errors.Is(err, store.ErrConflict) {
			continue // another instance counted first: read again
		}
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("call %d", n+1)
		return
	}
}

// The same count with Add, in one step: concurrent instances never
// conflict. Compiled, not run: it needs a Redis server at $REDIS_ADDR.
func ExampleStore_Add() {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR"), ContextTimeoutEnabled: true})
	defer rdb.Close()
	s := redisstore.New(rdb, redisstore.WithPrefix("orders:"))

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	// A counter per day, which Redis drops a day after its first call.
	day := "calls/" + time.Now().UTC().Format(time.DateOnly)
	n, err := s.Add(ctx, day, 1, 24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("call %d today", n)
}

// Claim a job once across instances: the instance that inserts first runs
// it, the others learn who holds it from the same reply, with no read
// after it. Compiled, not run: it needs a Redis server at $REDIS_ADDR.
func ExampleStore_Insert() {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR"), ContextTimeoutEnabled: true})
	defer rdb.Close()
	s := redisstore.New(rdb, redisstore.WithPrefix("orders:"))

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	host, _ := os.Hostname()
	_, cur, err := s.Insert(ctx, "job/nightly-report", []byte(host), time.Hour)
	switch {
	case errors.Is(err, store.ErrConflict):
		log.Printf("already claimed by %s", cur.Value)
	case err != nil:
		log.Fatal(err)
	default:
		log.Print("claimed: running the job")
	}
}
