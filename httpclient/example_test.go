package httpclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/httpclient"
	"github.com/funcify/funcify/retry"
)

type order struct {
	ID   string `json:"id"`
	Item string `json:"item"`
}

func ExampleTransport() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls++; calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // a passing fault
			return
		}
		io.WriteString(w, `{"id":"42","item":"book"}`)
	}))
	defer srv.Close()

	client := &http.Client{Transport: &httpclient.Transport{
		Breaker: breaker.New(breaker.Settings{Name: "orders"}),
		Retry:   []retry.Option{retry.WithMaxTries(3)},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
	o, err := httpclient.GetJSON[order](context.Background(), client, srv.URL+"/orders/42")
	fmt.Println(o.Item, err, calls)
	// Output: book <nil> 2
}

// A POST is retried only when it carries an Idempotency-Key, which tells
// the server to apply it once however often it arrives.
func ExampleTransport_idempotencyKey() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls++; calls == 1 {
			w.WriteHeader(http.StatusBadGateway) // applied, or not: the client cannot tell
			return
		}
		fmt.Fprintf(w, `{"id":"42","key":%q}`, r.Header.Get("Idempotency-Key"))
	}))
	defer srv.Close()
	client := &http.Client{Transport: &httpclient.Transport{
		Retry:  []retry.Option{retry.WithBackoff(time.Millisecond, time.Millisecond)},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}

	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/orders", strings.NewReader(`{"item":"book"}`))
	req.Header.Set("Idempotency-Key", "order-7f3a")
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body), calls)
	// Output: 200 {"id":"42","key":"order-7f3a"} 2
}

func ExampleGetJSON() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"no such order"}`, http.StatusNotFound)
	}))
	defer srv.Close()

	_, err := httpclient.GetJSON[order](context.Background(), nil, srv.URL+"/orders/7?token=secret")
	var he *httpclient.HTTPError
	if errors.As(err, &he) {
		fmt.Println(he.Status, he.URL == srv.URL+"/orders/7")
		// A handler returning err answers its own caller 502, not the
		// downstream's 404.
		fmt.Println(he.DownstreamStatus(), he.HTTPStatus(), he.PublicMessage())
	}
	// Output:
	// 404 true
	// 404 502 upstream error
}

func ExamplePostJSON() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b) // echo
	}))
	defer srv.Close()

	o, err := httpclient.PostJSON[order](context.Background(), nil, srv.URL, order{ID: "1", Item: "pen"})
	fmt.Println(o, err)
	// Output: {1 pen} <nil>
}

func ExamplePostForm() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		fmt.Fprintf(w, `{"grant":%q}`, r.PostForm.Get("grant_type"))
	}))
	defer srv.Close()

	v, err := httpclient.PostForm[map[string]string](context.Background(), nil, srv.URL, url.Values{"grant_type": {"client_credentials"}})
	fmt.Println(v["grant"], err)
	// Output: client_credentials <nil>
}
