package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// traceKey is the context key under which aws-lambda-go puts the
// invocation's X-Ray trace header, and where funcify's trace package and
// the X-Ray SDK look for it. It must be this plain string to be found there.
const traceKey = "x-amzn-trace-id"

// attempts is how many times in a row a request to the Runtime API may
// fail to get an answer (a refused dial, a broken connection) before the
// loop gives up; retryDelays are the waits before the second and later
// attempts. The first retry is at once: the usual failure is a kept-alive
// connection the server closed while the function was idle.
const attempts = 5

var retryDelays = [attempts - 1]time.Duration{0, 10 * time.Millisecond, 50 * time.Millisecond, 250 * time.Millisecond}

// maxBadInvocations is how many invocations in a row may come without a
// request id the loop can answer before it gives up on the Runtime API.
const maxBadInvocations = 5

// loop runs invocations one at a time on its own connection.
type loop struct {
	h       Handler
	c       *client
	log     *slog.Logger
	setEnv  bool   // set _X_AMZN_TRACE_ID: the only loop of the process
	cwd     string // for the X-Ray error cause
	nextURL string
	nextReq []byte // the whole request for next, pipelined after a post

	mu       sync.Mutex // guards waiting and stopping
	waiting  bool       // in next: stop may interrupt it
	stopping bool       // ask for no more invocations

	retried bool // the last exchange needed more than one attempt
	refused bool // the Runtime API refused this invocation's response (413)

	inv  invocation // the invocation being run; reused
	bad  int        // invocations in a row that could not be answered
	arns string     // the last function ARN, reused while it does not change
}

// invocation is what a next answer carried.
type invocation struct {
	l             *loop
	id            string
	deadline      int64 // Unix milliseconds
	deadlineOK    bool
	arn           string
	traceID       string
	clientContext string
	cognito       string
	tenantID      string
	payload       []byte
}

func (inv *invocation) reset() {
	l := inv.l
	*inv = invocation{l: l}
}

// header keeps the Lambda-Runtime-* headers of a next answer. The request
// id and trace id are new strings each time; the function ARN, the same on
// every invocation of a version, is reused.
func (inv *invocation) header(name, value []byte) {
	if len(name) < len("Lambda-Runtime-") || !equalFold(name[:len("Lambda-Runtime-")], "Lambda-Runtime-") {
		return
	}
	switch name := name[len("Lambda-Runtime-"):]; {
	case equalFold(name, "Aws-Request-Id"):
		inv.id = string(value)
	case equalFold(name, "Deadline-Ms"):
		inv.deadline, inv.deadlineOK = parseDigits(value)
	case equalFold(name, "Invoked-Function-Arn"):
		if string(value) != inv.l.arns {
			inv.l.arns = string(value)
		}
		inv.arn = inv.l.arns
	case equalFold(name, "Trace-Id"):
		inv.traceID = string(value)
	case equalFold(name, "Client-Context"):
		inv.clientContext = string(value)
	case equalFold(name, "Cognito-Identity"):
		inv.cognito = string(value)
	case equalFold(name, "Aws-Tenant-Id"):
		inv.tenantID = string(value)
	}
}

// stop makes the loop ask for no more invocations, interrupting it when it
// waits for one.
func (l *loop) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopping = true
	if l.waiting {
		l.c.stop()
	}
}

// run answers invocations until ctx ends or a fatal error.
func (l *loop) run(ctx context.Context) error {
	defer l.c.drop()
	l.inv.l = l
	base := context.WithoutCancel(ctx)
	for {
		l.mu.Lock()
		if l.stopping {
			l.mu.Unlock()
			return nil
		}
		l.waiting = true
		l.mu.Unlock()

		err := l.next(ctx)

		l.mu.Lock()
		l.waiting = false
		l.mu.Unlock()
		if errors.Is(err, errStopped) {
			return nil
		}
		if err != nil {
			return err
		}
		l.c.resume() // stop may have raced with an answer that arrived
		if err := l.invoke(base); err != nil {
			return err
		}
	}
}

