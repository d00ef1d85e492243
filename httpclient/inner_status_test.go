package httpclient

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/retry"
)

// oddStatusErr is an error of a Base RoundTripper (a library's, a
// middleware's) that has an HTTPStatus method whose value is not an error
// status: 0 for "none known", or a 3xx.
type oddStatusErr int

func (e oddStatusErr) Error() string   { return "base transport failed" }
func (e oddStatusErr) HTTPStatus() int { return int(e) }

type failingBase struct{ err error }

func (b failingBase) RoundTrip(*http.Request) (*http.Response, error) { return nil, b.err }

// TestInnerStatusOutOfRange: upstreamError's HTTPStatus returned the
// status of the first error in its chain that had an HTTPStatus method,
// whatever it was, while package httperror honours only 400 to 599. When
// that inner status was out of range (0, 302), httperror skipped the
// upstreamError, found nothing else, and the call's failure answered 500
// "internal error", not the 502 "upstream error" the package doc promises
// for "any other failure of a call". inner now looks on past it.
func TestInnerStatusOutOfRange(t *testing.T) {
	for _, st := range []int{0, 302} {
		tr := &Transport{Base: failingBase{oddStatusErr(st)}, Retry: []retry.Option{retry.WithMaxTries(1)}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := GetJSON[answer](ctx, client(tr), "http://orders.internal/orders/7")
		cancel()
		if err == nil {
			t.Fatal("no error")
		}
		if status, _, message := httpAnswer(err); status != http.StatusBadGateway {
			t.Errorf("inner HTTPStatus %d: answer %d %q, want 502 %q (err %v)", st, status, message, "upstream error", err)
		}
	}
}

// redirected is an error with an out-of-range HTTPStatus, a message and a
// header of its own, around another error.
type redirected struct{ err error }

func (e redirected) Error() string         { return "redirected: " + e.err.Error() }
func (e redirected) Unwrap() error         { return e.err }
func (e redirected) HTTPStatus() int       { return http.StatusFound }
func (e redirected) PublicMessage() string { return "moved" }
func (e redirected) Header() http.Header   { return http.Header{"Location": {"/elsewhere"}} }

// gone is an error that chooses 410 and a header.
type gone struct{}

func (gone) Error() string         { return "gone" }
func (gone) HTTPStatus() int       { return http.StatusGone }
func (gone) PublicMessage() string { return "no longer here" }
func (gone) Header() http.Header   { return http.Header{"X-Gone": {"yes"}} }

// TestInnerStatusBehindOutOfRange: an error deeper in the chain than one
// with an out-of-range status chooses the answer, its status, message and
// headers all from it.
func TestInnerStatusBehindOutOfRange(t *testing.T) {
	tr := &Transport{Base: failingBase{fmt.Errorf("base: %w", redirected{gone{}})}, Retry: []retry.Option{retry.WithMaxTries(1)}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := GetJSON[answer](ctx, client(tr), "http://orders.internal/orders/7")
	if err == nil {
		t.Fatal("no error")
	}
	status, header, message := httpAnswer(err)
	if status != http.StatusGone || message != "no longer here" || header.Get("X-Gone") != "yes" || header.Get("Location") != "" {
		t.Errorf("answer %d %q %v, want 410 %q with X-Gone only (err %v)", status, message, header, "no longer here", err)
	}
}

// TestInnerHTTPErrorHeaders: an httperror.Error in the chain (from a Base
// of the user's own) answers with its headers too.
func TestInnerHTTPErrorHeaders(t *testing.T) {
	err := &upstreamError{err: fmt.Errorf("base: %w", &httperror.Error{Status: 503, Message: "maintenance",
		Header: http.Header{"Retry-After": {"120"}}})}
	a := httperror.AnswerOf(err)
	if a.Status != 503 || a.Message != "maintenance" || a.Header.Get("Retry-After") != "120" {
		t.Errorf("got %d %q %v, want 503 maintenance with Retry-After 120", a.Status, a.Message, a.Header)
	}
}
