package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/internal/envelope"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/runtimeapi"
)

// Start runs the app; it is the one call main makes after registering
// routes, and it does not return.
//
// In Lambda (AWS_LAMBDA_RUNTIME_API is set) it runs funcify's own runtime
// loop (package runtimeapi) with the app as the handler, so each event is
// decoded once, by funcify: one kept-alive connection to the Runtime API
// per loop, AWS_LAMBDA_MAX_CONCURRENCY loops (default 1), the
// [App.OnShutdown] hooks on SIGTERM. [WithAWSLambdaGo], or the environment
// variable FUNCIFY_RUNTIME=aws-lambda-go, runs aws-lambda-go's lambda.Start
// instead, for anyone who meets a difference between the two;
// FUNCIFY_RUNTIME=funcify runs funcify's loop even with WithAWSLambdaGo, so
// that an operator can switch either way without a rebuild, and any other
// value fails the init. The process exits
// 1 when the loop fails (the Runtime API is unreachable, or a panic escaped
// the app), so that Lambda starts a new execution environment.
//
// Elsewhere it reads its own command-line flags:
//
//	-addr host:port   serve the app on local HTTP (default 127.0.0.1:8080)
//	-event FILE       invoke the app once with the event in FILE ("-" for
//	                  standard input), print the response on standard
//	                  output and exit; a function error exits 1
//	-timeout D        the invocation deadline (default 30s)
//
// Each local HTTP request is served by [App.ServeHTTP] as it would be
// behind an HTTP API: the path decoded once (API Gateway hands "a%2Fb" over
// as "a/b"), RemoteAddr "source-ip:0", the x-forwarded-for,
// x-forwarded-proto and x-forwarded-port headers API Gateway adds (naming
// the local server's scheme and port), a Lambda context with a fresh
// request id and the -timeout deadline, and in the context the HTTP API 2.0
// event API Gateway would send (event.FromContext), whose domain is a fixed
// local one whatever Host the client named; the client's Host sets r.Host.
// The [App.OnShutdown] hooks run when the local server stops (on Ctrl-C or
// SIGTERM) and after an -event invocation.
func (a *App) Start() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		a.startLambda()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := a.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runtimeEnv names the environment variable that picks the runtime loop.
const runtimeEnv = "FUNCIFY_RUNTIME"

// startLambda runs the app in Lambda on the runtime loop the options and
// FUNCIFY_RUNTIME pick.
func (a *App) startLambda() {
	awsLambdaGo := a.opts.awsLambdaGo
	switch v := os.Getenv(runtimeEnv); v {
	case "":
	case "funcify":
		awsLambdaGo = false
	case "aws-lambda-go":
		awsLambdaGo = true
	default:
		FailInit(fmt.Errorf("app: %s=%q: want funcify or aws-lambda-go", runtimeEnv, v))
	}
	if awsLambdaGo {
		var opts []lambda.Option
		if len(a.shutdown) > 0 {
			opts = append(opts, lambda.WithEnableSIGTERM(func() { a.runShutdown() }))
		}
		lambda.StartWithOptions(a, opts...)
		return
	}
	runtimeapi.Start(a, runtimeapi.Config{Logger: a.opts.logger, OnShutdown: a.shutdown})
}

// WithAWSLambdaGo makes [App.Start] run the app in Lambda on aws-lambda-go's
// lambda.Start instead of funcify's own runtime loop, as the environment
// variable FUNCIFY_RUNTIME=aws-lambda-go does (and FUNCIFY_RUNTIME=funcify
// undoes): an escape hatch for anyone who meets a difference between the
// two (please report it). The app and its answers are the same; the loop
// costs more CPU per invocation, and aws-lambda-go also prints each
// function error to standard error as a plain-text line of its own.
func WithAWSLambdaGo() Option {
	return func(o *options) { o.awsLambdaGo = true }
}

