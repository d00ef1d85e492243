package jwtauth_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/jwtauth"
)

// endable is a context that the test ends by hand, with the error of its
// choice: context.Canceled or context.DeadlineExceeded, so a deadline can
// pass at the moment the test picks.
type endable struct {
	context.Context
	done chan struct{}
	mu   sync.Mutex // guards err
	err  error
}

func newEndable() *endable {
	return &endable{Context: context.Background(), done: make(chan struct{})}
}

func (c *endable) Done() <-chan struct{} { return c.done }

func (c *endable) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *endable) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

// holdFirst makes the provider hold the first request to path until the
// client goes away (or the test ends), and returns a channel closed when
// that request has arrived. Later requests are served as usual.
func (p *provider) holdFirst(t *testing.T, path string) <-chan struct{} {
	arrived := make(chan struct{})
	testDone := make(chan struct{})
	t.Cleanup(func() { close(testDone) })
	var first atomic.Bool
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != path || !first.CompareAndSwap(false, true) {
			return false
		}
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-testDone:
		}
		return true
	})
	return arrived
}

// logBuffer collects the lines of a logger.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// wait returns the value sent on c, failing the test after 10 seconds.
func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer within 10s", what)
		var zero T
		return zero
	}
}

// waitRefreshWaiters returns once n validations have joined the refresh
// of j under way, failing the test after 10 seconds.
func waitRefreshWaiters(t *testing.T, j *jwtauth.JWKS, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for jwtauth.RefreshWaiting(j) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d validations wait for the refresh after 10s, want %d", jwtauth.RefreshWaiting(j), n)
		}
		runtime.Gosched()
	}
}

// callerEnds are the two ways a caller's context ends a fetch mid-flight.
var callerEnds = []struct {
	name string
	err  error
}{
	{"cancelled", context.Canceled},
	{"deadline", context.DeadlineExceeded},
}

// A fetch cut off by its caller's own context is not the provider's
// failure: the next request fetches at once, with its own context, and
// nothing is counted or logged as a provider failure.
func TestJWKSCallerEndedFetchDoesNotLockOut(t *testing.T) {
	t.Parallel()
	for _, end := range callerEnds {
		t.Run(end.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			arrived := p.holdFirst(t, "/jwks")
			clk := &fakeClock{t: now}
			logs := &logBuffer{}
			b := newBreaker(breaker.Settings{Name: "idp", FailureThreshold: 1, Logger: quiet}, clk.Now)
			v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithBreaker(b), jwtauth.WithLogger(logs.logger())), clk)

			ctx := newEndable()
			go func() { <-arrived; ctx.end(end.err) }()
			if _, err := v.Validate(ctx, validRS256(t)); err == nil {
				t.Fatal("validated although the only fetch was cut off")
			}
			if _, err := v.Validate(context.Background(), validRS256(t)); err != nil {
				t.Fatalf("the request after a fetch cut off by its caller: %v; want the keys fetched with its own context", err)
			}
			if got := p.jwksHits.Load(); got != 2 {
				t.Errorf("got %d fetches, want 2", got)
			}
			if s := b.State(context.Background()); s != breaker.Closed {
				t.Errorf("breaker is %v: the caller's own end was counted as a provider failure", s)
			}
			if l := logs.String(); strings.Contains(l, "fetch failed") {
				t.Errorf("the caller's own end was logged as a fetch failure:\n%s", l)
			}
		})
	}
}

// A waiter whose context is live takes over from a leader whose context
// ended mid-fetch: it gets the keys, fetched with its own context.
func TestJWKSLiveWaiterTakesOver(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	arrived := p.holdFirst(t, "/jwks")
	clk := &fakeClock{t: now}
	src := jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
	v := jwksValidator(t, src, clk)

	leaderCtx := newEndable()
	leader := make(chan error, 1)
	go func() { _, err := v.Validate(leaderCtx, validRS256(t)); leader <- err }()
	wait(t, arrived, "the leader's fetch")
	waiters := make(chan error, 5)
	for range 5 {
		go func() { _, err := v.Validate(context.Background(), validRS256(t)); waiters <- err }()
	}
	waitRefreshWaiters(t, src, 5)
	// The waiter's fetch is held until the leader has returned: else the
	// leader, whose own fetch failed, may find the waiter's keys already
	// in place and rightly validate with them.
	leaderReturned := make(chan struct{})
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-leaderReturned:
		case <-r.Context().Done():
		}
		return false
	})
	leaderCtx.end(context.Canceled)
	err := wait(t, leader, "the leader")
	close(leaderReturned)
	if err == nil {
		t.Error("the leader validated although its fetch was cancelled")
	}
	for range 5 {
		if err := wait(t, waiters, "a waiter"); err != nil {
			t.Errorf("a waiter with a live context: %v; want the keys fetched by the waiter", err)
		}
	}
	if got := p.jwksHits.Load(); got != 2 {
		t.Errorf("got %d fetches, want 2: the cancelled one and one for all the waiters", got)
	}
}

