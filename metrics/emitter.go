package metrics

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/internal/live"
	"github.com/funcify/funcify/observe"
)

// Environment variables that [New] reads when no option gives their value.
const (
	// NamespaceEnv names the metrics' CloudWatch namespace.
	NamespaceEnv = "POWERTOOLS_METRICS_NAMESPACE"
	// ServiceEnv names the service, the value of the service dimension.
	ServiceEnv = "POWERTOOLS_SERVICE_NAME"
)

// Dimension names that the [Emitter] writes itself.
const (
	// ServiceDimension is the dimension every metric has: the service's
	// name (see [WithService]).
	ServiceDimension = "service"
	// FunctionNameDimension is the cold-start metric's second dimension:
	// the Lambda function's name.
	FunctionNameDimension = "function_name"
)

// ColdStartMetric is the name of the metric that [WithColdStart] adds.
const ColdStartMetric = "ColdStart"

// DefaultService is the service dimension's value when neither
// [WithService] nor POWERTOOLS_SERVICE_NAME gives one.
const DefaultService = "service_undefined"

// Option configures an [Emitter].
type Option func(*config)

type config struct {
	namespace, service string
	dims               []dimension
	w                  io.Writer
	coldStart          bool
}

// WithNamespace sets the CloudWatch namespace of the metrics, over
// POWERTOOLS_METRICS_NAMESPACE. An empty ns leaves the environment's.
func WithNamespace(ns string) Option {
	return func(c *config) { c.namespace = ns }
}

// WithService sets the value of the service dimension, over
// POWERTOOLS_SERVICE_NAME. An empty name leaves the environment's.
func WithService(name string) Option {
	return func(c *config) { c.service = name }
}

// WithDimension adds a dimension that every metric of every invocation
// has, besides service. [New] refuses a name given twice, "service", and
// more than 30 dimensions in all.
func WithDimension(name, value string) Option {
	return func(c *config) { c.dims = append(c.dims, dimension{name, value}) }
}

// WithWriter sets where the documents go: os.Stdout by default, where
// Lambda sends them to CloudWatch Logs, which extracts the metrics. Writes
// are serialised, one per invocation; w need not be safe for concurrent
// use.
func WithWriter(w io.Writer) Option {
	return func(c *config) { c.w = w }
}

// WithColdStart makes the first invocation of the process (its
// observe.Invocation's ColdStart) write a ColdStart metric (Count, 1) as a
// document of its own, with the dimensions service and function_name (from
// lambdacontext.FunctionName, or AWS_LAMBDA_FUNCTION_NAME; left out when
// neither is set), in the same write as the invocation's other metrics.
func WithColdStart() Option {
	return func(c *config) { c.coldStart = true }
}

// Emitter is an [observe.Observer] that collects each invocation's metrics
// and writes them as CloudWatch EMF documents when the invocation ends.
// Give it to app.WithObserver; [Add] and its kin then record into the
// invocation's context. An Emitter is safe for concurrent use: each
// invocation has its own set of metrics. Make one with [New]: the zero
// Emitter is not usable. With two Emitters among an app's observers, Add
// and its kin record into the one given last.
type Emitter struct {
	namespace string
	dims      []dimension // the default dimensions, service first
	w         io.Writer

	// docMiddle follows a document's timestamp, up to its first
	// dimension's name: the namespace and the start of the dimension set.
	docMiddle []byte
	// coldTail follows the cold-start document's timestamp; nil without
	// WithColdStart.
	coldTail []byte

	pool sync.Pool // of *set

	mu   sync.Mutex      // guards live
	live live.List[*set] // the sets of invocations begun and not ended

	wmu sync.Mutex // serialises writes to w
}

var _ observe.Observer = (*Emitter)(nil)

// New returns an Emitter configured by opts and the environment. It
// returns an error (matching [ErrInvalid]) when there is no namespace, or
// when the namespace, the service or a dimension is one CloudWatch would
// refuse.
func New(opts ...Option) (*Emitter, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.namespace == "" {
		c.namespace = os.Getenv(NamespaceEnv)
	}
	if c.service == "" {
		c.service = os.Getenv(ServiceEnv)
	}
	if c.service == "" {
		c.service = DefaultService
	}
	if err := checkNamespace(c.namespace); err != nil {
		return nil, err
	}
	dims := append([]dimension{{ServiceDimension, c.service}}, c.dims...)
	if len(dims) > maxDimensions {
		return nil, invalid("%d dimensions with service; a metric has at most %d", len(dims), maxDimensions)
	}
	for i, d := range dims {
		if err := checkDimension(d.name, d.value); err != nil {
			return nil, err
		}
		for _, d2 := range dims[:i] {
			if d2.name == d.name {
				if d.name == ServiceDimension {
					return nil, invalid("dimension %q given to WithDimension: use WithService", d.name)
				}
				return nil, invalid("dimension %s given twice", short(d.name))
			}
		}
	}
	w := c.w
	if w == nil {
		w = os.Stdout
	}
	e := &Emitter{namespace: c.namespace, dims: dims, w: w}
	e.docMiddle = append(e.docMiddle, `,"CloudWatchMetrics":[{"Namespace":`...)
	e.docMiddle = appendString(e.docMiddle, e.namespace)
	e.docMiddle = append(e.docMiddle, `,"Dimensions":[[`...)
	if c.coldStart {
		e.coldTail = e.appendColdTail(nil, functionName())
	}
	e.pool.New = func() any {
		s := &set{e: e}
		s.link.Value = s
		return s
	}
	return e, nil
}

