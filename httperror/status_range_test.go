package httperror_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/token"
)

type rangeCarrier int

func (c rangeCarrier) Error() string   { return "carrier" }
func (c rangeCarrier) HTTPStatus() int { return int(c) }

// TestErrorNeverAnswersSuccess: Write honours any carried status from
// 100 to 999, so an error answers the caller 1xx, 2xx or 3xx. A token
// endpoint that answers 204 (or a 3xx http.Client does not follow) makes
// token.RetrieveError{StatusCode: 204}; a handler that fails with it
// answers its own caller 204 No Content: a failure reported as success,
// the envelope dropped by net/http. Over a real server a 1xx carrier gives
// an informational answer followed by 200.
func TestErrorNeverAnswersSuccess(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("billing: %w", &token.RetrieveError{StatusCode: http.StatusNoContent}),
		fmt.Errorf("billing: %w", &token.RetrieveError{StatusCode: http.StatusFound}),
		rangeCarrier(200),
		rangeCarrier(100),
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httperror.Write(w, r, err)
		}))
		resp, gerr := srv.Client().Get(srv.URL)
		srv.Close()
		if gerr != nil {
			t.Errorf("%v: %v", err, gerr)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("a failed request (%v) answers the caller %s", err, resp.Status)
		}
	}
}
