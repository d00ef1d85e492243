package token_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/retry"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/token"
)

// TestHangingProviderServesValidToken: the identity provider hangs
// (accepts the request and never answers) while this instance holds a
// valid token that is due for refresh. A Lambda instance runs one
// invocation at a time, so each invocation finds no refresh under way and
// leads one: it must not wait out its deadline on the hanging provider, but
// get the valid token within part of its time; and the invocations that
// follow must not each send another hanging request.
func TestHangingProviderServesValidToken(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "store"}[withStore], func(t *testing.T) {
			clk := newClock()
			var n atomic.Int64
			var hang atomic.Bool
			idp := idpFunc(func(req *http.Request) (*http.Response, error) {
				k := n.Add(1)
				if hang.Load() {
					<-req.Context().Done()
					return nil, req.Context().Err()
				}
				return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
			})
			log, logs := newLogger()
			cfg := token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp, Timeout: 10 * time.Second}, Logger: log}
			token.SetClock(&cfg, clk.Now)
			if withStore {
				cfg.Store = memstore.New(memstore.WithClock(clk.Now))
			}
			src := newSource(t, cfg)
			mustToken(t, src)
			clk.Add(50 * time.Minute) // due, valid for 10 more minutes
			hang.Store(true)
			// The budget is half of it, the request's own bound three
			// quarters: wide enough apart for a busy machine.
			const deadline = 600 * time.Millisecond
			blocked := 0
			for i := range 5 {
				ictx, cancel := context.WithTimeout(ctx, deadline)
				start := time.Now()
				tok, err := src.Token(ictx)
				took := time.Since(start)
				cancel()
				if err != nil || tok.AccessToken != "tok-1" {
					t.Fatalf("invocation %d: got %v, %v; want the valid tok-1", i, tok, err)
				}
				if took >= deadline*9/10 {
					blocked++
				}
				clk.Add(time.Second)
			}
			if blocked > 1 {
				t.Errorf("%d of 5 invocations, one after the other with a valid token in memory, waited out their %v deadline on a hanging provider (%d requests sent)", blocked, deadline, n.Load()-1)
			}
			// One second apart, a refresh cut off puts the next off by
			// two: invocations 0, 2 and 4 ask.
			if sent := n.Load() - 1; sent > 3 {
				t.Errorf("5 invocations a second apart sent %d requests to the hanging provider, want at most 3", sent)
			}
			if strings.Contains(logs.String(), "refresh failed") {
				t.Errorf("a refresh cut off by its budget was logged as a failure:\n%s", logs)
			}
		})
	}
}

// TestHangingProviderOpensBreaker: a provider that hangs fails each token
// request on the Source's own bound, inside the breaker, so the breaker
// counts it: with a Store, where the holder's request is bounded by
// LeaseDuration, and without, where the request gets three quarters of the
// caller's time. Three hangs with a FailureThreshold of 3 open the circuit,
// and the next call fails at once with ErrOpen instead of hanging again.
func TestHangingProviderOpensBreaker(t *testing.T) {
	for _, withStore := range []bool{true, false} {
		t.Run(map[bool]string{false: "memory", true: "store"}[withStore], func(t *testing.T) {
			var n atomic.Int64
			idp := idpFunc(func(req *http.Request) (*http.Response, error) {
				n.Add(1)
				<-req.Context().Done()
				return nil, req.Context().Err()
			})
			b := breaker.New(breaker.Settings{Name: "idp", FailureThreshold: 3})
			cfg := token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp, Timeout: 10 * time.Second}, Breaker: b}
			deadline := 5 * time.Second // plenty: the lease bound ends each request
			if withStore {
				cfg.Store, cfg.LeaseDuration = memstore.New(), 100*time.Millisecond
			} else {
				deadline = 2 * time.Second // the request ends at 1.5 s
			}
			src := newSource(t, cfg)
			for i := range 5 {
				cctx, cancel := context.WithTimeout(ctx, deadline)
				_, err := src.Token(cctx)
				cancel()
				if errors.Is(err, breaker.ErrOpen) {
					if i != 3 {
						t.Errorf("the circuit opened after %d hanging requests, want 3", i)
					}
					return
				}
			}
			t.Errorf("%d grants hung on the provider, with a FailureThreshold of 3: the circuit is still %v", n.Load(), b.State(ctx))
		})
	}
}

