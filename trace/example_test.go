package trace_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funcify/funcify/trace"
)

func Example() {
	// In a Lambda handler, ctx is the invocation's context; here an HTTP
	// caller sent its trace header.
	ctx := context.Background()
	const incomingRoot = "1-5759e988-bd862e3fe1be46a994272793"
	incoming := "Root=" + incomingRoot + ";Parent=53995c3f42cd8ad8;Sampled=1"

	span := trace.Start(ctx, incoming, time.Now())
	ctx = trace.NewContext(ctx, span)

	// The span is in ctx for the rest of the invocation (the logging
	// package reads it there).
	current, _ := trace.FromContext(ctx)
	fmt.Println(current.ParentID, current.Sampled)

	// Downstream calls carry the same trace, with this span as their parent.
	out := current.Header()
	fmt.Println(out.Root == incomingRoot, out.Parent == current.SpanID)
	// Output:
	// 53995c3f42cd8ad8 yes
	// true true
}

func ExampleParseHeader() {
	h, err := trace.ParseHeader("Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8; Sampled=1; Lineage=a87bd80c:1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Root)
	fmt.Println(h.Parent)
	fmt.Println(h.Sampled)
	fmt.Println(h.Extra)
	// Output:
	// 1-5759e988-bd862e3fe1be46a994272793
	// 53995c3f42cd8ad8
	// yes
	// [{Lineage a87bd80c:1}]
}

func ExampleParseHeader_malformed() {
	_, err := trace.ParseHeader("Root=1-5759e988-bd862e3f;Sampled=1")
	fmt.Println(err)
	fmt.Println(errors.Is(err, trace.ErrMalformed))
	// Output:
	// trace: malformed header: Root "1-5759e988-bd862e3f" is not 1-<8 hex digits>-<24 hex digits>
	// true
}

func ExampleHeader_String() {
	h := trace.Header{
		Root:    "1-5759e988-bd862e3fe1be46a994272793",
		Parent:  "53995c3f42cd8ad8",
		Sampled: trace.SampledRequested,
	}
	fmt.Println(h)
	// Output: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?
}

func ExampleSampling_String() {
	fmt.Println(trace.SampledUnknown, trace.SampledYes, trace.SampledNo, trace.SampledRequested)
	// Output: unknown yes no requested
}

func ExampleNewTraceID() {
	id := trace.NewTraceID(time.Date(2016, 12, 1, 18, 0, 0, 0, time.UTC))
	fmt.Println(id[:11], len(id))
	// Output: 1-58406520- 35
}

func ExampleNewSpanID() {
	id := trace.NewSpanID()
	fmt.Println(len(id), id != "0000000000000000")
	// Output: 16 true
}

func ExampleStart() {
	// No trace in ctx and no header: Start begins a new trace.
	now := time.Date(2016, 12, 1, 18, 0, 0, 0, time.UTC)
	span := trace.Start(context.Background(), "", now)
	fmt.Println(span.TraceID[:10], span.ParentID == "", span.Sampled)
	// Output: 1-58406520 true unknown
}

func ExampleSpan_Header() {
	span := trace.Span{
		TraceID: "1-5759e988-bd862e3fe1be46a994272793",
		SpanID:  "70de5b6f19ff9a0a",
		Sampled: trace.SampledYes,
	}
	fmt.Println(span.Header())
	// Output: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=70de5b6f19ff9a0a;Sampled=1
}

func ExampleNewContext() {
	span := trace.Span{TraceID: "1-5759e988-bd862e3fe1be46a994272793", SpanID: "70de5b6f19ff9a0a"}
	ctx := trace.NewContext(context.Background(), span)

	got, ok := trace.FromContext(ctx)
	fmt.Println(got.SpanID, ok)
	// Output: 70de5b6f19ff9a0a true
}

func ExampleFromContext() {
	_, ok := trace.FromContext(context.Background())
	fmt.Println(ok)
	// Output: false
}