// A waiter whose own context ends returns at once; the fetch carries on
// and serves the others.
func TestJWKSWaiterGivesUp(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	release := make(chan struct{})
	arrived := make(chan struct{})
	var once sync.Once
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		once.Do(func() { close(arrived) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return false
	})
	clk := &fakeClock{t: now}
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	leader := make(chan error, 1)
	go func() { _, err := v.Validate(context.Background(), validRS256(t)); leader <- err }()
	wait(t, arrived, "the leader's fetch")
	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan error, 1)
	go func() { _, err := v.Validate(ctx, validRS256(t)); waiter <- err }()
	cancel()
	if err := wait(t, waiter, "the cancelled waiter"); err == nil {
		t.Error("the cancelled waiter validated")
	}
	close(release)
	if err := wait(t, leader, "the leader"); err != nil {
		t.Errorf("the leader: %v", err)
	}
	if _, err := v.Validate(context.Background(), validRS256(t)); err != nil {
		t.Errorf("after the fetch: %v", err)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("got %d fetches, want 1", got)
	}
}

// refusingTransport refuses connections while refuse is set (a real
// refusal: it dials a closed port), and otherwise sends requests on.
type refusingTransport struct {
	refuse atomic.Bool
	hits   atomic.Int64
	closed string // host:port that nobody listens on
}

func newRefusingTransport(t *testing.T) *refusingTransport {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rt := &refusingTransport{closed: addr}
	rt.refuse.Store(true)
	return rt
}

func (rt *refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.hits.Add(1)
	if rt.refuse.Load() {
		req = req.Clone(req.Context())
		req.URL.Host = rt.closed
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A fetch that failed (5xx, refused) is tried again after a short backoff
// (5 seconds), not after the refresh interval.
func TestJWKSFailedFetchRetriedAfterBackoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []string{"503", "refused"} {
		t.Run(tc, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			clk := &fakeClock{t: now}
			opts := []jwtauth.Option{jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)}
			hits := p.jwksHits.Load
			var rt *refusingTransport
			switch tc {
			case "503":
				p.setDown(true)
			case "refused":
				rt = newRefusingTransport(t)
				opts = append(opts, jwtauth.WithHTTPClient(&http.Client{Transport: rt}))
				hits = rt.hits.Load
			}
			v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", opts...), clk)
			if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
				t.Fatalf("provider failing: got %v, want ErrKeysUnavailable", err)
			}
			p.setDown(false)
			if rt != nil {
				rt.refuse.Store(false)
			}
			clk.Advance(time.Second)
			if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
				t.Errorf("1s after the failure: got %v, want ErrKeysUnavailable without a fetch", err)
			}
			if got := hits(); got != 1 {
				t.Errorf("1s after the failure: got %d fetches, want 1", got)
			}
			clk.Advance(4 * time.Second)
			if _, err := v.Validate(context.Background(), validRS256(t)); err != nil {
				t.Errorf("5s after the failure: %v; want the keys fetched again", err)
			}
			if got := hits(); got != 2 {
				t.Errorf("5s after the failure: got %d fetches, want 2", got)
			}
		})
	}
}

// With keys held, a refetch for a new kid that fails is tried again after
// the backoff too: a key rotated in during a provider's blip is not
// refused for the whole refresh interval.
func TestJWKSFailedRefetchRetriedAfterBackoff(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	ctx := context.Background()
	if _, err := v.Validate(ctx, validRS256(t)); err != nil {
		t.Fatal(err)
	}
	rotated := sign(t, hdr("RS256", "rsa2"), claims(nil), "RS256", k.rsa2)
	clk.Advance(time.Minute)
	p.setDown(true)
	if _, err := v.Validate(ctx, rotated); err == nil {
		t.Fatal("a new kid validated with the provider down")
	}
	p.set(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey, "rsa2": &k.rsa2.PublicKey})
	p.setDown(false)
	clk.Advance(5 * time.Second)
	if _, err := v.Validate(ctx, rotated); err != nil {
		t.Errorf("5s after the failed refetch: %v; want the new key fetched", err)
	}
	if got := p.jwksHits.Load(); got != 3 {
		t.Errorf("got %d fetches, want 3", got)
	}
}

