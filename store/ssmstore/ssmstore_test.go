package ssmstore

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/aws/smithy-go"

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

// TestTextStoredAsText: a value that is valid UTF-8 and too large for
// base64 in the tier is kept as a JSON string, so that a Standard parameter
// takes about 4,000 bytes of it where base64 would fit 2.9 KB; other values
// are base64 (TestOldReaderReadsValues); envelopes written as base64 by
// earlier versions are read as before.
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

// TestNewPanics: New panics at once on a positional argument that can
// never work, a mistake in the code that sets the function up, rather than
// on the first call (a nil API) or never.
func TestNewPanics(t *testing.T) {
	api := ssm.New(ssm.Options{Region: "us-east-1"})
	tests := []struct {
		name   string
		api    API
		prefix string
		want   string
	}{
		{"nil API", nil, "/app", "ssmstore: New with a nil API"},
		{"relative prefix", api, "relative", `ssmstore: New with the prefix "relative", which does not begin with /`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tt.want {
					t.Errorf("got panic %v, want %s", r, tt.want)
				}
			}()
			New(tt.api, tt.prefix)
		})
	}
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
			if !errors.Is(err, ErrTooLarge) || !errors.Is(err, store.ErrTooLarge) {
				t.Fatalf("a %d-byte value: got %v, want ErrTooLarge, which is store.ErrTooLarge", tt.size, err)
			}
			if errors.Is(err, store.ErrConflict) {
				t.Fatalf("a %d-byte value: got %v, which matches store.ErrConflict too", tt.size, err)
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
	if err != nil {
		t.Errorf("a cold caller with 500 ms facing a lasting throttle: got %v, want a token granted without the store once half its time is gone", err)
	}
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

// oldEnvelope is the envelope as versions before text values (8a7a68a and
// earlier) declare it: they know no "s" field.
type oldEnvelope struct {
	Base    int64  `json:"b"`
	Nonce   uint64 `json:"n"`
	Value   []byte `json:"v,omitempty"`
	Expires int64  `json:"e,omitempty"`
	Deleted bool   `json:"d,omitempty"`
}

// TestOldReaderReadsValues: during a deploy (a weighted alias or a
// CodeDeploy canary keeps both versions live for minutes to hours) or
// after a rollback, instances of the previous version read what this one
// writes. A value that the old format holds (it fits the tier in base64)
// must stay readable by them: written as "s", it reads there as an empty
// value, and package token's old instances would see no lease and no
// token (they take the lease over a live one and grant), old breakers
// would fail to decode the circuit and go process-local. Only a text value
// too large for base64 in the tier, which the old format could not hold
// anyway, is written as text.
func TestOldReaderReadsValues(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	for _, tt := range []struct {
		key   string
		value []byte
		text  bool // too large for base64 in a Standard parameter
	}{
		{"lease", []byte(`{"holder":"a1b2c3","lease":1893456000000000000}`), false},
		{"breaker", []byte(`{"state":1,"failures":3,"generation":7}`), false},
		{"largest-base64", []byte(strings.Repeat("a", 2900)), false},
		{"large", []byte(`{"token":"` + strings.Repeat("a", 3500) + `"}`), true},
	} {
		if _, err := s.CompareAndSet(ctx, tt.key, 0, tt.value, 0); err != nil {
			t.Fatalf("%s: %v", tt.key, err)
		}
		raw, _, _, ok := srv.Parameter("/funcify/test/" + tt.key)
		if !ok {
			t.Fatalf("%s: no parameter", tt.key)
		}
		var old oldEnvelope
		if err := json.Unmarshal([]byte(raw), &old); err != nil {
			t.Fatalf("%s: the previous version cannot decode the envelope %.80s: %v", tt.key, raw, err)
		}
		if got := string(old.Value) == string(tt.value); got == tt.text {
			t.Errorf("%s: a %d-byte value is stored as %.80s...: the previous version reads %d bytes of it; want it readable there: %v",
				tt.key, len(tt.value), raw, len(old.Value), !tt.text)
		}
		if it, err := s.Get(ctx, tt.key); err != nil || string(it.Value) != string(tt.value) {
			t.Errorf("%s: got %.40q, %v; want the value back", tt.key, it.Value, err)
		}
	}
}

// TestLargeTokenStored: a 3.8 KB access token fits a Standard parameter
// and is stored, beside the lease that its write replaces, and the next
// cold instance reads it without a grant. (That the next refresh's lease
// write, which copies the stored token, fits too needs token's clock,
// which only token's own tests can set.)
func TestLargeTokenStored(t *testing.T) {
	srv := awsfake.New(t)
	var grants atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := grants.Add(1)
		fmt.Fprintf(w, `{"access_token":"%d%s","token_type":"Bearer","expires_in":3600}`, n, strings.Repeat("x", 3800))
	}))
	t.Cleanup(idp.Close)
	var logs bytes.Buffer
	cfg := token.Config{TokenURL: idp.URL, ClientID: "svc", Store: New(ssm.NewFromConfig(srv.Config()), "/funcify/test"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	src, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "does not fit") {
		t.Fatalf("the first write did not fit: %s", logs.String())
	}
	other, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := other.Token(context.Background()); err != nil || got.AccessToken != tok.AccessToken || grants.Load() != 1 {
		t.Errorf("the next cold instance: %v after %d grants, want the token from the store", err, grants.Load())
	}
}

