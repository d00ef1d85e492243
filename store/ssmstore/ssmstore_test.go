package ssmstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// TestTooManyUpdatesRetried: a write refused with TooManyUpdates is tried
// again after a short wait; one that stays refused fails with
// ErrThrottled, which is not a conflict (nobody else wrote), after a few
// tries, not a storm of them.
func TestTooManyUpdatesRetried(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	srv.Fail(awsfake.PutParameter, 2, 400, "TooManyUpdates")
	v, err := s.CompareAndSet(ctx, "k", 0, []byte("x"), 0)
	if err != nil || v != 1 {
		t.Fatalf("after 2 refusals: got %d, %v; want version 1", v, err)
	}
	if n := srv.Count(awsfake.PutParameter); n != 3 {
		t.Errorf("%d PutParameter, want 3", n)
	}
	srv.Fail(awsfake.PutParameter, 1_000_000, 400, "TooManyUpdates")
	_, err = s.CompareAndSet(ctx, "k", v, []byte("y"), 0)
	if !errors.Is(err, ErrThrottled) || errors.Is(err, store.ErrConflict) {
		t.Fatalf("throttled throughout: got %v, want ErrThrottled and not ErrConflict", err)
	}
	if n := srv.Count(awsfake.PutParameter) - 3; n != throttleTries {
		t.Errorf("throttled throughout: %d PutParameter, want %d", n, throttleTries)
	}
	if it, err := s.Get(ctx, "k"); err != nil || string(it.Value) != "x" || it.Version != v {
		t.Errorf("after the throttled write: got %q at %d, %v; want x at %d", it.Value, it.Version, err, v)
	}
}