// The backoff does not loosen the breaker: a provider that keeps failing
// gets FailureThreshold requests, then none while the circuit is open.
func TestJWKSBreakerStillProtects(t *testing.T) {
	t.Parallel()
	p := newProvider(t, map[string]crypto.PublicKey{})
	p.setDown(true)
	clk := &fakeClock{t: now}
	b := newBreaker(breaker.Settings{Name: "idp", Logger: quiet}, clk.Now)
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithBreaker(b), jwtauth.WithLogger(quiet)), clk)
	for range 20 {
		if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
			t.Errorf("got %v, want ErrKeysUnavailable", err)
		}
		clk.Advance(5 * time.Second)
	}
	if got := p.jwksHits.Load(); got != 3 {
		t.Errorf("got %d requests in 100s, want 3 (the breaker's threshold)", got)
	}
	if s := b.State(context.Background()); s != breaker.Open {
		t.Errorf("breaker is %v, want open", s)
	}
}

// OIDC discovery follows the same rules: a discovery cut off by its
// caller does not lock the next request out.
func TestOIDCCallerEndedDiscoveryDoesNotLockOut(t *testing.T) {
	t.Parallel()
	for _, end := range callerEnds {
		t.Run(end.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			arrived := p.holdFirst(t, "/.well-known/openid-configuration")
			clk := &fakeClock{t: now}
			logs := &logBuffer{}
			src := jwtauth.NewOIDC(p.srv.URL, jwtauth.WithClock(clk.Now), jwtauth.WithLogger(logs.logger()))
			ctx := newEndable()
			go func() { <-arrived; ctx.end(end.err) }()
			if _, err := src.Key(ctx, "rsa", "RS256"); err == nil {
				t.Fatal("got a key although the only discovery was cut off")
			}
			if _, err := src.Key(context.Background(), "rsa", "RS256"); err != nil {
				t.Fatalf("the request after a discovery cut off by its caller: %v", err)
			}
			if got := p.discHits.Load(); got != 2 {
				t.Errorf("got %d discoveries, want 2", got)
			}
			if l := logs.String(); strings.Contains(l, "discovery failed") {
				t.Errorf("the caller's own end was logged as a discovery failure:\n%s", l)
			}
		})
	}
}

// A failed discovery is tried again after the backoff.
func TestOIDCFailedDiscoveryRetriedAfterBackoff(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	var down atomic.Bool
	down.Store(true)
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() && strings.HasPrefix(r.URL.Path, "/.well-known/") {
			http.Error(w, "down", http.StatusBadGateway)
			return true
		}
		return false
	})
	clk := &fakeClock{t: now}
	src := jwtauth.NewOIDC(p.srv.URL, jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
	if _, err := src.Key(context.Background(), "rsa", "RS256"); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Fatalf("provider down: got %v, want ErrKeysUnavailable", err)
	}
	down.Store(false)
	clk.Advance(time.Second)
	if _, err := src.Key(context.Background(), "rsa", "RS256"); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Errorf("1s after the failure: got %v, want ErrKeysUnavailable", err)
	}
	if got := p.discHits.Load(); got != 1 {
		t.Errorf("1s after the failure: got %d discoveries, want 1", got)
	}
	clk.Advance(4 * time.Second)
	if _, err := src.Key(context.Background(), "rsa", "RS256"); err != nil {
		t.Errorf("5s after the failure: %v; want discovery tried again", err)
	}
}

