package idempotency_test

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store/redisstore"
)

// inScripts holds the commands that redisstore's scripts run: Redis counts
// them in its statistics as it counts the scripts themselves, but they
// cost no round trip.
var inScripts = map[string]bool{"hmget": true, "hget": true, "hset": true, "pexpire": true, "persist": true, "pttl": true, "del": true}

// TestRedisRoundTrips counts the commands that Redis itself runs for Do:
// a fresh call is two scripts (Insert to take the key, CompareAndSet to
// complete it), a replay one (the Insert that conflicts returns the record).
// The counts come from the server's statistics (CONFIG RESETSTAT, then INFO
// commandstats), which are server-wide: the test runs a Redis server of its
// own, which nothing else uses. The store sends nothing but scripts, each
// one round trip; the commands a script runs are counted apart.
func TestRedisRoundTrips(t *testing.T) {
	srv := testenv.StartRedis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { admin.Close() })
	g, err := idempotency.New(idempotency.Config{Store: redisstore.New(c), Scope: "round-trips"})
	if err != nil {
		t.Fatal(err)
	}
	fn := func(ctx context.Context) (order, error) { return order{ID: "o-1", Total: 1250}, nil }
	do := func(id string) {
		t.Helper()
		if o, err := idempotency.Do(ctx, g, idempotency.NewKey("POST /orders", id, []byte(payload)), fn); err != nil || o.ID != "o-1" {
			t.Fatalf("Do %s: got %+v, %v", id, o, err)
		}
	}
	// Load the scripts (the first run of each is an EVALSHA that fails
	// and an EVAL) and open the client's connection.
	do("warm-up")
	do("warm-up")

	// commands runs f and returns the commands that Redis ran meanwhile,
	// by name, but for the statistics' own.
	commands := func(f func()) map[string]int64 {
		t.Helper()
		if err := admin.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		f()
		info, err := admin.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		got := make(map[string]int64)
		sc := bufio.NewScanner(strings.NewReader(info))
		for sc.Scan() {
			// cmdstat_evalsha:calls=2,usec=31,usec_per_call=15.50,...
			name, stats, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "cmdstat_"), ":")
			if !ok || name == "info" || strings.HasPrefix(name, "config") {
				continue
			}
			calls, _, _ := strings.Cut(strings.TrimPrefix(stats, "calls="), ",")
			n, err := strconv.ParseInt(calls, 10, 64)
			if err != nil {
				t.Fatalf("INFO commandstats line %q: %v", sc.Text(), err)
			}
			got[name] = n
		}
		return got
	}
	for _, tt := range []struct {
		name    string
		evalsha int64
	}{
		{"fresh", 2},  // Insert, CompareAndSet
		{"replay", 1}, // Insert, which conflicts and returns the record
	} {
		got := commands(func() { do("k") })
		if n := got["evalsha"] + got["eval"]; n != tt.evalsha || got["evalsha"] != n {
			t.Errorf("%s: Redis ran %v: %d scripts, want %d, each an EVALSHA", tt.name, got, n, tt.evalsha)
		}
		for name := range got {
			if !inScripts[name] && name != "evalsha" {
				t.Errorf("%s: Redis ran %v: %s is no command of the store's scripts", tt.name, got, name)
			}
		}
	}
}