// TestShortOnTimeGrantNotCounted: a caller with a second or less left
// gives its token request no bound of its own (package internal/attempt):
// a request cut off that soon says more of the caller's lack of time than
// of the provider, so the caller's deadline ends it and the breaker does
// not count it.
func TestShortOnTimeGrantNotCounted(t *testing.T) {
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	})
	b := breaker.New(breaker.Settings{Name: "idp", FailureThreshold: 1})
	src := newSource(t, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}, Breaker: b})
	for range 3 {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		if _, err := src.Token(cctx); err == nil {
			t.Error("a hanging provider gave a token")
		}
		cancel()
	}
	if st := b.State(ctx); st != breaker.Closed {
		t.Errorf("breaker (threshold 1) is %v after requests cut off by callers short of time, want closed", st)
	}
}

// waitWaiting returns once a caller of src waits for the refresh under
// way, failing the test after 10 seconds.
func waitWaiting(t *testing.T, src *token.Source) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); token.Waiting(src) == 0; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("no caller waits for the refresh after 10 s")
		}
	}
}

// TestNearDeadlineFailureNotShared: a cold caller whose deadline is near
// leads the grant, and the grant fails for lack of that caller's time while
// its context is still live: its request ran out of its share of the time
// left, or the HTTP client's retries stopped because the next would not
// fit (retry.ErrDeadline, as httpclient.Transport returns). A concurrent
// caller with time left must grant with its own time, not inherit that
// failure.
func TestNearDeadlineFailureNotShared(t *testing.T) {
	for _, tt := range []struct {
		name  string
		first func(req *http.Request) error
	}{
		{"request out of its share", func(req *http.Request) error {
			<-req.Context().Done()
			return req.Context().Err()
		}},
		{"client out of retries", func(*http.Request) error {
			return &retry.Error{Attempts: 1, Err: errors.New("503 Service Unavailable"), Reason: retry.ErrDeadline}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inFlight, proceed := make(chan struct{}), make(chan struct{})
			var n atomic.Int64
			idp := idpFunc(func(req *http.Request) (*http.Response, error) {
				k := n.Add(1)
				if k == 1 {
					close(inFlight)
					<-proceed
					return nil, tt.first(req)
				}
				return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
			})
			src := newSource(t, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}})
			lctx, lcancel := context.WithTimeout(ctx, 2*time.Second)
			defer lcancel()
			leader := make(chan error, 1)
			go func() {
				_, err := src.Token(lctx)
				leader <- err
			}()
			within(t, "the first grant", func() struct{} { <-inFlight; return struct{}{} })
			type result struct {
				tok *token.Token
				err error
			}
			waiter := make(chan result, 1)
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			defer wcancel()
			go func() {
				tok, err := src.Token(wctx)
				waiter <- result{tok, err}
			}()
			waitWaiting(t, src)
			close(proceed)
			if err := within(t, "the leading caller", func() error { return <-leader }); err == nil {
				t.Error("the leading caller got a token, want its failure")
			}
			r := within(t, "the waiting caller", func() result { return <-waiter })
			if r.err != nil || r.tok.AccessToken != "tok-2" {
				t.Errorf("the waiting caller, with 10 s left, got %v, %v; want tok-2 of its own", r.tok, r.err)
			}
		})
	}
}

// TestTokenURLQueryRedacted: a token endpoint's query (an api_key, a
// signature) reaches neither the logs (the token_url attribute, the errors
// logged) nor the errors returned (the *url.Error of a failed request, the
// error of New).
func TestTokenURLQueryRedacted(t *testing.T) {
	const q = "QSECRET-42"
	p := newProvider(t)
	clk := newClock()
	log, logs := newLogger()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL + "/token?api_key=" + q, Logger: log}))
	mustToken(t, src)
	p.Close() // the provider goes away: refused connections
	clk.Add(59 * time.Minute)
	mustToken(t, src) // due, still valid: the failure is logged
	clk.Add(2 * time.Minute)
	_, err := src.Token(ctx) // expired: the failure is returned
	if err == nil {
		t.Fatal("no error from a provider that is gone")
	}
	if strings.Contains(err.Error(), q) {
		t.Errorf("the returned error carries the URL's query: %v", err)
	}
	if !strings.Contains(err.Error(), p.URL+"/token") {
		t.Errorf("the returned error does not name the endpoint: %v", err)
	}
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, q) {
			t.Errorf("a log line carries the URL's query: %s", l)
		}
	}
	if _, err := token.New(token.Config{TokenURL: "/token?api_key=" + q, ClientID: "svc"}); err == nil || strings.Contains(err.Error(), q) {
		t.Errorf("New with a relative URL: got %v, want an error without the query", err)
	}
}

