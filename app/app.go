package app

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/funcify/funcify/cors"
	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/logging"
)

// App is a Lambda function: a router for HTTP events and keyed routes for
// other sources, behind a middleware pipeline. Build it in main with [New],
// register routes, then call [App.Start].
//
// Routes and middleware must be registered before the first invocation;
// after that an App is safe for concurrent use by any number of invocations.
type App struct {
	mux        *http.ServeMux
	middleware []func(http.Handler) http.Handler
	routes     map[routeKey]eventHandler // non-HTTP routes; see route.go
	opts       options

	once    sync.Once           // builds handler and respond on first use
	handler http.Handler        // the whole HTTP pipeline
	respond *httperror.Settings // what error answers need, put in each request's context

	shutdown []func(context.Context) // OnShutdown's hooks, in order
}

// Guard decides whether an invocation may go on. A non-nil error stops it:
// an HTTP caller gets the error's status (see [StatusOf]) in the error
// envelope; any other invocation fails with the error.
type Guard func(ctx context.Context) error

// PolicyInformation is the policy-information hook: it learns who the caller
// is (for example from a bearer token) and returns the context the rest of
// the pipeline runs with. A non-nil error answers the caller at once, with
// the error's status.
type PolicyInformation func(r *http.Request) (context.Context, error)

// Parser checks or transforms a request before it reaches its route. A
// non-nil error answers the caller at once; an error without a status of its
// own answers 400.
type Parser func(r *http.Request) (*http.Request, error)

// Option configures an [App].
type Option func(*options)

type options struct {
	logger  *slog.Logger
	guard   Guard
	pip     PolicyInformation
	parser  Parser
	problem bool
	base    basePathOptions // see basepath.go
	cors    *cors.Policy

	// routeKeys holds WithRouteKey's replacements of kinds' default route
	// key functions (see route.go).
	routeKeys     map[event.Kind]func(name string) string
	defaultLogger bool // logger is the default one, on standard output
	awsLambdaGo   bool // run on aws-lambda-go's lambda.Start (see start.go)
	observers     []Observer
}

// WithLogger sets the logger the app logs with. The default is
// logging.New(os.Stdout): JSON lines with the invocation's request id and
// trace ids, at the level AWS_LAMBDA_LOG_LEVEL or LOG_LEVEL names. A logger
// whose handler is not a *logging.Handler is wrapped in one, so that every
// line logged with an invocation's ctx carries the invocation's fields.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithGuard sets a guard that runs on every invocation, after logging starts
// and before the policy-information hook: for an HTTP request after the
// base path is stripped, for any other event once its route is found and
// just before its handler.
func WithGuard(g Guard) Option {
	return func(o *options) { o.guard = g }
}

// WithPolicyInformation sets the policy-information hook, which runs on every
// HTTP request after the guard and before the parser. It runs only there:
// an event of another source (S3) has no caller identity to learn, so its
// pipeline goes from the guard to the handler.
func WithPolicyInformation(p PolicyInformation) Option {
	return func(o *options) { o.pip = p }
}

// WithParser sets a parser that runs on every HTTP request after the
// policy-information hook and before the route.
func WithParser(p Parser) Option {
	return func(o *options) { o.parser = p }
}

// WithProblemDetails makes error responses RFC 9457 problem details
// (application/problem+json) instead of the default envelope.
func WithProblemDetails() Option {
	return func(o *options) { o.problem = true }
}

// WithCORS answers browsers' cross-origin requests by p (see package
// cors): preflights (OPTIONS with Origin and Access-Control-Request-Method)
// are answered with 204 before the guard, the policy-information hook, the
// parser and the router run, so a known path never answers a preflight
// 405 and a route behind authentication never 401; every other answer,
// errors, route misses and the 500 of a panic included, carries the CORS
// headers p gives its origin, so that a browser lets the page read it.
//
//	a := app.New(app.WithCORS(cors.MustNew(cors.Options{
//		AllowedOrigins: []string{"https://app.example.com", "https://*.example.com"},
//		AllowedHeaders: []string{"Authorization", "Content-Type"},
//	})))
func WithCORS(p *cors.Policy) Option {
	return func(o *options) { o.cors = p }
}

// New returns an App with the given options.
func New(opts ...Option) *App {
	a := &App{mux: http.NewServeMux(), routes: make(map[routeKey]eventHandler)}
	for _, o := range opts {
		o(&a.opts)
	}
	switch l := a.opts.logger; {
	case l == nil:
		a.opts.logger = defaultLogger()
		a.opts.defaultLogger = true
	default:
		if _, ok := l.Handler().(*logging.Handler); !ok {
			a.opts.logger = slog.New(logging.NewHandler(l.Handler()))
		}
	}
	for i := len(a.opts.observers) - 1; i >= 0; i-- { // in End's order
		if s, ok := a.opts.observers[i].(shutdowner); ok {
			a.OnShutdown(s.Shutdown)
		}
	}
	return a
}

// Handle registers h for HTTP requests that match pattern. Patterns follow
// [http.ServeMux]: an optional method, a host-less path, {name} and
// {rest...} wildcards read with r.PathValue, and the most specific pattern
// wins. Like ServeMux, it panics on an invalid or conflicting pattern.
func (a *App) Handle(pattern string, h http.Handler) {
	a.mux.Handle(pattern, h)
}

// HandleFunc registers the handler function h for pattern; see [App.Handle].
func (a *App) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	a.mux.HandleFunc(pattern, h)
}

// Use appends middleware that wraps every HTTP route, inside the pipeline's
// own steps (recover, guard, policy information, parser): the first
// middleware given is the outermost. Error envelopes, those of routes that
// do not match included, are written through the middleware's writer; a
// compression middleware must set Content-Encoding when it starts encoding,
// as the usual ones do (see [WriteError]).
func (a *App) Use(mw ...func(http.Handler) http.Handler) {
	a.middleware = append(a.middleware, mw...)
}

// httpHandler returns the HTTP pipeline, building it on first use.
func (a *App) httpHandler() http.Handler {
	a.once.Do(func() {
		a.respond = &httperror.Settings{ProblemDetails: a.opts.problem, Logger: a.opts.logger, Step: "handler"}
		var h http.Handler = routeHandler{mux: a.mux, observed: len(a.opts.observers) > 0}
		for i := len(a.middleware) - 1; i >= 0; i-- {
			h = a.middleware[i](h)
		}
		if a.opts.parser != nil {
			h = parse(a.opts.parser, h)
		}
		if a.opts.pip != nil {
			h = policyInformation(a.opts.pip, h)
		}
		if a.opts.guard != nil {
			h = guard(a.opts.guard, h)
		}
		h = a.opts.base.handler(h)
		if a.opts.cors != nil {
			h = a.opts.cors.Handler(h)
		}
		a.handler = recoverer(h, a.opts.cors)
	})
	return a.handler
}
