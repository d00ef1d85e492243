package logging

import (
	"context"
	"log/slog"
	"slices"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/trace"
)

// Keys of the attributes that [Handler] adds.
const (
	// RequestIDKey is the key of the Lambda request ID.
	RequestIDKey = "aws_request_id"
	// FunctionNameKey is the key of the function name.
	FunctionNameKey = "function_name"
	// ColdStartKey is the key of the value given to [WithColdStart].
	ColdStartKey = "cold_start"
	// TraceIDKey is the key of the X-Ray trace ID of the [trace.Span].
	TraceIDKey = "trace_id"
	// SpanIDKey is the key of the span ID of the [trace.Span].
	SpanIDKey = "span_id"
)

// maxAdded is the number of attributes Handler adds at most.
const maxAdded = 5

// Handler is a [slog.Handler] that adds the attributes of the invocation
// found in a record's context, then passes the record to another handler.
//
// The added attributes, with the keys [RequestIDKey], [FunctionNameKey],
// [ColdStartKey], [TraceIDKey] and [SpanIDKey], are:
//
//   - aws_request_id: the AwsRequestID of the [lambdacontext.LambdaContext]
//     in the context, if there is one and the ID is not empty;
//   - function_name: [lambdacontext.FunctionName] as it was when the
//     Handler was made, if it is not empty and the context has a
//     LambdaContext;
//   - cold_start: the value given to [WithColdStart], if it was called;
//   - trace_id and span_id: the TraceID and SpanID of the [trace.Span] in
//     the context, each if it is not empty.
//
// The attributes come after those of the record, at the top level: after
// [Handler.WithGroup], Handler keeps the groups and the attributes added
// within them itself and nests the record's attributes in them in Handle,
// rather than opening the group on the wrapped handler. This costs a few
// allocations per record for loggers that have a group; attributes added
// before any group are passed to the wrapped handler's WithAttrs as usual.
//
// A Handler is safe for concurrent use if the handler it wraps is.
type Handler struct {
	next         slog.Handler
	functionName string
	// goas holds, in order, the groups and attributes added from the first
	// WithGroup on. It is never appended to in place, as Handlers derived
	// from one another share it.
	goas []groupOrAttrs

	// buf is the Buffer of a Handler made by [Buffer.Logger], nil
	// otherwise; hold is then next's twin (made by the same function, with
	// the same attributes added) that formats the lines buf holds.
	buf  *Buffer
	hold slog.Handler
}

// groupOrAttrs is a group opened by WithGroup or attributes added by
// WithAttrs.
type groupOrAttrs struct {
	group string      // the group name, or empty for attrs
	attrs []slog.Attr // the attributes, when group is empty
}

// NewHandler returns a Handler that adds invocation attributes to the records
// it passes to next. It panics if next is nil.
func NewHandler(next slog.Handler) *Handler {
	return newHandler(next, lambdacontext.FunctionName)
}

func newHandler(next slog.Handler, functionName string) *Handler {
	if next == nil {
		panic("logging: NewHandler called with a nil handler")
	}
	return &Handler{next: next, functionName: functionName}
}

// Enabled reports whether the wrapped handler handles records at level. A
// Handler made by [Buffer.Logger] also handles the levels its Buffer holds
// or samples, for a context of an invocation the Buffer observes.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	if h.next.Enabled(ctx, level) {
		return true
	}
	return h.buf != nil && h.buf.enabled(ctx, level)
}

// Handle adds the invocation attributes found in ctx to r and passes it to
// the wrapped handler. A Handler made by [Buffer.Logger] may hold r instead
// (see [Buffer]).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if h.buf != nil {
		if inv := h.buf.invocation(ctx); inv != nil {
			return inv.handle(ctx, h, r)
		}
	}
	return h.handle(ctx, h.next, r)
}

// handle adds the invocation attributes found in ctx to r and passes it to
// next, h.next or h.hold.
func (h *Handler) handle(ctx context.Context, next slog.Handler, r slog.Record) error {
	var buf [maxAdded]slog.Attr
	added := h.invocationAttrs(ctx, buf[:0])
	if len(h.goas) == 0 {
		if len(added) > 0 {
			r = r.Clone() // the caller may hold a copy of r
			r.AddAttrs(added...)
		}
		return next.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(h.nest(r)...)
	nr.AddAttrs(added...)
	return next.Handle(ctx, nr)
}

// invocationAttrs appends to dst the attributes of the invocation in ctx.
func (h *Handler) invocationAttrs(ctx context.Context, dst []slog.Attr) []slog.Attr {
	if ctx == nil {
		return dst
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc != nil {
		if lc.AwsRequestID != "" {
			dst = append(dst, slog.String(RequestIDKey, lc.AwsRequestID))
		}
		if h.functionName != "" {
			dst = append(dst, slog.String(FunctionNameKey, h.functionName))
		}
	}
	if cold, ok := ctx.Value(coldStartKey{}).(bool); ok {
		dst = append(dst, slog.Bool(ColdStartKey, cold))
	}
	if s, ok := trace.FromContext(ctx); ok {
		if s.TraceID != "" {
			dst = append(dst, slog.String(TraceIDKey, s.TraceID))
		}
		if s.SpanID != "" {
			dst = append(dst, slog.String(SpanIDKey, s.SpanID))
		}
	}
	return dst
}

// nest returns the attributes of r nested in h's groups, preceded in each
// group by the attributes added within it.
func (h *Handler) nest(r slog.Record) []slog.Attr {
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	for i := len(h.goas) - 1; i >= 0; i-- {
		g := h.goas[i]
		if g.group == "" {
			attrs = append(slices.Clip(g.attrs), attrs...)
			continue
		}
		if len(attrs) == 0 {
			continue // a group with no attributes is not output
		}
		attrs = []slog.Attr{{Key: g.group, Value: slog.GroupValue(attrs...)}}
	}
	return attrs
}

// WithAttrs returns a Handler whose records also have attrs, within the
// groups opened so far.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	if len(h.goas) == 0 {
		h2.next = h.next.WithAttrs(attrs)
		if h.hold != nil {
			h2.hold = h.hold.WithAttrs(attrs)
		}
	} else {
		h2.goas = append(slices.Clip(h.goas), groupOrAttrs{attrs: attrs})
	}
	return &h2
}

// WithGroup returns a Handler that puts the attributes added later, and
// those of its records, in the group name. The invocation attributes stay at
// the top level. If name is empty, WithGroup returns h.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.goas = append(slices.Clip(h.goas), groupOrAttrs{group: name})
	return &h2
}

// coldStartKey is the context key for the value given to WithColdStart.
type coldStartKey struct{}

// WithColdStart returns a copy of ctx that records whether the invocation is
// the first of its execution environment, for [Handler] to log as
// cold_start.
//
// A function usually knows this from a package-level flag set by its first
// invocation; as invocations may run concurrently, use an atomic.Bool:
//
//	var warm atomic.Bool
//	// in the handler:
//	ctx = logging.WithColdStart(ctx, !warm.Swap(true))
func WithColdStart(ctx context.Context, cold bool) context.Context {
	return context.WithValue(ctx, coldStartKey{}, cold)
}