// hangingTokenWrites is a store whose writes without a lease (the new
// token, a release) hang until their context ends, as a store that has
// stopped answering writes does, while reads and lease writes work. It
// records when each hanging write came and the deadline of its context.
type hangingTokenWrites struct {
	store.Store
	hang atomic.Bool
	mu   sync.Mutex
	hung []hungWrite
}

type hungWrite struct {
	at, deadline time.Time
	bounded      bool // the context had a deadline
}

func (s *hangingTokenWrites) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if !s.hang.Load() || bytes.Contains(value, []byte(`"holder"`)) {
		return s.Store.CompareAndSet(ctx, key, version, value, ttl)
	}
	d, ok := ctx.Deadline()
	s.mu.Lock()
	s.hung = append(s.hung, hungWrite{at: time.Now(), deadline: d, bounded: ok})
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(10 * time.Second): // a test fails, never hangs
		return 0, errors.New("hangingTokenWrites: a write without a deadline")
	}
}

func (s *hangingTokenWrites) writes() []hungWrite {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hungWrite(nil), s.hung...)
}

// TestHangingTokenWriteBounded: the grant succeeds at once, then the write
// of the new token hangs. The caller holds its token: the write must not
// hold it past what it may wait, which is StoreTimeout and half its time
// left (and, while a valid token is served, the refresh's budget, itself
// at most half the time left when the refresh began), so each hanging
// write's deadline is at most halfway from when it came to the caller's
// deadline. A write that timed out is followed by a read back and, the
// lease still held, a release (which hangs here too): it gets its own
// StoreTimeout, but is bounded the same way, so the caller is never held
// past its deadline and keeps time for its own work.
func TestHangingTokenWriteBounded(t *testing.T) {
	for _, valid := range []bool{false, true} {
		t.Run(map[bool]string{false: "cold", true: "valid token"}[valid], func(t *testing.T) {
			p := newProvider(t)
			clk := newClock()
			shared := &hangingTokenWrites{Store: memstore.New(memstore.WithClock(clk.Now))}
			cfg := token.Config{TokenURL: p.URL, Store: shared}
			token.SetClock(&cfg, clk.Now)
			src := newSource(t, cfg)
			if valid {
				mustToken(t, src)
				clk.Add(50 * time.Minute) // due, valid for 10 more minutes
			}
			shared.hang.Store(true)
			const left = 1500 * time.Millisecond
			cctx, cancel := context.WithTimeout(ctx, left)
			defer cancel()
			deadline, _ := cctx.Deadline()
			tok := within(t, "Token", func() *token.Token {
				tok, err := src.Token(cctx)
				if err != nil {
					t.Errorf("Token: %v", err)
				}
				return tok
			})
			if tok == nil || tok.AccessToken == "tok-1" && valid {
				t.Fatalf("got %v, want a token granted now", tok)
			}
			hung := shared.writes()
			if len(hung) == 0 || len(hung) > 2 {
				t.Errorf("%d writes hung, want 1 or 2 (the token's, then the release)", len(hung))
			}
			for i, w := range hung {
				if limit := w.at.Add(deadline.Sub(w.at) / 2); !w.bounded || w.deadline.After(limit) {
					t.Errorf("hanging write %d, %v before the caller's deadline, may run until %v before it (bounded: %v); want at most half that time",
						i, deadline.Sub(w.at).Round(time.Millisecond), deadline.Sub(w.deadline).Round(time.Millisecond), w.bounded)
				}
			}
		})
	}
}

// TestSlowProviderRefreshedWhileValid: the provider answers, but slowly: in
// 4 s, well inside the Source's own 10-second bound on a token request, as
// an IdP under load does. While the current token is valid, the first
// refresh is cut off by its 3-second budget; the next budget is longer, so
// a caller with 20 s left refreshes the token while it is still valid,
// instead of every try being thrown away until the token is no longer
// served and every caller waits.
func TestSlowProviderRefreshedWhileValid(t *testing.T) {
	clk := newClock()
	var n atomic.Int64
	var slow atomic.Bool
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		k := n.Add(1)
		if slow.Load() {
			select {
			case <-time.After(4 * time.Second):
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
		return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
	})
	log, logs := newLogger()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}, Logger: log}))
	mustToken(t, src)
	clk.Add(50 * time.Minute) // past every moment of the window; valid for 10 more minutes
	slow.Store(true)
	const tries = 3
	for i := range tries {
		ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
		tok, err := src.Token(ictx)
		cancel()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if tok.AccessToken != "tok-1" {
			return // renewed: the provider's answers are used
		}
		clk.Add(3 * time.Second) // past the 2-second put-off
	}
	t.Errorf("a provider answering every grant in 4 s (bound 10 s): after %d refreshes, with 20 s left to each caller, the Source still serves tok-1; %d grants were sent and thrown away; log: %q",
		tries, n.Load()-1, logs.String())
}

