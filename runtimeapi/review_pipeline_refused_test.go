package runtimeapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
)

// wireFailing fails every invocation.
type wireFailing struct{}

func (wireFailing) Invoke(context.Context, []byte) ([]byte, error) { return nil, errors.New("boom") }

// TestReviewPipelineRefusedPostAfterNext (review of the pipelined next,
// issue 14).
//
// What is wrong: when the Runtime API refuses a post with 413, the loop has
// already sent the request for the next invocation after it (pipelined).
// Lambda's Runtime API, a net/http server, reads that next as soon as it
// has written the 413, and hands it the next invocation (r2) if one waits.
// The loop then posts again for r1 (the Function.ResponseSizeTooLarge
// error, or the shortened error) on a side connection: a post for r1 that
// reaches the Runtime API after the runtime asked for, and may have got,
// r2, against the protocol's order (a result, then next). The emulator's
// Runtime API checks the id against the invocation running and answers
// 400 InvalidRequestID (r2 started) or 403 (r2 not yet): the post is
// useless (on a 413 to a response Lambda has failed r1 itself already), and
// a 400 is logged at Error as a refusal. A Runtime API that took the post by
// its runtime's state rather than by its id would take it for r2's. Before
// the pipelining the error went out before the next.
//
// What is right: nothing for r1 reaches the Runtime API after the next that
// follows r1's post. Either the loop posts nothing more for r1 once a next
// went out with the refused post (and says so in the log), or it does not
// pipeline the next after a post that can be refused, so that the error
// goes first on the same connection as before.
//
// The server below answers as Lambda's would with an invocation queued:
// the 413, then at once r2 to the pipelined next; the test passes if the
// loop posts r1's error before the next, or posts nothing more for r1.
func TestReviewPipelineRefusedPostAfterNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		h       Handler
		refused string // what of r1's the Runtime API refuses
	}{
		{"response refused with 413", okHandler{out: []byte(`"big"`)}, "response"},
		{"error refused with 413", wireFailing{}, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startWire(t)
			stop := runWire(t, s, tt.h)
			c1 := s.accept()
			c1.must("GET", wireNext)
			c1.write(invocationAnswer("r1", `{}`))
			c1.must("POST", wirePost("r1", tt.refused))
			c1.write(statusAnswer(413, wire413))

			// The Runtime API goes on with what follows on the connection.
			r := c1.read()
			if r.err == nil && r.method == "POST" && r.path == wirePost("r1", "error") {
				return // r1's error before the next: right
			}
			if r.err != nil || r.method != "GET" || r.path != wireNext {
				t.Fatalf("after the 413: %s %s (error %v), want r1's error or a next", r.method, r.path, r.err)
			}
			c1.write(invocationAnswer("r2", `{}`)) // r2 was waiting: handed out at once
			onC1 := c1.readAsync()
			select {
			case c := <-s.conns:
				side := c.read()
				t.Errorf("after the Runtime API had read the next sent with r1's refused %s and handed out r2, "+
					"the loop posted %s %s (error %v) on a new connection; want nothing more for r1 after its next",
					tt.refused, side.method, side.path, side.err)
			case r := <-onC1:
				if r.err != nil || r.path != wirePost("r2", "response") && r.path != wirePost("r2", "error") {
					t.Errorf("after r2 was handed out: %s %s (error %v), want r2's result", r.method, r.path, r.err)
				}
				c1.write(statusAnswer(202, wireAccepted))
			case <-time.After(fakeruntime.WaitTimeout):
				t.Fatalf("nothing from the loop within %v of handing out r2", fakeruntime.WaitTimeout)
			}
			stop()
		})
	}
}
