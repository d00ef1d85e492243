package httperror_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/httpclient"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/token"
)

// TestTokenEndpointStatusIsNotTheCallers: a handler that calls a
// downstream through token.Transport, whose token endpoint refuses
// funcify's own client credentials (401 invalid_client), answers with
// app.WriteError / httperror.Write. The caller must not get the token
// endpoint's 401 (its own credentials were fine): token.RetrieveError still
// implements HTTPStatus (the breaker's old StatusError contract), which
// httperror now reads as the caller's answer.
func TestTokenEndpointStatusIsNotTheCallers(t *testing.T) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
	}))
	defer idp.Close()
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer downstream.Close()

	src, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "funcify"})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &token.Transport{Source: src}}
	handler := func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(downstream.URL)
		if err != nil {
			httperror.Write(w, r, fmt.Errorf("billing: %w", err))
			return
		}
		resp.Body.Close()
	}
	w := httptest.NewRecorder()
	handler(w, httptest.NewRequest("GET", "/orders", nil))
	if w.Code < 500 {
		t.Errorf("the token endpoint's refusal of funcify's client answers funcify's caller %d %s; want a 5xx (502/503)", w.Code, w.Body)
	}
}

// TestRetrieveErrorStatusesLeak: every status of the token endpoint
// becomes the caller's.
func TestRetrieveErrorStatusesLeak(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 429} {
		err := fmt.Errorf("calling billing: %w", &token.RetrieveError{StatusCode: code, ErrorCode: "invalid_client"})
		if got := httperror.Status(err); got == code {
			t.Errorf("token endpoint %d answers funcify's caller %d", code, got)
		}
	}
}

// TestRetrieveErrorCountsInBreaker: the breaker's classifier now reads
// DownstreamStatus, but token.RetrieveError only has HTTPStatus: a token
// endpoint answering 503 no longer counts as a failure of the provider, so
// the token Source's default breaker never opens on a 5xx storm.
func TestRetrieveErrorCountsInBreaker(t *testing.T) {
	for _, code := range []int{500, 502, 503} {
		if !breaker.IsDownstreamFailure(&token.RetrieveError{StatusCode: code}) {
			t.Errorf("breaker.IsDownstreamFailure(&token.RetrieveError{StatusCode: %d}) = false; a 5xx of the token endpoint must count", code)
		}
	}
}

// TestTokenRefusalThroughHTTPClient: the same through httpclient's
// Transport, whose upstreamError is meant to answer 502: it defers to the
// first error in its chain with an HTTPStatus, which is the token
// endpoint's RetrieveError, so the caller still gets the token endpoint's
// 401.
func TestTokenRefusalThroughHTTPClient(t *testing.T) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
	}))
	defer idp.Close()
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer downstream.Close()
	src, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "funcify"})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &httpclient.Transport{Base: &token.Transport{Source: src}}}
	resp, err := client.Get(downstream.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error")
	}
	w := httptest.NewRecorder()
	httperror.Write(w, httptest.NewRequest("GET", "/orders", nil), err)
	if w.Code < 500 {
		t.Errorf("through httpclient.Transport the token endpoint's refusal answers funcify's caller %d %s; want 502", w.Code, w.Body)
	}
}
