package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
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
// Elsewhere it runs [App.Main] with the process's arguments, which reads
// its own command-line flags:
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
//
// A binary built with the build tag funcify.lambdaonly (go build -tags
// lambda.norpc,funcify.lambdaonly) leaves the local server and -event out,
// about 0.4 MB of it net/http's server: it runs only in Lambda (or under the
// Lambda Runtime Interface Emulator), and elsewhere says so and exits 2.
// Build the bootstrap you deploy with it, and run locally without it.
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
