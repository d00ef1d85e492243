package jwtauth

import (
	"errors"
	"testing"

	"github.com/funcify/funcify/breaker"
)

// TestFetchErrorsAreDownstreamStatuses: the provider's answer is a
// downstream status, which the breaker counts when it is 5xx (an unusable
// document counts as a 502), and never the status funcify's caller gets:
// a provider's 404 must not become the caller's 404.
func TestFetchErrorsAreDownstreamStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		counts bool
	}{
		{&statusError{status: 503}, true},
		{&statusError{status: 500}, true},
		{&statusError{status: 404}, false},
		{&statusError{status: 429}, false},
		{&unusableError{errors.New("jwtauth: document too large")}, true},
	} {
		if got := breaker.IsDownstreamFailure(tc.err); got != tc.counts {
			t.Errorf("breaker.IsDownstreamFailure(%v) = %v, want %v", tc.err, got, tc.counts)
		}
		var answer interface{ HTTPStatus() int }
		if errors.As(tc.err, &answer) {
			t.Errorf("%v carries HTTPStatus %d: the provider's answer would choose the caller's", tc.err, answer.HTTPStatus())
		}
	}
}