// next asks for the next invocation and reads it into l.inv. When the last
// post carried the request for it (pipelined), it only reads the answer;
// if that fails (the server closed the connection after the post), it asks
// again on a new connection.
func (l *loop) next(ctx context.Context) error {
	if l.c.pending {
		l.inv.reset()
		a, err := l.c.readPending(&l.inv)
		if err == nil {
			if a.status == 200 {
				l.inv.payload, err = l.c.readBody()
			} else {
				err = l.c.discardBody()
			}
		}
		switch {
		case err == nil && a.status != 200:
			return fatalf("runtimeapi: the Runtime API answered GET next with status %d: %s", a.status, a.body)
		case err == nil:
			return nil
		case errors.Is(err, errStopped):
			return err
		}
		l.log.Debug("runtimeapi: the answer to the pipelined next failed; asking again", "error", err)
	}
	l.c.startHead("GET", l.nextURL)
	a, err := l.exchange(ctx, l.c, nil, &l.inv, true, false)
	if err != nil {
		return err
	}
	if a.status != 200 {
		return fatalf("runtimeapi: the Runtime API answered GET next with status %d: %s", a.status, a.body)
	}
	return nil
}

// nextRequest returns the request for the next invocation, to pipeline
// after a post, or nil when the loop is stopping (it must not ask for an
// invocation it would not run).
func (l *loop) nextRequest(pipeline bool) []byte {
	if !pipeline {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return nil
	}
	if l.nextReq == nil {
		c := &client{addr: l.c.addr}
		c.startHead("GET", l.nextURL)
		l.nextReq = append(c.head, "\r\n"...)
	}
	return l.nextReq
}

// exchange sends the request in c.head with body (and, with pipeline, the
// request for the next invocation after it) and reads the answer, retrying on a new connection
// when one breaks (attempts in all). For next (payload true) a 200
// answer's body becomes l.inv.payload; other bodies are kept in part in the
// answer, for the log.
func (l *loop) exchange(ctx context.Context, c *client, body []byte, sink headerSink, payload, pipeline bool) (*answer, error) {
	n := len(c.head)
	var err error
	for attempt := 1; ; attempt++ {
		if sink == &l.inv {
			l.inv.reset()
		}
		c.head = c.head[:n]
		l.retried = attempt > 1
		// Asked again on each attempt: a loop told to stop while it waited
		// must not ask for an invocation it will not run.
		tail := l.nextRequest(pipeline)
		var a *answer
		if a, err = c.roundTrip(ctx, body, sink, tail); err == nil {
			if payload && a.status == 200 {
				l.inv.payload, err = c.readBody()
			} else {
				err = c.discardBody()
			}
			if err == nil {
				return a, nil
			}
		}
		if errors.Is(err, errStopped) {
			return nil, err
		}
		if attempt == attempts {
			break
		}
		// The first failure is usually a kept-alive connection the server
		// closed while the function waited: worth a line only at Debug.
		level := slog.LevelWarn
		if attempt == 1 {
			level = slog.LevelDebug
		}
		l.log.Log(ctx, level, "runtimeapi: the connection to the Runtime API failed; retrying on a new one",
			"attempt", attempt, "error", err)
		if d := retryDelays[attempt-1]; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, errStopped
			}
		}
	}
	return nil, fatalf("runtimeapi: the Runtime API at %s failed %d times in a row: %w", c.addr, attempts, err)
}

