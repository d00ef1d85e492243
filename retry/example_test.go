package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/funcify/funcify/retry"
)

func ExampleDo() {
	calls := 0
	n, err := retry.Do(context.Background(), func(ctx context.Context) (int, error) {
		calls++
		if calls < 3 {
			return 0, errors.New("temporarily unavailable")
		}
		return 42, nil
	},
		retry.WithMaxTries(3),
		retry.WithBackoff(time.Millisecond, 2*time.Millisecond),
		retry.WithOnRetry(func(attempt int, err error, _ time.Duration) {
			fmt.Printf("try %d failed: %v\n", attempt, err)
		}),
	)
	fmt.Println(n, err)
	// Output:
	// try 1 failed: temporarily unavailable
	// try 2 failed: temporarily unavailable
	// 42 <nil>
}

var errNotFound = errors.New("not found")

func ExamplePermanent() {
	_, err := retry.Do(context.Background(), func(ctx context.Context) (string, error) {
		return "", retry.Permanent(errNotFound) // retrying will not help
	}, retry.WithMaxTries(5))

	var rerr *retry.Error
	errors.As(err, &rerr)
	fmt.Println(rerr.Attempts, rerr.Err == errNotFound, errors.Is(err, errNotFound))
	fmt.Println(err)
	// Output:
	// 1 true true
	// retry: after 1 attempt: not found
}

func ExampleRetryAfter() {
	calls := 0
	s, err := retry.Do(context.Background(), func(ctx context.Context) (string, error) {
		calls++
		if calls == 1 {
			// The server said how long to wait; Do waits that long instead of
			// its own backoff.
			return "", retry.RetryAfter(2*time.Millisecond, errors.New("busy"))
		}
		return "done", nil
	}, retry.WithOnRetry(func(attempt int, err error, delay time.Duration) {
		fmt.Printf("try %d: %v; again in %v\n", attempt, err, delay)
	}))
	fmt.Println(s, err)
	// Output:
	// try 1: busy; again in 2ms
	// done <nil>
}

func ExampleParseRetryAfter() {
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	for _, v := range []string{"120", "Wed, 21 Oct 2015 07:28:30 GMT", "Wed, 21 Oct 2015 07:00:00 GMT", "soon"} {
		d, ok := retry.ParseRetryAfter(v, now)
		fmt.Printf("%q: %v %v\n", v, d, ok)
	}
	// Output:
	// "120": 2m0s true
	// "Wed, 21 Oct 2015 07:28:30 GMT": 30s true
	// "Wed, 21 Oct 2015 07:00:00 GMT": 0s true
	// "soon": 0s false
}

func ExampleErrDeadline() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := retry.Do(ctx, func(ctx context.Context) (int, error) {
		// An hour's wait cannot fit before the deadline: Do gives up at once.
		return 0, retry.RetryAfter(time.Hour, errors.New("throttled"))
	}, retry.WithMaxTries(3))
	fmt.Println(errors.Is(err, retry.ErrDeadline))
	fmt.Println(err)
	// Output:
	// true
	// retry: after 1 attempt, deadline too close for another attempt: throttled
}

func ExampleWithMaxRetryAfter() {
	calls := 0
	_, err := retry.Do(context.Background(), func(ctx context.Context) (int, error) {
		calls++
		// The server asks for a longer wait than the cap allows: Do
		// neither waits that long nor tries again sooner than asked.
		return 0, retry.RetryAfter(100*time.Millisecond, errors.New("down for maintenance"))
	}, retry.WithMaxTries(3), retry.WithMaxRetryAfter(50*time.Millisecond))
	fmt.Println(calls, errors.Is(err, retry.ErrRetryAfterTooLong))
	fmt.Println(err)
	// Output:
	// 1 true
	// retry: after 1 attempt, delay asked for is over the maximum: down for maintenance
}

// statusError is what an HTTP client might return for a response it did
// not want.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

// Example_http retries a GET on 5xx and 429 responses, honouring the
// server's Retry-After header, and gives up at once on other 4xx ones.
func Example_http() {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	get := func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return 0, retry.Permanent(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err // network errors are worth another try
		}
		defer resp.Body.Close()
		if resp.StatusCode < 300 {
			return resp.StatusCode, nil
		}
		err = &statusError{resp.StatusCode}
		if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			err = retry.RetryAfter(d, err)
		}
		return 0, err
	}
	retryable := func(err error) bool {
		var se *statusError
		return !errors.As(err, &se) || se.code >= 500 || se.code == http.StatusTooManyRequests
	}

	code, err := retry.Do(context.Background(), get,
		retry.WithMaxTries(3),
		retry.WithRetryIf(retryable),
		retry.WithOnRetry(func(attempt int, err error, delay time.Duration) {
			fmt.Printf("try %d: %v, again in %v\n", attempt, err, delay)
		}))
	fmt.Println(code, err)
	// Output:
	// try 1: status 503, again in 0s
	// 200 <nil>
}

func ExampleRetryAfterError() {
	throttled := errors.New("quotes: 429 Too Many Requests")
	_, err := retry.Do(context.Background(), func(ctx context.Context) (int, error) {
		return 0, retry.RetryAfter(2*time.Hour, throttled) // the server asks for more than a minute
	})
	var ra *retry.RetryAfterError
	var rerr *retry.Error
	if errors.As(err, &ra) && errors.As(err, &rerr) {
		fmt.Println(errors.Is(err, retry.ErrRetryAfterTooLong), ra.Delay)
		// A handler that returns err answers its caller 503 with a
		// Retry-After capped at the minute Do would have waited.
		fmt.Println(rerr.HTTPStatus(), rerr.Header().Get("Retry-After"))
	}
	// Output:
	// true 2h0m0s
	// 503 60
}