// TestRefreshCutOffsLengthenBudget: each refresh cut off by its budget
// while a valid token is served lengthens the next one's budget, 3, 6,
// then 12 seconds, at most half the caller's time left; the third cut-off
// in a row is logged once, at Warn, with the caller's context; a refresh
// that renews the token starts again at 3 seconds.
func TestRefreshCutOffsLengthenBudget(t *testing.T) {
	clk := newClock()
	var n atomic.Int64
	var hang atomic.Bool
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		k := n.Add(1)
		if hang.Load() {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
	})
	h := newCtxHandler()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}, Logger: slog.New(h)}))
	mustToken(t, src)
	clk.Add(50 * time.Minute) // due, valid for 10 more minutes
	hang.Store(true)
	long, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	want := []time.Duration{3 * time.Second, 6 * time.Second, 12 * time.Second, 12 * time.Second, 12 * time.Second}
	rctx := context.WithValue(ctx, ctxKey{}, "req-1")
	for i, w := range want {
		if got := token.Budget(long, src); got != w {
			t.Errorf("after %d cut-offs the budget is %v, want %v", i, got, w)
		}
		// A caller with 400 ms left: a budget of 200 ms cuts the
		// refresh off.
		cctx, cancel := context.WithTimeout(rctx, 400*time.Millisecond)
		tok, err := src.Token(cctx)
		cancel()
		if err != nil || tok.AccessToken != "tok-1" {
			t.Fatalf("cut-off %d: got %v, %v; want tok-1", i, tok, err)
		}
		clk.Add(3 * time.Second) // past the put-off
	}
	var warned []string
	for _, l := range h.Lines() {
		if strings.Contains(l, "budget") {
			warned = append(warned, l)
		}
	}
	if len(warned) != 1 || !strings.HasSuffix(warned[0], "request_id=req-1") {
		t.Errorf("after %d cut-offs in a row, logged %q; want one line, with the caller's context", len(want), warned)
	}
	hang.Store(false)
	if tok := mustToken(t, src); tok.AccessToken == "tok-1" {
		t.Fatal("the provider answers again, but the token was not renewed")
	}
	if got := token.Budget(long, src); got != 3*time.Second {
		t.Errorf("after a renewal the budget is %v, want 3s", got)
	}
}

// TestHangingProviderCountedWhileValid: a caller with 5 s left and a valid
// token that is due; the provider hangs. The refresh's budget is at most
// half the caller's time (2.5 s), shorter than the request's own bound
// (three quarters of it, 10 s, LeaseDuration): the token request must be
// bounded inside the budget, less a margin for the store writes, so that
// a hang ends on the Source's own timeout, which the breaker counts, and
// not on the budget, which it does not. (A caller with less than about
// 2.2 s of budget, 4.4 s left, leaves the request no bound of at least
// internal/attempt.Floor inside it: the budget still cuts it off then.)
func TestHangingProviderCountedWhileValid(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "store"}[withStore], func(t *testing.T) {
			clk := newClock()
			var n atomic.Int64
			var hang atomic.Bool
			idp := idpFunc(func(req *http.Request) (*http.Response, error) {
				k := n.Add(1)
				if hang.Load() {
					select {
					case <-req.Context().Done():
						return nil, req.Context().Err()
					case <-time.After(10 * time.Second):
						return nil, fmt.Errorf("test bound")
					}
				}
				return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
			})
			b := breaker.New(breaker.Settings{Name: "idp", FailureThreshold: 1})
			cfg := token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}, Breaker: b}
			token.SetClock(&cfg, clk.Now)
			if withStore {
				cfg.Store = memstore.New(memstore.WithClock(clk.Now))
			}
			src := newSource(t, cfg)
			mustToken(t, src)
			clk.Add(50 * time.Minute) // due, valid for 10 more minutes
			hang.Store(true)
			for i := range 4 { // budgets 3, 6, 12, 12 s: each capped at 2.5 s
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				tok, err := src.Token(cctx)
				cancel()
				if err != nil || tok.AccessToken != "tok-1" {
					t.Fatalf("call %d: %v, %v", i, tok, err)
				}
				clk.Add(3 * time.Second)
			}
			if st := b.State(ctx); st != breaker.Open {
				t.Errorf("%d token requests hung on the provider while a valid token was served; breaker (threshold 1) is %v, want open: no hang was counted", n.Load()-1, st)
			}
		})
	}
}