// oneUpdateAtATime is an API that answers PutParameter as Parameter Store
// does a parameter under concurrent updates: a PutParameter that arrives
// while another of the same parameter is under way is refused with
// TooManyUpdates. Each update takes busyFor.
type oneUpdateAtATime struct {
	API
	busyFor time.Duration
	mu      sync.Mutex
	busy    map[string]bool
}

func (a *oneUpdateAtATime) PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	name := *in.Name
	a.mu.Lock()
	if a.busy[name] {
		a.mu.Unlock()
		return nil, &smithy.GenericAPIError{Code: "TooManyUpdates", Message: "There are concurrent updates for a resource that supports one update at a time."}
	}
	a.busy[name] = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.busy[name] = false
		a.mu.Unlock()
	}()
	time.Sleep(a.busyFor)
	return a.API.PutParameter(ctx, in, optFns...)
}

// TestColdBurstOneGrant: cold instances start at once and race to write
// the refresh lease (the case the lease is for: many cold instances, one
// grant). Parameter Store refuses the concurrent PutParameter calls with
// TooManyUpdates. A throttle on the lease means that another instance is
// writing it: after its retries the store reads again and, finding that
// instance's write, reports a conflict, and the Source reads that lease
// and waits for its holder's token, rather than take the throttle for a
// store outage and grant on its own.
func TestColdBurstOneGrant(t *testing.T) {
	srv := awsfake.New(t)
	var grants atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := grants.Add(1)
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(idp.Close)
	api := &oneUpdateAtATime{API: ssm.NewFromConfig(srv.Config()), busyFor: 150 * time.Millisecond, busy: map[string]bool{}}
	st := New(api, "/funcify/test")
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const instances = 10
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range instances {
		src, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "svc", Store: st, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := src.Token(ctx); err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if g := grants.Load(); g != 1 {
		t.Errorf("%d cold instances on one ssmstore made %d grants, want 1; log:\n%.1500s", instances, g, logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// throttledWhileOtherWrites refuses every PutParameter with
// TooManyUpdates; the first refusal comes while another writer's write of
// the parameter lands.
type throttledWhileOtherWrites struct {
	API
	srv   *awsfake.Server
	other sync.Once
}

func (a *throttledWhileOtherWrites) PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	a.other.Do(func() { a.srv.SetParameter(*in.Name, "SecureString", `{"b":1,"n":42,"v":"b3RoZXI="}`) })
	return nil, &smithy.GenericAPIError{Code: "TooManyUpdates", Message: "There are concurrent updates for a resource that supports one update at a time."}
}

// TestThrottledAfterOtherWrite: a write refused with TooManyUpdates until
// its tries run out while another writer's write took a version fails
// with store.ErrConflict, as a compare-and-set that lost does, not with
// ErrThrottled, whose caller would take it for a failure of the store.
func TestThrottledAfterOtherWrite(t *testing.T) {
	s, srv := newStore(t)
	ctx := context.Background()
	v, err := s.CompareAndSet(ctx, "k", 0, []byte("mine"), 0)
	if err != nil {
		t.Fatal(err)
	}
	s.api = &throttledWhileOtherWrites{API: s.api, srv: srv}
	_, err = s.CompareAndSet(ctx, "k", v, []byte("next"), 0)
	if !errors.Is(err, store.ErrConflict) || errors.Is(err, ErrThrottled) {
		t.Fatalf("throttled while another write landed: got %v, want store.ErrConflict", err)
	}
	if it, err := s.Get(ctx, "k"); err != nil || string(it.Value) != "other" || it.Version != v+1 {
		t.Errorf("got %q at %d, %v; want the other writer's value at %d", it.Value, it.Version, err, v+1)
	}
}