// TestTextStoredAsText: a value that is valid UTF-8 is kept as a JSON
// string, so that a Standard parameter takes about 4,000 bytes of it where
// base64 would fit 2.9 KB; binary values are base64; envelopes written as
// base64 by earlier versions are read as before.
func TestTextStoredAsText(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	for _, tt := range []struct {
		key   string
		value []byte
	}{
		{"json", []byte(`{"token":"` + strings.Repeat("a", 3900) + `"}`)},
		{"binary", []byte{0xff, 0, 1, 2, 0xfe}},
		{"escapes", []byte("line\n\"quoted\" <tag> & \u2028")},
		{"empty", []byte{}},
	} {
		if _, err := s.CompareAndSet(ctx, tt.key, 0, tt.value, 0); err != nil {
			t.Fatalf("%s: %v", tt.key, err)
		}
		it, err := s.Get(ctx, tt.key)
		if err != nil || string(it.Value) != string(tt.value) || it.Value == nil {
			t.Errorf("%s: got %q, %v; want %q", tt.key, it.Value, err, tt.value)
		}
	}
	v, _, _, _ := srv.Parameter("/funcify/test/json")
	if !strings.Contains(v, `"s":"{\"token\":`) || len(v) > 4096 {
		t.Errorf("the JSON value is stored as %.60q... (%d bytes), want a JSON string under 4096 bytes", v, len(v))
	}
	// An envelope of an earlier version: the value in base64.
	if _, err := ssm.NewFromConfig(srv.Config()).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/funcify/test/old"), Value: aws.String(`{"b":0,"n":7,"v":"b2xk"}`), Type: types.ParameterTypeSecureString,
	}); err != nil {
		t.Fatal(err)
	}
	if it, err := s.Get(ctx, "old"); err != nil || string(it.Value) != "old" {
		t.Errorf("a base64 envelope: got %q, %v; want old", it.Value, err)
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
// than wait for the lease to end. The store is not taken for down: the log
// says once, at Error, that the token does not fit, and nothing about a
// failing store.
func TestTokenTooLarge(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(t)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"access_token":"%s","token_type":"Bearer","expires_in":3600}`, strings.Repeat("x", 3500))
	}))
	t.Cleanup(idp.Close)
	var logs bytes.Buffer
	cfg := token.Config{TokenURL: idp.URL, ClientID: "svc", Store: New(ssm.NewFromConfig(srv.Config()), "/funcify/test"),
		EncryptionKey: []byte("0123456789abcdef0123456789abcdef"), LeaseWait: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	clk := time.Now()
	cfg.Now = func() time.Time { return clk }
	src, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if i == 1 {
			clk = clk.Add(59 * time.Minute) // due: the store is read, no lease taken
		}
		if _, err := src.Token(ctx); err != nil {
			t.Fatalf("refresh %d: %v (the lease was kept)", i, err)
		}
	}
	if n := srv.Count(awsfake.PutParameter); n != 2 {
		t.Errorf("%d PutParameter for two refreshes of a token too large, want 2 (one lease taken and given back)", n)
	}
	other, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Token(ctx); err != nil {
		t.Fatalf("the next cold instance: %v (the lease was kept)", err)
	}
	if n := strings.Count(logs.String(), "level=ERROR msg=\"token: the token does not fit the store"); n != 2 {
		t.Errorf("logged %d times that the token does not fit, want once per Source:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "store failed") {
		t.Errorf("a token too large was logged as a store failure:\n%s", logs.String())
	}
}

// TestSealedTokenFitsStandard: the package doc offers this store for the
// service token that package token shares: a sealed token of 2.2 KB (a JWT
// with a few claims), which takes twice base64 if the store encodes its
// values so, fits a Standard parameter, and two instances make one grant.
func TestSealedTokenFitsStandard(t *testing.T) {
	srv := awsfake.New(t)
	var grants atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grants.Add(1)
		fmt.Fprintf(w, `{"access_token":"%s","token_type":"Bearer","expires_in":3600}`, strings.Repeat("x", 2200))
	}))
	t.Cleanup(idp.Close)
	var logs bytes.Buffer
	st := New(ssm.NewFromConfig(srv.Config()), "/funcify/test")
	for range 2 {
		src, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "svc", Store: st,
			EncryptionKey: []byte("0123456789abcdef0123456789abcdef"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if g := grants.Load(); g != 1 {
		t.Errorf("two instances sharing a Standard-tier ssmstore made %d grants for a 2.2 KB sealed token, want 1; log:\n%s", g, logs.String())
	}
}

// TestThrottledLeaseBacksOff: while Parameter Store answers PutParameter
// with TooManyUpdates, a cold caller of token.Source sends a few writes,
// with backoff, not one after another until its context ends: each makes
// the throttle worse for every instance and every parameter of the
// account. It then grants without the store.
func TestThrottledLeaseBacksOff(t *testing.T) {
	srv := awsfake.New(t)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"access_token":"tok","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(idp.Close)
	srv.Fail(awsfake.PutParameter, 1_000_000, 400, "TooManyUpdates")
	src, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "svc", Store: New(ssm.NewFromConfig(srv.Config()), "/funcify/test"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = src.Token(ctx)
	puts, gets := srv.Count(awsfake.PutParameter), srv.Count(awsfake.GetParameter)
	t.Logf("Token: %v", err)
	if puts > 10 {
		t.Errorf("one call to Token sent %d PutParameter and %d GetParameter into a TooManyUpdates throttle in 500 ms, want a few with backoff", puts, gets)
	}
}

// TestThrottledTokenWrite: the lease write succeeds, then the write of the
// new token meets TooManyUpdates three times. The token must still reach
// the store (or the lease be given back): the next cold instance must not
// wait out the lease (10 s by default) before it may grant.
func TestThrottledTokenWrite(t *testing.T) {
	srv := awsfake.New(t)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"access_token":"tok","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(idp.Close)
	st := New(ssm.NewFromConfig(srv.Config()), "/funcify/test")
	puts := 0
	srv.SetHook(func(target string) {
		if target == awsfake.PutParameter {
			puts++
			if puts == 2 { // the token's write, after the lease's
				srv.Fail(awsfake.PutParameter, 3, 400, "TooManyUpdates")
			}
		}
	})
	first, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "svc", Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetHook(nil)
	second, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "svc", Store: st, LeaseWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := second.Token(ctx); err != nil {
		t.Errorf("the next cold instance: %v (the first one's token write was throttled and its lease kept)", err)
	}
}
