package retry

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/funcify/funcify/httperror"
)

// countingCarrier counts how often its answer is asked for.
type countingCarrier struct{ asked *int }

func (c countingCarrier) Error() string { return "down" }
func (c countingCarrier) HTTPStatus() int {
	*c.asked++
	return http.StatusServiceUnavailable
}

// TestNestedErrorsAnswerLinear: answering Do errors nested in one another
// (a Do whose fn calls one whose fn calls one ...) asks the innermost
// error for its answer a number of times that grows with the depth, not
// doubling with each level, as when every *Error walked its chain again
// for each of HTTPStatus, PublicMessage and Header.
func TestNestedErrorsAnswerLinear(t *testing.T) {
	asked := 0
	var err error = countingCarrier{&asked}
	const depth = 16
	for i := range depth {
		inner := err
		_, err = Do(context.Background(), func(context.Context) (int, error) { return 0, fmt.Errorf("level %d: %w", i, inner) },
			WithMaxTries(1))
	}
	asked = 0
	a := httperror.AnswerOf(err)
	if a.Status != http.StatusServiceUnavailable {
		t.Errorf("answer %d, want 503", a.Status)
	}
	if asked > 4*depth {
		t.Errorf("answering %d nested errors asked the innermost %d times, want at most %d", depth, asked, 4*depth)
	}
}
