package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funcify/funcify/retry"
)

func BenchmarkDo(b *testing.B) {
	ok := func(context.Context) (int, error) { return 1, nil }
	errTemp := errors.New("temporary")

	b.Run("first try", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := retry.Do(ctx, ok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first try with options", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := retry.Do(ctx, ok, retry.WithMaxTries(3), retry.WithBackoff(time.Millisecond, time.Second),
				retry.WithMinAttemptTime(time.Millisecond)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first try with deadline", func(b *testing.B) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := retry.Do(ctx, ok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("second try without wait", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			if _, err := retry.Do(ctx, func(context.Context) (int, error) {
				n++
				if n == 1 {
					return 0, errTemp
				}
				return n, nil
			}, retry.WithBackoff(0, 0)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParseRetryAfter(b *testing.B) {
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	for _, v := range []string{"120", "Wed, 21 Oct 2015 07:28:30 GMT"} {
		b.Run(v, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := retry.ParseRetryAfter(v, now); !ok {
					b.Fatal("not ok")
				}
			}
		})
	}
}
