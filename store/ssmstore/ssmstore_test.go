package ssmstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/storetest"
	"github.com/funcify/funcify/token"
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

// TestTooLargeRefusedUpFront: a value whose envelope is over the tier's
// limit is refused with ErrTooLarge before any request, and the largest
// value the Standard tier is said to take is one that SSM takes.
func TestTooLargeRefusedUpFront(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		opts []Option
		size int
	}{
		{"standard", nil, 3500},
		{"advanced", []Option{WithTier(types.ParameterTierAdvanced)}, 7000},
		{"intelligent tiering", []Option{WithTier(types.ParameterTierIntelligentTiering)}, 7000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := awsfake.New(t)
			s := New(ssm.NewFromConfig(srv.Config()), "/funcify/test", tt.opts...)
			_, err := s.CompareAndSet(ctx, "k", 0, make([]byte, tt.size), time.Hour)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("a %d-byte value: got %v, want ErrTooLarge", tt.size, err)
			}
			if n := srv.Count(awsfake.GetParameter) + srv.Count(awsfake.PutParameter); n != 0 {
				t.Errorf("%d requests before refusing, want none", n)
			}
		})
	}
	// The awsfake server, as SSM, refuses a Standard value over 4096 bytes.
	s, srv := newStore(t)
	largest := 0
	for size := 2800; size < 3200; size++ {
		_, err := s.CompareAndSet(ctx, fmt.Sprint(size), 0, make([]byte, size), time.Hour)
		if errors.Is(err, ErrTooLarge) {
			break
		}
		if err != nil {
			t.Fatalf("a %d-byte value: %v", size, err)
		}
		largest = size
	}
	if largest < 2900 {
		t.Errorf("the Standard tier takes values up to %d bytes, want about 2.9 KB", largest)
	}
	if v, _, _, ok := srv.Parameter("/funcify/test/" + fmt.Sprint(largest)); !ok || len(v) > 4096 {
		t.Errorf("the largest value accepted, %d bytes, was not stored (%d bytes)", largest, len(v))
	}
}

// TestTokenTooLarge: a token source on a Standard-tier store, with a token
// too large for it once sealed, serves its token from memory and gives its
// refresh lease back, so that the next cold instance grants at once rather
// than wait for the lease to end.
func TestTokenTooLarge(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(t)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"access_token":"%s","token_type":"Bearer","expires_in":3600}`, strings.Repeat("x", 2500))
	}))
	t.Cleanup(idp.Close)
	cfg := token.Config{TokenURL: idp.URL, ClientID: "svc", Store: New(ssm.NewFromConfig(srv.Config()), "/funcify/test"),
		EncryptionKey: []byte("0123456789abcdef0123456789abcdef"), LeaseWait: time.Millisecond}
	for i := range 2 {
		src, err := token.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Token(ctx); err != nil {
			t.Fatalf("instance %d: %v (the lease was kept)", i, err)
		}
	}
}
