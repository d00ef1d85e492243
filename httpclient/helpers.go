package httpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/funcify/funcify/internal/redact"
)

// maxResponse bounds how much of an answer the helpers read.
const maxResponse = 16 << 20

// GetJSON sends a GET to rawURL with client (nil: http.DefaultClient) and
// decodes the JSON answer into a T.
func GetJSON[T any](ctx context.Context, client *http.Client, rawURL string) (T, error) {
	req, err := http.NewRequestWithContext(withPreread(ctx), http.MethodGet, rawURL, nil)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("httpclient: %w", unwrapURLError(err))
	}
	return do[T](client, req)
}

// PostJSON sends body, encoded as JSON, to rawURL with client (nil:
// http.DefaultClient) and decodes the JSON answer into a T.
//
// A POST is not idempotent, so a [Transport] retries it only when it failed
// before it was written (connection refused, DNS or dial failure), never
// after a 5xx answer or a reset: the server may have acted on it. To have a
// POST retried like a GET, send a request of your own with an
// Idempotency-Key header that the server honours.
func PostJSON[T any](ctx context.Context, client *http.Client, rawURL string, body any) (T, error) {
	var zero T
	b, err := json.Marshal(body)
	if err != nil {
		return zero, fmt.Errorf("httpclient: encoding the request body: %w", err)
	}
	req, err := http.NewRequestWithContext(withPreread(ctx), http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return zero, fmt.Errorf("httpclient: %w", unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	return do[T](client, req)
}

// PostForm sends form, URL-encoded, to rawURL with client (nil:
// http.DefaultClient) and decodes the JSON answer into a T. Like [PostJSON]'s,
// its POST is retried by a [Transport] only when it failed before it was
// written.
func PostForm[T any](ctx context.Context, client *http.Client, rawURL string, form url.Values) (T, error) {
	req, err := http.NewRequestWithContext(withPreread(ctx), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		var zero T
		return zero, fmt.Errorf("httpclient: %w", unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do[T](client, req)
}

func do[T any](client *http.Client, req *http.Request) (T, error) {
	var zero T
	if client == nil {
		client = http.DefaultClient
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return zero, upstream(fmt.Errorf("httpclient: %s %s: %w", req.Method, redact.URL(req.URL), unwrapURLError(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		for !utf8.Valid(excerpt) && len(excerpt) > 0 {
			excerpt = excerpt[:len(excerpt)-1]
		}
		return zero, &HTTPError{Status: resp.StatusCode, Method: req.Method, URL: redact.URL(req.URL), Body: string(excerpt)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return zero, upstream(fmt.Errorf("httpclient: %s %s: reading the answer: %w", req.Method, redact.URL(req.URL), err))
	}
	if len(body) > maxResponse {
		return zero, upstream(fmt.Errorf("httpclient: %s %s: answer over %d bytes", req.Method, redact.URL(req.URL), maxResponse))
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return zero, upstream(fmt.Errorf("httpclient: %s %s: decoding the answer: %w", req.Method, redact.URL(req.URL), err))
	}
	return v, nil
}

// unwrapURLError drops the *url.Error around a client or URL parsing error:
// it repeats the URL, query and all.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
