// Package trace reads and writes AWS X-Ray trace headers and makes trace and
// span IDs, so that a Lambda function can tie its logs and downstream calls to
// the invocation's trace.
//
// # Headers
//
// X-Ray propagates a trace in a header such as
//
//	X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1
//
// [ParseHeader] reads one into a [Header] and [Header.String] writes it back.
//
// # Spans
//
// [Start] begins the span of an invocation: it continues the trace that the
// Lambda runtime passed in the ctx, or else the one in an HTTP request's
// header, or else starts a new trace. [NewContext] and [FromContext] carry the
// [Span] in a context, where [github.com/funcify/funcify/logging] finds it, and
// [Span.Header] gives the header to send downstream:
//
//	func serve(w http.ResponseWriter, r *http.Request) {
//		span := trace.Start(r.Context(), r.Header.Get("X-Amzn-Trace-Id"), time.Now())
//		ctx := trace.NewContext(r.Context(), span)
//
//		req, err := http.NewRequestWithContext(ctx, http.MethodGet, inventoryURL, nil)
//		// ...
//		req.Header.Set("X-Amzn-Trace-Id", span.Header().String())
//	}
//
// This package only propagates IDs; it does not send segments to X-Ray.
//
// All functions are safe for concurrent use. IDs come from math/rand/v2: they
// are unique with overwhelming probability but are not secrets.
package trace