// A fetch error names the document's URL without its query, which may
// carry a secret: neither the log nor the returned error (which the app
// logs) shows it.
func TestJWKSFetchErrorHidesQuery(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // connections are refused
	logs := &logBuffer{}
	clk := &fakeClock{t: now}
	src := jwtauth.NewJWKS("http://user:pw@"+addr+"/jwks?api_key=s3cret#frag", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(logs.logger()))
	_, err = src.Key(context.Background(), "rsa", "RS256")
	if !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Fatalf("got %v, want ErrKeysUnavailable", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("got %v, want the refusal kept in the chain", err)
	}
	logged := logs.String()
	if !strings.Contains(logged, "fetch failed") || !strings.Contains(logged, addr+"/jwks") {
		t.Fatalf("the failure was not logged with the URL's host and path:\n%s", logged)
	}
	for _, secret := range []string{"s3cret", "api_key", "pw@", "frag"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log shows %q:\n%s", secret, logged)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q: %v", secret, err)
		}
	}
}

// hangUntilGone is a provider hook that holds a request until the client
// goes away or the test ends.
func hangUntilGone(t *testing.T) func(w http.ResponseWriter, r *http.Request) bool {
	testDone := make(chan struct{})
	t.Cleanup(func() { close(testDone) })
	return func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-testDone:
		}
		return true
	}
}

// A provider that hangs, under an invocation's deadline shorter than any
// client timeout: each fetch (and each discovery) ends on its own timeout,
// three quarters of the caller's time left, before the caller's deadline.
// It counts as a failure: the breaker counts it and the backoff keeps the
// next requests from hanging on the provider in turn.
func TestHangingProviderCountsAsFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource
		hits func(p *provider) int64
	}{
		{"jwks",
			func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource {
				return jwtauth.NewJWKS(p.srv.URL+"/jwks", opts...)
			},
			func(p *provider) int64 { return p.jwksHits.Load() }},
		{"discovery",
			func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource {
				return jwtauth.NewOIDC(p.srv.URL, opts...)
			},
			func(p *provider) int64 { return p.discHits.Load() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			p.setHook(hangUntilGone(t))
			clk := &fakeClock{t: now}
			b := newBreaker(breaker.Settings{Name: "idp", FailureThreshold: 1, Logger: quiet}, clk.Now)
			v := jwksValidator(t, tc.src(p, jwtauth.WithClock(clk.Now), jwtauth.WithBreaker(b), jwtauth.WithLogger(quiet)), clk)

			const requests = 4
			// deadline stands for the invocation's; the fetch's own
			// timeout ends a quarter of it earlier (1.5 s: over the
			// one-second floor below which a fetch gets no bound).
			const deadline = 2 * time.Second
			var slow int
			for range requests {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				start := time.Now()
				if _, err := v.Validate(ctx, validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
					t.Errorf("got %v, want ErrKeysUnavailable", err)
				}
				if time.Since(start) >= deadline {
					slow++
				}
				cancel()
				clk.Advance(time.Second) // within the 5 s failure backoff
			}
			if got := tc.hits(p); got > 1 {
				t.Errorf("%d requests made %d fetches of a hanging provider; want 1, then the backoff", requests, got)
			}
			if slow > 1 {
				t.Errorf("%d of %d requests waited their whole deadline on a hanging provider; want only the first", slow, requests)
			}
			if s := b.State(context.Background()); s != breaker.Open {
				t.Errorf("breaker (threshold 1) is %v after %d hung fetches; want open", s, requests)
			}
		})
	}
}

// A caller with a second or less left gives its fetch no bound of its own:
// a fetch cut off that soon says more of the caller's lack of time than of
// the provider, so it ends on the caller's deadline and is not counted,
// and the breaker stays closed for the callers with time.
func TestShortOnTimeFetchNotCounted(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	p.setHook(hangUntilGone(t))
	clk := &fakeClock{t: now}
	b := newBreaker(breaker.Settings{Name: "idp", FailureThreshold: 1, Logger: quiet}, clk.Now)
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithBreaker(b), jwtauth.WithLogger(quiet)), clk)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if _, err := v.Validate(ctx, validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
			t.Errorf("got %v, want ErrKeysUnavailable", err)
		}
		cancel()
	}
	if s := b.State(context.Background()); s != breaker.Closed {
		t.Errorf("breaker (threshold 1) is %v after fetches cut off by callers short of time; want closed", s)
	}
}

