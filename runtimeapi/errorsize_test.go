package runtimeapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): errorBody.encode says "a body over
// MaxResponseSize is always cut so", but it judges by the message's raw
// length (over MaxResponseSize/2), not by the body it encodes. JSON
// escaping grows a message up to six times: '<', '>', '&' and the control
// characters below 0x20 become \u003c, \u0026, \u0001, and so on (as
// aws-lambda-go's encoding/json does too). An HTML page, a binary blob or
// a log excerpt of 1.1 MB in an error message makes an error body of
// 6.6 MB, over Lambda's limit, which is sent whole; Lambda refuses it
// (413), and only the second, shortened POST gets through: 6.6 MB written
// for nothing on every such failure, and the shortened resend is the only
// thing standing between the function and a lost error.
//
// Right: cut (short) whenever the encoded body would be over
// MaxResponseSize, e.g. encode, then encode again short when len(body) >
// MaxResponseSize.

func TestErrorBodyOverLimitIsCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
	}{
		{"markup", strings.Repeat("<p>", 500<<10)},          // 1.5 MB: 6.5 MB encoded
		{"control bytes", strings.Repeat("\x01", 1100<<10)}, // 1.1 MB: 6.6 MB encoded
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fakeruntime.Start(t)
			startRun(t, s, failing(errors.New(tt.msg)), runtimeapi.Config{})
			id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fail"`)})
			res := s.Wait(t, id)
			if !res.Error {
				t.Fatalf("POST %s, want an error", res.Path)
			}
			if len(res.Body) > runtimeapi.MaxResponseSize {
				t.Errorf("error body of %d bytes (message of %d bytes), want at most MaxResponseSize (%d): it should have been cut",
					len(res.Body), len(tt.msg), runtimeapi.MaxResponseSize)
			}
		})
	}
}
