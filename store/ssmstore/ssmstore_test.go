package ssmstore

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/storetest"
)

func newStore(t *testing.T) (*Store, *awsfake.Server) {
	srv := awsfake.New(t)
	return New(ssm.NewFromConfig(srv.Config()), "/funcify/test"), srv
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := newStore(t)
		return s
	})
}

func TestParameterLayout(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	if _, err := s.CompareAndSet(ctx, "token/https://idp", 0, []byte("tok"), 0); err != nil {
		t.Fatal(err)
	}
	v, typ, _, ok := srv.Parameter("/funcify/test/token_2fhttps_3a_2f_2fidp")
	if !ok || typ != "SecureString" {
		t.Fatalf("got parameter %q of type %q (found %v), want a SecureString", v, typ, ok)
	}
	for _, r := range srv.Requests(awsfake.GetParameter) {
		if r.Body["WithDecryption"] != true {
			t.Errorf("GetParameter without WithDecryption: %v", r.Body)
		}
	}
}

// TestVoidWrites has writers race from one version, then checks that
// exactly one won and that Get skips the losers' void writes.
func TestVoidWrites(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	v1, err := s.CompareAndSet(ctx, "k", 0, []byte("0"), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Hold every PutParameter until all writers have read version v1.
	const writers = 6
	var read sync.WaitGroup
	read.Add(writers)
	srv.SetHook(func(target string) {
		if target == awsfake.PutParameter {
			read.Wait()
		}
	})
	var wg sync.WaitGroup
	results := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			it, err := s.Get(ctx, "k")
			if err != nil || it.Version != v1 {
				read.Done()
				results <- errors.Join(err, errors.New("did not read v1"))
				return
			}
			read.Done()
			_, err = s.CompareAndSet(ctx, "k", it.Version, []byte{byte('a' + i)}, 0)
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("got %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won, want 1", won)
	}
	srv.SetHook(nil)
	it, err := s.Get(ctx, "k")
	if err != nil || len(it.Value) != 1 || it.Value[0] < 'a' {
		t.Fatalf("Get after the race: got %+v, %v", it, err)
	}
	// The version is the latest write, void or not: a CAS on it succeeds.
	if _, err := s.CompareAndSet(ctx, "k", it.Version, []byte("next"), 0); err != nil {
		t.Fatalf("CAS on the version after void writes: %v", err)
	}
}

// TestRetriedPut: the SDK retries a PutParameter whose first try took
// effect; the store must report success, not a conflict.
func TestRetriedPut(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	v1, err := s.CompareAndSet(ctx, "k", 0, []byte("one"), 0)
	if err != nil {
		t.Fatal(err)
	}
	// The first PutParameter is applied, and then answered with a 500 so
	// the SDK tries again.
	var once sync.Once
	srv.SetHook(func(target string) {
		if target == awsfake.PutParameter {
			once.Do(func() { srv.ApplyThenFail(500, "InternalServerError") })
		}
	})
	v2, err := s.CompareAndSet(ctx, "k", v1, []byte("two"), 0)
	if err != nil || v2 != v1+1 {
		t.Fatalf("got %d, %v; want %d, nil", v2, err, v1+1)
	}
	it, err := s.Get(ctx, "k")
	if err != nil || string(it.Value) != "two" {
		t.Fatalf("Get: got %+v, %v", it, err)
	}
}

func TestTooManyUpdatesIsConflict(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	srv.Fail(awsfake.PutParameter, 1, 400, "TooManyUpdates")
	if _, err := s.CompareAndSet(ctx, "k", 0, []byte("x"), 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("got %v, want ErrConflict", err)
	}
}

func TestNewPanicsOnRelativePrefix(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with a relative prefix did not panic")
		}
	}()
	New(nil, "relative")
}