// OnShutdown adds f to the hooks that run when the function's process is
// shut down: in Lambda on SIGTERM, which Lambda sends before it ends an
// execution environment (funcify registers an internal extension for that,
// only when a hook is set, since it costs a request at init); locally when
// the server stops or after an -event invocation. Hooks run in the order
// they were added, with a context that ends when the time Lambda gives runs
// out (runtimeapi.ShutdownTimeout, under 500 ms): flush buffered metrics or
// spans there, briefly. A hook that panics is logged and the next one runs;
// one that overruns the time is logged and the rest are skipped, so that
// the process still exits in time.
// Call OnShutdown before [App.Start], not concurrently with it.
func (a *App) OnShutdown(f func(ctx context.Context)) {
	if f == nil {
		panic("app: OnShutdown with a nil hook")
	}
	a.shutdown = append(a.shutdown, f)
}

// runShutdown runs the shutdown hooks, as Lambda's SIGTERM would, for
// runtimeapi.ShutdownTimeout at most.
func (a *App) runShutdown() {
	runtimeapi.RunHooks(a.opts.logger, a.shutdown)
}

// FailInit ends a function that cannot start, for main to call when its
// setup fails (a missing setting, a parameter it cannot load): in Lambda it
// reports err to the Runtime API as the init error (POST
// /runtime/init/error), so that the invocation waiting for the function
// fails with err's message and Lambda starts a new execution environment;
// elsewhere it prints err on standard error. Then it exits with status 1.
// err's message reaches whoever invoked the function: keep secrets out of
// it.
func FailInit(err error) {
	if err == nil {
		err = errors.New("app: FailInit with a nil error")
	}
	fmt.Fprintf(os.Stderr, "funcify: the function cannot start: %v\n", err)
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if rerr := runtimeapi.ReportInitError(ctx, "", err); rerr != nil {
			fmt.Fprintf(os.Stderr, "funcify: %v\n", rerr)
		}
		cancel()
	}
	os.Exit(1)
}

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

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
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

// localDomainName is the requestContext.domainName of the events the local
// server sends: an HTTP API's, whatever Host the client named.
const localDomainName = "local.execute-api.localhost"

// eventFromRequest builds the HTTP API 2.0 event API Gateway would send for
// r. Like API Gateway, it hands over the path percent-decoded (r.URL.Path,
// so a client's "a%2Fb" arrives as "a/b") and the query string as sent, and
// adds the x-forwarded-for, x-forwarded-proto and x-forwarded-port headers.
// The client's Host goes only into the host header, which sets the
// handler's r.Host: as requestContext.domainName, a Host such as a function
// URL's domain would make the event pass for a function URL's, whose path is
// encoded, and the decoded path would be decoded again.
func eventFromRequest(r *http.Request, body []byte) *events.APIGatewayV2HTTPRequest {
	now := time.Now()
	ev := &events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.URL.Path,
		RawQueryString: r.URL.RawQuery,
		Headers:        make(map[string]string, len(r.Header)+1),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:    "000000000000",
			APIID:        "local",
			DomainName:   localDomainName,
			DomainPrefix: "local",
			RequestID:    newRequestID(),
			RouteKey:     "$default",
			Stage:        "$default",
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  remoteIP(r.RemoteAddr),
				UserAgent: r.UserAgent(),
			},
		},
	}
	for k, vs := range r.Header {
		if k == "Cookie" {
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev.Headers["host"] = r.Host
	// API Gateway adds where the request came from, appending the client's
	// address to an X-Forwarded-For the client sent, and says itself how it
	// was reached, whatever the client claimed.
	ip := remoteIP(r.RemoteAddr)
	if xff := ev.Headers["x-forwarded-for"]; xff != "" {
		ip = xff + ", " + ip
	}
	ev.Headers["x-forwarded-for"] = ip
	ev.Headers["x-forwarded-proto"], ev.Headers["x-forwarded-port"] = localProtoPort(r)
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) && !bytes.ContainsRune(body, 0) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// localProtoPort returns the scheme and the port r reached the local server
// on, as API Gateway's x-forwarded-proto and x-forwarded-port say them.
func localProtoPort(r *http.Request) (proto, port string) {
	proto, port = "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(addr.String()); err == nil {
			return proto, p
		}
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil && p != "" {
		return proto, p
	}
	return proto, port
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