// invoke runs l.inv and posts its result.
func (l *loop) invoke(base context.Context) error {
	inv := &l.inv
	if !validRequestID(inv.id) {
		l.bad++
		l.log.Error("runtimeapi: the Runtime API sent an invocation without a usable request id; it cannot be answered",
			"requestId", fmt.Sprintf("%.64q", inv.id))
		if l.bad >= maxBadInvocations {
			return fatalf("runtimeapi: %d invocations in a row came without a usable request id", l.bad)
		}
		return nil
	}
	l.bad = 0
	lc := &lambdacontext.LambdaContext{
		AwsRequestID:       inv.id,
		InvokedFunctionArn: inv.arn,
		TenantID:           inv.tenantID,
	}
	if !inv.deadlineOK {
		return l.fail(invocationError("runtimeapi: the Runtime API sent no valid Lambda-Runtime-Deadline-Ms header", "Runtime.InvalidDeadline"))
	}
	if inv.clientContext != "" {
		if err := json.Unmarshal([]byte(inv.clientContext), &lc.ClientContext); err != nil {
			return l.fail(invocationError("runtimeapi: malformed Lambda-Runtime-Client-Context header: "+err.Error(), "Runtime.InvalidClientContext"))
		}
	}
	if inv.cognito != "" {
		if err := json.Unmarshal([]byte(inv.cognito), &lc.Identity); err != nil {
			return l.fail(invocationError("runtimeapi: malformed Lambda-Runtime-Cognito-Identity header: "+err.Error(), "Runtime.InvalidCognitoIdentity"))
		}
	}

	ctx, cancel := context.WithDeadline(base, time.UnixMilli(inv.deadline))
	ctx = lambdacontext.NewContext(ctx, lc)
	if l.setEnv {
		os.Setenv("_X_AMZN_TRACE_ID", inv.traceID)
	}
	ctx = context.WithValue(ctx, traceKey, inv.traceID) //nolint:staticcheck // the key aws-lambda-go uses
	returned := false
	defer func() {
		// call recovers panics: if it did not return, runtime.Goexit
		// ended the handler's goroutine, which is this one. Report it,
		// and let Run fail (see loopExited) as after a panic.
		if !returned {
			l.log.Error("runtimeapi: the handler called runtime.Goexit; the process exits after reporting it", "requestId", inv.id)
			l.fail(invocationError("runtimeapi: the handler's goroutine exited (runtime.Goexit) before it returned", "Runtime.ExitError"))
		}
	}()
	out, e, exit := call(ctx, l.h, inv.payload)
	returned = true
	cancel()
	inv.payload = nil

	switch {
	case e != nil && exit:
		l.log.Error("runtimeapi: the invocation failed in a way that ends the process; it exits after reporting it",
			"requestId", inv.id, "errorType", e.Type)
		if ferr := l.fail(e); ferr != nil {
			return ferr
		}
		if e.panicked {
			return fatalf("runtimeapi: a panic escaped the handler: %s", e.Message)
		}
		return fatalf("runtimeapi: the handler's error asks the process to exit: %s: %s", e.Type, e.Message)
	case e != nil:
		l.log.Debug("runtimeapi: the invocation failed", "requestId", inv.id, "errorType", e.Type)
		return l.fail(e)
	case len(out) > MaxResponseSize:
		return l.fail(tooLarge(len(out)))
	}
	return l.respond(out)
}

// call runs h and returns its response, or the error document to post and
// whether the process must exit after it: a panic, as with aws-lambda-go,
// exits (but an aws-lambda-go InvokeResponse_Error, returned or panicked,
// exits exactly when its ShouldExit says so, as lambda.Start decides).
func call(ctx context.Context, h Handler, payload []byte) (out []byte, e *errorBody, exit bool) {
	defer func() {
		if v := recover(); v != nil {
			out, e, exit = nil, panicError(v), true
			if m, ok := v.(messages.InvokeResponse_Error); ok {
				exit = m.ShouldExit
			}
		}
	}()
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		e, exit = describe(err)
		return nil, e, exit
	}
	return out, nil, false
}

