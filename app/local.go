//go:build !funcify.lambdaonly

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/internal/envelope"
	"github.com/funcify/funcify/logging"
)

// Main runs the app outside Lambda with the given command-line arguments, as
// [App.Start] does, and returns the process's exit code. It serves until ctx
// is done. An app with the default logger logs to stderr here, so that
// stdout carries only the response. Call Main before the app's first
// invocation, not concurrently with one.
func (a *App) Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("funcify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "serve the app on local HTTP at this `address`")
	eventFile := fs.String("event", "", "invoke the app once with the event in this `file` (- for standard input) and exit")
	timeout := fs.Duration("timeout", 30*time.Second, "the invocation deadline")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if a.opts.defaultLogger {
		// Standard output carries the response: log to standard error.
		a.opts.logger = logging.New(stderr)
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "funcify: -timeout must be positive")
		return 2
	}
	if *eventFile != "" {
		defer a.runShutdown()
		return a.invokeFile(ctx, *eventFile, *timeout, stdout, stderr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "funcify: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "funcify: serving on http://%s\n", ln.Addr())
	err = a.serve(ctx, ln, *timeout)
	a.runShutdown()
	if err != nil {
		fmt.Fprintf(stderr, "funcify: %v\n", err)
		return 1
	}
	return 0
}

// invokeFile invokes the app once with the event in name.
func (a *App) invokeFile(ctx context.Context, name string, timeout time.Duration, stdout, stderr io.Writer) int {
	var payload []byte
	var err error
	if name == "-" {
		payload, err = io.ReadAll(io.LimitReader(os.Stdin, maxPayload+1))
	} else {
		payload, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "funcify: reading the event: %v\n", err)
		return 1
	}
	ctx, cancel := localContext(ctx, timeout)
	defer cancel()
	out, err := a.Invoke(ctx, payload)
	if err != nil {
		b, _ := json.Marshal(functionError(err))
		fmt.Fprintf(stdout, "%s\n", b)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}

// functionError is the body Lambda gives a function error.
func functionError(err error) map[string]string {
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return map[string]string{"errorMessage": err.Error(), "errorType": t.Name()}
}

// maxPayload is Lambda's limit on a synchronous invocation's payload.
const maxPayload = 6 << 20

// localContext gives a local invocation what the Lambda runtime would: a
// deadline and a Lambda context with a fresh request id.
func localContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	lc := &lambdacontext.LambdaContext{
		AwsRequestID:       newRequestID(),
		InvokedFunctionArn: "arn:aws:lambda:local:000000000000:function:" + lambdacontext.FunctionName,
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return lambdacontext.NewContext(ctx, lc), cancel
}

// serve serves the app on ln until ctx is done.
func (a *App) serve(ctx context.Context, ln net.Listener, timeout time.Duration) error {
	srv := &http.Server{
		Handler:           &localHandler{app: a, timeout: timeout},
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

// localHandler serves each local HTTP request with [App.ServeHTTP], after
// making it what the app sees behind an HTTP API: the path decoded once
// (so that "a%2Fb" is "a/b", as API Gateway hands it over), RemoteAddr
// "source-ip:0", the x-forwarded-* headers API Gateway adds, a Lambda
// context with a fresh request id and the -timeout deadline, and the HTTP
// API 2.0 event API Gateway would send in the context (event.FromContext),
// so that a handler reading the event's fields runs locally too.
type localHandler struct {
	app     *App
	timeout time.Duration
}

func (h *localHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	if err != nil {
		// API Gateway refuses a payload over Lambda's limit; any other
		// failure to read the body is the client's broken request.
		a := envelope.Answer{Status: http.StatusBadRequest, Message: "cannot read the request body", Step: "request"}
		if errors.As(err, new(*http.MaxBytesError)) {
			a = envelope.Answer{Status: http.StatusRequestEntityTooLarge, Message: "request body too large", Step: "request"}
		}
		envelope.Write(w, a, h.app.opts.problem)
		return
	}
	ev := eventFromRequest(r, body)
	payload, err := json.Marshal(ev)
	if err != nil {
		http.Error(w, "cannot encode the event", http.StatusInternalServerError)
		return
	}
	// Decode the event as Lambda would, so the context holds what a
	// handler finds there in Lambda.
	decoded, err := event.Decode(payload)
	if err != nil {
		http.Error(w, "cannot decode the event", http.StatusInternalServerError)
		return
	}
	ctx, cancel := localContext(r.Context(), h.timeout)
	defer cancel()
	r2 := r.Clone(event.NewContext(ctx, decoded))
	r2.URL.RawPath = "" // API Gateway hands the path over decoded
	r2.RemoteAddr = net.JoinHostPort(remoteIP(r.RemoteAddr), "0")
	for k, v := range ev.Headers {
		if strings.HasPrefix(k, "x-forwarded-") {
			r2.Header.Set(k, v)
		}
	}
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	h.app.ServeHTTP(w, r2)
}