// A provider (or a CDN or WAF in front of it) that answers 200 with a
// document that cannot be used, such as an HTML maintenance page, fails
// as a 503 does: the breaker counts it and opens, and the provider gets no
// more requests than the breaker's threshold (TestJWKSBreakerStillProtects).
// So does a discovery document of another issuer or without a usable
// jwks_uri.
func TestUnusableAnswerOpensBreaker(t *testing.T) {
	t.Parallel()
	html := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Down for maintenance</body></html>")
	}
	for _, tc := range []struct {
		name   string
		path   string // the request the hook answers
		answer func(w http.ResponseWriter, p *provider)
	}{
		{"jwks html", "/jwks", func(w http.ResponseWriter, _ *provider) { html(w) }},
		{"jwks without usable key", "/jwks", func(w http.ResponseWriter, _ *provider) { io.WriteString(w, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`) }},
		{"discovery html", "/.well-known/openid-configuration", func(w http.ResponseWriter, _ *provider) { html(w) }},
		{"discovery of another issuer", "/.well-known/openid-configuration", func(w http.ResponseWriter, p *provider) {
			fmt.Fprintf(w, `{"issuer":"https://attacker.example","jwks_uri":%q}`, p.srv.URL+"/jwks")
		}},
		{"discovery without jwks_uri", "/.well-known/openid-configuration", func(w http.ResponseWriter, p *provider) {
			fmt.Fprintf(w, `{"issuer":%q}`, p.srv.URL)
		}},
		// A provider (or the proxy in front of it) that dies mid-answer:
		// the read ends with io.ErrUnexpectedEOF while the fetch has time.
		{"jwks cut short", "/jwks", func(w http.ResponseWriter, _ *provider) { truncate(w) }},
		{"discovery cut short", "/.well-known/openid-configuration", func(w http.ResponseWriter, _ *provider) { truncate(w) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			var hits atomic.Int64
			p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != tc.path {
					return false
				}
				hits.Add(1)
				tc.answer(w, p)
				return true
			})
			clk := &fakeClock{t: now}
			b := newBreaker(breaker.Settings{Name: "idp", Logger: quiet}, clk.Now)
			opts := []jwtauth.Option{jwtauth.WithClock(clk.Now), jwtauth.WithBreaker(b), jwtauth.WithLogger(quiet)}
			var src jwtauth.KeySource = jwtauth.NewJWKS(p.srv.URL+"/jwks", opts...)
			if tc.path != "/jwks" {
				src = jwtauth.NewOIDC(p.srv.URL, opts...)
			}
			v := jwksValidator(t, src, clk)
			for range 20 {
				if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
					t.Fatalf("got %v, want ErrKeysUnavailable", err)
				}
				clk.Advance(5 * time.Second)
			}
			if got := hits.Load(); got > 3 {
				t.Errorf("got %d fetches of an unusable answer in 100s; want at most 3 (the breaker's threshold), as for a 503", got)
			}
			if s := b.State(context.Background()); s != breaker.Open {
				t.Errorf("breaker is %v after 20 unusable answers, want open", s)
			}
		})
	}
}

// truncate answers with a Content-Length of 500 and only the start of a
// JSON document, then closes the connection.
func truncate(w http.ResponseWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"keys\":[")
	buf.Flush()
}

// The failure backoff counts from the moment a fetch failed, not from when
// it started: a fetch that takes longer than the backoff to fail (a
// provider answering 503 slowly) still leaves the whole backoff after it.
func TestBackoffCountsFromFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		path string
		src  func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource
	}{
		{"jwks", "/jwks",
			func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource {
				return jwtauth.NewJWKS(p.srv.URL+"/jwks", opts...)
			}},
		{"discovery", "/.well-known/openid-configuration",
			func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource {
				return jwtauth.NewOIDC(p.srv.URL, opts...)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			clk := &fakeClock{t: now}
			var hits atomic.Int64
			p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != tc.path {
					return false
				}
				hits.Add(1)
				clk.Advance(6 * time.Second) // the provider takes 6 s to fail
				http.Error(w, "overloaded", http.StatusServiceUnavailable)
				return true
			})
			v := jwksValidator(t, tc.src(p, jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
			if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
				t.Fatalf("got %v, want ErrKeysUnavailable", err)
			}
			// The very next request, at the moment the failure came back.
			if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
				t.Errorf("right after the failure: got %v, want ErrKeysUnavailable", err)
			}
			if got := hits.Load(); got != 1 {
				t.Errorf("a request made right after a failed fetch fetched again (%d fetches); want the 5 s backoff from the failure", got)
			}
		})
	}
}

// A validation that waits for another's key fetch and whose own context
// ends (its deadline, a timeout middleware, a client gone) is answered 503,
// as the leader cut off the same way is: not 401 with `Bearer
// error="invalid_token"`, which would tell the client that its valid token
// is bad (RFC 6750 §3.1).
func TestCancelledWaiterGets503(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	arrived := p.holdFirst(t, "/jwks")
	clk := &fakeClock{t: now}
	src := jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
	v := jwksValidator(t, src, clk)
	h := jwtauth.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	serve := func(ctx context.Context) chan *httptest.ResponseRecorder {
		out := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
			r.Header.Set("Authorization", "Bearer "+validRS256(t))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			out <- w
		}()
		return out
	}

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	defer cancelLeader()
	leader := serve(leaderCtx)
	wait(t, arrived, "the leader's fetch")
	waiterCtx, cancelWaiter := context.WithCancel(context.Background())
	waiter := serve(waiterCtx)
	waitRefreshWaiters(t, src, 1)
	cancelWaiter()
	w := wait(t, waiter, "the cancelled waiter")
	cancelLeader()
	l := wait(t, leader, "the cancelled leader")

	if w.Code == http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("waiter cut off by its own context: %d, WWW-Authenticate %q; want 503 as the leader (%d), not a verdict on the token",
			w.Code, w.Header().Get("WWW-Authenticate"), l.Code)
	}
	if w.Code != http.StatusServiceUnavailable || l.Code != http.StatusServiceUnavailable {
		t.Errorf("waiter %d, leader %d; want 503 for both", w.Code, l.Code)
	}
}

// OIDC: a validation whose context ends while it waits for another's
// discovery gets an error matching ErrKeysUnavailable too.
func TestOIDCCancelledWaiterKeysUnavailable(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	arrived := p.holdFirst(t, "/.well-known/openid-configuration")
	clk := &fakeClock{t: now}
	src := jwtauth.NewOIDC(p.srv.URL, jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	defer cancelLeader()
	leader := make(chan error, 1)
	go func() { _, err := src.Key(leaderCtx, "rsa", "RS256"); leader <- err }()
	wait(t, arrived, "the leader's discovery")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Key(ctx, "rsa", "RS256"); !errors.Is(err, jwtauth.ErrKeysUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled waiter got %v, want ErrKeysUnavailable wrapping its cancellation", err)
	}
	cancelLeader()
	if err := wait(t, leader, "the cancelled leader"); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Errorf("the cancelled leader got %v, want ErrKeysUnavailable", err)
	}
}

// A half-open trial cut off by a validation whose context was cancelled
// with a cause (net/http then returns the cause, not ctx.Err()) is the
// caller's doing: it neither closes nor opens the circuit, although the
// provider still hangs.
func TestTrialCutByCauseLeavesCircuit(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	p.setDown(true)
	clk := &fakeClock{t: now}
	b := newBreaker(breaker.Settings{Name: "idp", FailureThreshold: 1, Logger: quiet}, clk.Now)
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithBreaker(b), jwtauth.WithLogger(quiet)), clk)
	if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Fatalf("got %v, want ErrKeysUnavailable", err)
	}
	if s := b.State(context.Background()); s != breaker.Open {
		t.Fatalf("breaker is %v after a 503 (threshold 1), want open", s)
	}
	p.setHook(hangUntilGone(t))
	clk.Advance(time.Hour) // past OpenFor and the backoff: the next fetch is a trial

	ctx, cancel := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(200*time.Millisecond, func() { cancel(errors.New("the request's budget ran out")) })
	defer timer.Stop()
	_, err := v.Validate(ctx, validRS256(t))
	if err == nil {
		t.Fatal("validated against a hanging provider")
	}
	if s := b.State(context.Background()); s == breaker.Closed {
		t.Errorf("a trial cut off by its caller's context (%v) closed the circuit; the provider still hangs", err)
	}
}

