package idempotency_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

// payload1K is a JSON payload of about 1 KB, an order as an SQS body or a
// POST would carry it.
var payload1K = func() []byte {
	var b strings.Builder
	b.WriteString(`{"order":{"id":"o-123456","customer":{"name":"Ada Lovelace","email":"ada@example.com"},"lines":[`)
	for i := range 10 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","qty":%d,"price":%d.99,"note":"gift wrap, leave at the door"}`, i, i+1, 10+i)
	}
	b.WriteString(`]},"source":"web","at":"2026-11-25T12:00:00Z"}`)
	return []byte(b.String())
}()

func BenchmarkNewKey(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(payload1K)))
	for b.Loop() {
		idempotency.NewKey("order-events", "8d1f0e4c-msg-id", payload1K)
	}
}

func BenchmarkKeyFromJSON(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(payload1K)))
	for b.Loop() {
		if _, err := idempotency.KeyFromJSON("order-events", payload1K, "/order/id"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDo measures Do on memstore, a key built beforehand: fresh (the
// key taken, fn run, its result stored) and replay (a duplicate served the
// stored result). fresh+key adds NewKey on the 1 KB payload.
func BenchmarkDo(b *testing.B) {
	ctx := context.Background()
	fn := func(ctx context.Context) (order, error) { return order{ID: "o-123456", Total: 1250}, nil }
	newGuard := func(b *testing.B) *idempotency.Guard {
		g, err := idempotency.New(idempotency.Config{Store: memstore.New(), CheckPayload: true})
		if err != nil {
			b.Fatal(err)
		}
		return g
	}
	b.Run("fresh", func(b *testing.B) {
		g := newGuard(b)
		keys := make([]idempotency.Key, b.N)
		for i := range keys {
			keys[i] = idempotency.NewKey("order-events", strconv.Itoa(i), payload1K)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := idempotency.Do(ctx, g, keys[i], fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replay", func(b *testing.B) {
		g := newGuard(b)
		k := idempotency.NewKey("order-events", "1", payload1K)
		if _, err := idempotency.Do(ctx, g, k, fn); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := idempotency.Do(ctx, g, k, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh+key", func(b *testing.B) {
		g := newGuard(b)
		ids := make([]string, b.N)
		for i := range ids {
			ids[i] = strconv.Itoa(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := idempotency.Do(ctx, g, idempotency.NewKey("order-events", ids[i], payload1K), fn); err != nil {
				b.Fatal(err)
			}
		}
	})
}
