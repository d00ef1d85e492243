package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Handler handles one invocation: it gets the invocation's payload and
// returns the response payload or an error. It has the method of
// aws-lambda-go's lambda.Handler, so anything that runs under lambda.Start
// as a Handler (a funcify app among them) runs here too.
//
// With several loops (AWS_LAMBDA_MAX_CONCURRENCY) Invoke is called
// concurrently. The payload is the handler's to keep; the loop does not
// reuse it.
type Handler interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Config configures [Run]. The zero value runs one loop against the Runtime
// API that AWS_LAMBDA_RUNTIME_API names, with no shutdown hooks.
type Config struct {
	// Address is the Runtime API's host:port. Empty means the value of
	// AWS_LAMBDA_RUNTIME_API, which Lambda sets.
	Address string

	// Concurrency is how many invocations run at once, each on a loop of
	// its own with its own connection. Zero means what
	// AWS_LAMBDA_MAX_CONCURRENCY says (Lambda Managed Instances set it),
	// else 1.
	Concurrency int

	// Logger receives the loop's own lines: a connection that broke, an
	// answer the Runtime API refused, why the loop stopped. Nil means
	// slog.Default(). The loop never logs payloads.
	Logger *slog.Logger

	// OnShutdown are run, in order, when Lambda shuts the execution
	// environment down (SIGTERM), with a context that ends when Lambda's
	// time for that runs out ([ShutdownTimeout] after the signal), as
	// [RunHooks] runs them (a hook that overruns is logged and the rest
	// skipped); then Run returns nil. Lambda sends SIGTERM only to a function that
	// registered an extension, so when OnShutdown is not empty Run
	// registers an internal extension that asks for no events, as
	// aws-lambda-go's lambda.WithEnableSIGTERM does. The registration goes
	// out in the same write as the first request for an invocation, so it
	// costs the cold start no round trip; it still costs the Extensions
	// API a request and an idle connection, which is why it is done only
	// when a hook is set.
	OnShutdown []func(ctx context.Context)
}

// ShutdownTimeout is how long the [Config.OnShutdown] hooks have: Lambda
// gives a function with internal extensions 500 ms between SIGTERM and
// SIGKILL, and the rest is kept for the process to exit.
const ShutdownTimeout = 450 * time.Millisecond

// MaxResponseSize is the largest response Lambda takes from a function
// invoked synchronously (its error for a larger one names this figure). A
// larger response is reported as a function error of type
// Function.ResponseSizeTooLarge instead of being sent.
const MaxResponseSize = 6291556

// Run answers invocations of h from the Lambda Runtime API (2018-06-01)
// until ctx is done, Lambda shuts the environment down (with
// [Config.OnShutdown] hooks set), or a fatal error: the Runtime API answers
// next with an error status or a 500 to a post (it then wants the process
// to exit), it stays unreachable for five attempts in a row, or a panic
// escapes h (it is reported as the invocation's error first). Run returns
// nil after ctx is done or a shutdown, the error otherwise; a caller in
// Lambda exits then, non-zero after an error, so that Lambda starts a new
// environment.
//
// When ctx is done or one loop fails, every loop finishes the invocation it
// is running, posts its result, and stops: it asks for no other, unless
// its request for the next one had already gone out with the post it was
// waiting on (the loop pipelines it), which it then leaves unread.
func Run(ctx context.Context, h Handler, cfg Config) error {
	if h == nil {
		return errors.New("runtimeapi: nil handler")
	}
	addr := cfg.Address
	if addr == "" {
		addr = os.Getenv("AWS_LAMBDA_RUNTIME_API")
	}
	if addr == "" {
		return errors.New("runtimeapi: no Runtime API address: AWS_LAMBDA_RUNTIME_API is not set")
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = lambdacontext.MaxConcurrency()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	cwd, _ := os.Getwd()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	loops := make([]*loop, n)
	for i := range loops {
		loops[i] = &loop{
			h:       h,
			c:       newClient(addr),
			log:     log,
			setEnv:  n == 1,
			cwd:     cwd,
			nextURL: "/2018-06-01/runtime/invocation/next",
		}
	}
	if len(cfg.OnShutdown) > 0 {
		w := watchShutdown(addr, log, cfg.OnShutdown, func() { cancel(errShutdown) })
		defer w.stop()
		// The first loop's request for an invocation goes out with the
		// registration, which is answered first; the other loops start
		// once it has been, so that none asks before it is in.
		w.register(ctx, loops[0].c, loops[0].nextRequest(true))
	}
	// When ctx ends, interrupt the loops waiting for an invocation; the
	// others stop after posting the one they run.
	stopAfter := context.AfterFunc(ctx, func() {
		for _, l := range loops {
			l.stop()
		}
	})
	defer stopAfter()

	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(func() {
			var err error = errGoexit // unless run returns: see loop.invoke
			defer func() {
				if err != nil {
					cancel(err)
				}
			}()
			err = l.run(ctx)
		})
	}
	wg.Wait()
	err := context.Cause(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, errShutdown) {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// errGoexit ends Run when a handler ended its loop's goroutine with
// runtime.Goexit.
var errGoexit = &fatalError{errors.New("runtimeapi: a handler called runtime.Goexit, which ended its loop")}

// errShutdown ends Run after the shutdown hooks ran.
var errShutdown = errors.New("runtimeapi: shut down")

// Start runs h with [Run] in a Lambda execution environment and does not
// return: it exits the process with status 0 after a shutdown, and with
// status 1, after logging why, when Run fails. It is the loop on its own,
// for a handler that is not a funcify app; an app's Start uses it.
func Start(h Handler, cfg Config) {
	err := Run(context.Background(), h, cfg)
	if err != nil {
		log := cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Error("runtimeapi: the runtime loop stopped; exiting", "error", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// fatalError is an error after which the process must exit.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatalf(format string, args ...any) error {
	return &fatalError{fmt.Errorf(format, args...)}
}