// slowFirst makes the provider answer the first request to path after 3 s
// (or when the client goes away), and returns a channel that receives when
// a request to path arrives. Later requests are served at once.
func slowFirst(p *provider, path string) <-chan struct{} {
	arrived := make(chan struct{}, 10)
	var first atomic.Bool
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != path {
			return false
		}
		arrived <- struct{}{}
		if !first.CompareAndSwap(false, true) {
			return false
		}
		select { // a slow provider: answers after 3 s
		case <-time.After(3 * time.Second):
			return false
		case <-r.Context().Done():
			return true
		}
	})
	return arrived
}

// sourceKinds are the two key sources, with what tells how many
// validations wait for the fetch under way: the JWKS fetch, or the
// discovery.
var sourceKinds = []struct {
	name    string
	path    string
	src     func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource
	waiting func(src jwtauth.KeySource) int
}{
	{"jwks", "/jwks",
		func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource {
			return jwtauth.NewJWKS(p.srv.URL+"/jwks", opts...)
		},
		func(src jwtauth.KeySource) int { return jwtauth.RefreshWaiting(src.(*jwtauth.JWKS)) }},
	{"discovery", "/.well-known/openid-configuration",
		func(p *provider, opts ...jwtauth.Option) jwtauth.KeySource {
			return jwtauth.NewOIDC(p.srv.URL, opts...)
		},
		func(src jwtauth.KeySource) int { return jwtauth.DiscoveryWaiting(src.(*jwtauth.OIDC)) }},
}