// respond posts out as the response of l.inv, with the request for the
// next invocation pipelined after it.
func (l *loop) respond(out []byte) error {
	if out == nil {
		out = []byte{}
	}
	l.c.startHead("POST", "/2018-06-01/runtime/invocation/", l.inv.id, "/response")
	l.c.addHeader("Content-Type", "application/octet-stream")
	// A large response is not pipelined: a Runtime API that refuses it
	// (413) leaves the loop free to post the error before it asks again.
	a, err := l.exchange(context.Background(), l.c, out, nil, false, len(out) <= inlineBody)
	if err != nil {
		return err
	}
	switch {
	case a.status/100 == 2:
		return nil
	case a.status == 413:
		l.log.Error("runtimeapi: the Runtime API refused the response as too large; reporting a function error instead",
			"requestId", l.inv.id, "status", a.status, "bytes", len(out), "answer", string(a.body))
		l.refused = true
		err := l.fail(tooLarge(len(out)))
		l.refused = false
		return err
	case a.status >= 500:
		return fatalf("runtimeapi: the Runtime API answered the response with status %d: %s", a.status, a.body)
	}
	l.logRefusal("response", a)
	return nil
}

// logRefusal logs that the Runtime API refused a post (what is the
// response or the error). A 403 (the invocation is no longer open) is
// expected when the post was sent again after a connection broke (the
// first attempt was probably taken), and a 403 or 400 (the invocation is
// not the current one) after a 413 (the Runtime API failed the invocation
// itself, and may have started the next): a Warn then, an Error otherwise.
func (l *loop) logRefusal(what string, a *answer) {
	level, msg := slog.LevelError, "runtimeapi: the Runtime API refused the "+what
	switch {
	case a.status == 403 && l.retried:
		level, msg = slog.LevelWarn, "runtimeapi: the Runtime API refused the "+what+" sent again after a broken connection; it had probably taken the first"
	case (a.status == 403 || a.status == 400) && l.refused:
		level, msg = slog.LevelWarn, "runtimeapi: the Runtime API had already failed the invocation whose response it refused"
	}
	l.log.Log(context.Background(), level, msg, "requestId", l.inv.id, "status", a.status, "answer", string(a.body))
}

// fail posts e as the error of l.inv. Errors are rare: the request for
// the next invocation is not pipelined after them, so that a refusal
// leaves the order of the protocol whole. A body the Runtime API refuses
// as too large is sent again shortened. When a next is already pending on
// the loop's connection (the small response it follows was refused), the
// error goes on a connection of its own, and a refusal of it then (the
// Runtime API may have failed the invocation itself and started the next)
// is only a warning.
func (l *loop) fail(e *errorBody) error {
	c := l.c
	if c.pending {
		c = newClient(l.c.addr)
		defer c.drop()
	}
	for short := false; ; short = true {
		body, cause := e.encode(l.cwd, short)
		c.startHead("POST", "/2018-06-01/runtime/invocation/", l.inv.id, "/error")
		c.addHeader("Content-Type", "application/json")
		c.addHeader("Lambda-Runtime-Function-Error-Type", headerSafe(e.Type))
		if cause != nil {
			c.addHeader("Lambda-Runtime-Function-Xray-Error-Cause", string(cause))
		}
		a, err := l.exchange(context.Background(), c, body, nil, false, false)
		if err != nil {
			return err
		}
		switch {
		case a.status/100 == 2:
			return nil
		case a.status == 413 && !short:
			l.log.Warn("runtimeapi: the Runtime API refused the error as too large; sending it shortened",
				"requestId", l.inv.id, "bytes", len(body))
			continue
		case a.status >= 500:
			return fatalf("runtimeapi: the Runtime API answered the error with status %d: %s", a.status, a.body)
		}
		l.logRefusal("error", a)
		return nil
	}
}

// validRequestID reports whether id can go in a request path: Lambda's are
// UUIDs; letters, digits and -._: are taken, up to 256 bytes, but not a
// dot segment.
func validRequestID(id string) bool {
	if id == "" || len(id) > 256 || id == "." || id == ".." {
		return false // ".." would climb the path
	}
	for i := range len(id) {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_', b == '.', b == ':':
		default:
			return false
		}
	}
	return true
}

// headerSafe keeps the printable ASCII of s, so that it can be a header
// value.
func headerSafe(s string) string {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] >= 0x7f {
			b := make([]byte, 0, len(s))
			for j := range len(s) {
				if s[j] >= 0x20 && s[j] < 0x7f {
					b = append(b, s[j])
				}
			}
			return string(b)
		}
	}
	return s
}
