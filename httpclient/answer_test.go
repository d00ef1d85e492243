package httpclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/retry"
)

// httpAnswer is the HTTP answer that funcify's error writer gives err.
func httpAnswer(err error) (status int, header http.Header, message string) {
	a := httperror.AnswerOf(err)
	return a.Status, a.Header, a.Message
}

// refusedURL returns the URL of a port where nothing listens.
func refusedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String() + "/orders/7?token=secret"
	l.Close()
	return u
}

// TestAnswers: a handler that returns the error of a call through this
// package answers its own caller with the call's failure as an upstream's,
// never with the upstream's own status (its 401 or 404 would read as the
// caller's), body or URL: 502 "upstream error", 504 "upstream timeout" for
// a call that ran out of time, 503 with Retry-After for an open circuit; a
// request that could not be built is the handler's own bug, 500.
func TestAnswers(t *testing.T) {
	quick := []retry.Option{retry.WithMaxTries(1)}
	getJSON := func(c *http.Client, u string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := GetJSON[answer](ctx, c, u)
		return err
	}
	get := func(c *http.Client, u string) error {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	openBreaker := func(t *testing.T) *breaker.Breaker {
		now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		b := newBreaker("open", func() time.Time { return now })
		for range 3 {
			breaker.Do(context.Background(), b, func(context.Context) error { return &HTTPError{Status: 503} })
		}
		return b
	}
	tests := []struct {
		name       string
		err        func(t *testing.T) error
		status     int
		message    string
		retryAfter string
		downstream int // the *HTTPError's DownstreamStatus, 0 for none
	}{
		{"upstream 404", func(t *testing.T) error {
			_, u := serve(t, status(404))
			return getJSON(client(&Transport{Retry: quick}), u+"/orders/7?token=secret")
		}, 502, "upstream error", "", 404},
		{"upstream 401", func(t *testing.T) error {
			_, u := serve(t, status(401, "WWW-Authenticate", "Bearer"))
			return getJSON(client(&Transport{Retry: quick}), u)
		}, 502, "upstream error", "", 401},
		{"upstream 500", func(t *testing.T) error {
			_, u := serve(t, status(500))
			return getJSON(client(&Transport{Retry: quick}), u)
		}, 502, "upstream error", "", 500},
		{"answer not JSON", func(t *testing.T) error {
			_, u := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) })
			return getJSON(client(&Transport{Retry: quick}), u)
		}, 502, "upstream error", "", 0},
		{"connection refused", func(t *testing.T) error {
			return getJSON(client(&Transport{Retry: quick}), refusedURL(t))
		}, 502, "upstream error", "", 0},
		{"connection refused, default client", func(t *testing.T) error {
			return getJSON(nil, refusedURL(t))
		}, 502, "upstream error", "", 0},
		{"try ran out of AttemptTimeout", func(t *testing.T) error {
			_, u := serve(t, hang(t))
			return getJSON(client(&Transport{Retry: quick, AttemptTimeout: 20 * time.Millisecond}), u)
		}, 504, "upstream timeout", "", 0},
		{"circuit open", func(t *testing.T) error {
			_, u := serve(t, status(200))
			return getJSON(client(&Transport{Breaker: openBreaker(t), Retry: quick}), u)
		}, 503, "service unavailable", "300", 0},
		{"RoundTrip: connection refused", func(t *testing.T) error {
			return get(client(&Transport{Retry: quick}), refusedURL(t))
		}, 502, "upstream error", "", 0},
		{"RoundTrip: circuit open", func(t *testing.T) error {
			_, u := serve(t, status(200))
			return get(client(&Transport{Breaker: openBreaker(t), Retry: quick}), u)
		}, 503, "service unavailable", "300", 0},
		{"bad URL", func(t *testing.T) error {
			return getJSON(client(&Transport{Retry: quick}), "http://a b/")
		}, 500, "internal error", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(t)
			if err == nil {
				t.Fatal("no error")
			}
			status, header, message := httpAnswer(err)
			if status != tt.status || message != tt.message {
				t.Errorf("answer: got %d %q, want %d %q (err %v)", status, message, tt.status, tt.message, err)
			}
			if got := header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tt.retryAfter)
			}
			var he *HTTPError
			switch {
			case tt.downstream == 0 && errors.As(err, &he):
				t.Errorf("got an *HTTPError %d, want none", he.Status)
			case tt.downstream != 0 && (!errors.As(err, &he) || he.DownstreamStatus() != tt.downstream || he.Status != tt.downstream):
				t.Errorf("got %v, want an *HTTPError with DownstreamStatus %d", err, tt.downstream)
			}
		})
	}
}