// waitWaiters returns once n validations wait for the fetch of src under
// way, failing the test after 10 seconds.
func waitWaiters(t *testing.T, waiting func() int, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for waiting() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d validations wait for the fetch after 10s, want %d", waiting(), n)
		}
		runtime.Gosched()
	}
}

// A fetch's own timeout is three quarters of its leader's time left. A
// leader with 1.6 s left gives its fetch 1.2 s; a provider that answers in
// 3 s fails it. That failure came from the leader's deadline, not from the
// provider: a validation waiting for the fetch with 30 s left does not
// inherit it, and is not turned away by the failure backoff either: it
// fetches with its own time and gets the keys.
func TestWaiterDoesNotInheritLeadersShortBound(t *testing.T) {
	t.Parallel()
	for _, kind := range sourceKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			arrived := slowFirst(p, kind.path)
			clk := &fakeClock{t: now}
			src := kind.src(p, jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
			v := jwksValidator(t, src, clk)

			leader := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 1600*time.Millisecond)
				defer cancel()
				_, err := v.Validate(ctx, validRS256(t))
				leader <- err
			}()
			wait(t, arrived, "the leader's fetch")
			waiter := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err := v.Validate(ctx, validRS256(t))
				waiter <- err
			}()
			waitWaiters(t, func() int { return kind.waiting(src) }, 1)
			// The waiter's own fetch is held until the leader has
			// returned: else the leader, whose fetch failed, may find
			// the waiter's keys in place and rightly validate with them.
			leaderReturned := make(chan struct{})
			p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				select {
				case <-leaderReturned:
				case <-r.Context().Done():
				}
				return false
			})
			err := wait(t, leader, "the leader")
			close(leaderReturned)
			if err == nil {
				t.Fatal("the leader validated: the provider answered within its 1.2 s bound")
			}
			if err := wait(t, waiter, "the waiter"); err != nil {
				t.Errorf("a waiter with 30 s left inherits the failure of a fetch bounded by its leader's 1.6 s: %v", err)
			}
		})
	}
}

// After a fetch that failed on a bound shortened by its caller's deadline,
// the failure backoff holds back the callers short of time too (a provider
// that hangs is not called by each of them in turn), but not a caller that
// can give a fetch its whole timeout.
func TestShortBoundFailureHoldsBackOnlyShortCallers(t *testing.T) {
	t.Parallel()
	for _, kind := range sourceKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			arrived := slowFirst(p, kind.path)
			clk := &fakeClock{t: now}
			v := jwksValidator(t, kind.src(p, jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
			validate := func(left time.Duration) error {
				ctx, cancel := context.WithTimeout(context.Background(), left)
				defer cancel()
				_, err := v.Validate(ctx, validRS256(t))
				return err
			}
			if err := validate(1600 * time.Millisecond); err == nil {
				t.Fatal("the first caller validated: the provider answered within its 1.2 s bound")
			}
			wait(t, arrived, "the first fetch")
			if err := validate(1600 * time.Millisecond); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
				t.Errorf("a caller as short of time, within the backoff: got %v, want ErrKeysUnavailable", err)
			}
			if got := len(arrived); got != 0 {
				t.Errorf("a caller as short of time fetched again within the backoff (%d fetches)", got)
			}
			if err := validate(30 * time.Second); err != nil {
				t.Errorf("a caller with 30 s left, within the backoff: %v; want the keys", err)
			}
		})
	}
}