// functionName is the Lambda function's name, or "" when it is not known.
func functionName() string {
	name := lambdacontext.FunctionName
	if name == "" {
		name = os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	if checkASCII("", name, maxDimValueLen) != nil {
		return ""
	}
	return name
}

// ctxKey is the context key of an invocation's metrics.
type ctxKey struct{}

// setCtx is an invocation's context as Begin returns it: it carries the
// invocation's set until End takes it back. It is allocated per invocation
// (as context.WithValue would be), so a context that outlives its
// invocation keeps pointing at a setCtx whose set is gone, never at the
// pooled set that another invocation now uses.
type setCtx struct {
	context.Context
	e *Emitter
	s atomic.Pointer[set] // nil once the invocation ended
}

func (c *setCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// fromContext returns e's setCtx in ctx, or nil.
func (e *Emitter) fromContext(ctx context.Context) *setCtx {
	c, _ := ctx.Value(ctxKey{}).(*setCtx)
	for c != nil && c.e != e {
		c, _ = c.Context.Value(ctxKey{}).(*setCtx)
	}
	return c
}

// Begin gives the invocation a set of metrics, from a pool, in the context
// it returns. Its EMF documents will carry inv.Start as their timestamp.
func (e *Emitter) Begin(ctx context.Context, inv *observe.Invocation) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	s := e.pool.Get().(*set)
	c := &setCtx{Context: ctx, e: e}
	// Under s.mu: a goroutine of the set's last invocation may still be
	// looking at whose it is, in lock.
	s.mu.Lock()
	s.owner = c
	if inv != nil {
		s.start = inv.Start
		s.cold = e.coldTail != nil && inv.ColdStart
	}
	if s.start.IsZero() {
		s.start = time.Now()
	}
	s.mu.Unlock()
	c.s.Store(s)
	e.mu.Lock()
	e.live.Push(&s.link)
	e.mu.Unlock()
	return c
}

// End writes the invocation's metrics, in one write of as many documents
// as EMF's limits need, and nothing when none was added (and no cold-start
// metric is due). A metric added after End, through a context that
// outlived the invocation, is refused with [ErrNoMetrics].
func (e *Emitter) End(ctx context.Context, inv *observe.Invocation) {
	if ctx == nil {
		return
	}
	c := e.fromContext(ctx)
	if c == nil {
		return
	}
	s := c.s.Swap(nil)
	if s == nil {
		return // ended already
	}
	e.mu.Lock()
	e.live.Remove(&s.link)
	e.mu.Unlock()
	s.mu.Lock()
	s.owner = nil
	s.buf = e.appendDocs(s.buf[:0], s)
	keep := s.reset()
	s.mu.Unlock()
	if len(s.buf) > 0 {
		e.write(s.buf)
	}
	if keep {
		s.buf = s.buf[:0]
		e.pool.Put(s)
	}
}

// Shutdown writes the metrics of the invocations that began and have not
// ended: in Lambda, one cut short by its timeout, after which Lambda shuts
// the execution environment down and the invocation's End never runs.
// What it writes is taken out of those invocations' sets, so an End that
// still comes writes only what was added since. Every invocation that
// ended wrote its own metrics, so with none running Shutdown writes
// nothing. If ctx is done already, it writes nothing and leaves the
// metrics where they are.
//
// Package app calls Shutdown on SIGTERM when the Emitter is one of its
// observers.
func (e *Emitter) Shutdown(ctx context.Context) {
	if ctx != nil && ctx.Err() != nil {
		return
	}
	var buf []byte
	e.mu.Lock()
	e.live.Each(func(s *set) {
		s.mu.Lock()
		if s.owner != nil {
			buf = e.appendDocs(buf, s)
			s.drain()
		}
		s.mu.Unlock()
	})
	e.mu.Unlock()
	if len(buf) > 0 {
		e.write(buf)
	}
}

// write writes buf to e's writer. An error is dropped: the writer is
// standard output, and the invocation has its answer already.
func (e *Emitter) write(buf []byte) {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.w.Write(buf)
}
