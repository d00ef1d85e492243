package trace_test

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/trace"
)

var (
	traceIDPattern = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	spanIDPattern  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

func TestNewTraceID(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		wantTime string
	}{
		{"example from the X-Ray docs", time.Date(2016, 12, 1, 18, 0, 0, 0, time.UTC), "58406520"},
		{"epoch", time.Unix(0, 0), "00000000"},
		{"sub-second ignored", time.Unix(0x5759e988, 999_999_999), "5759e988"},
		{"last second of uint32", time.Unix(1<<32-1, 0), "ffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := trace.NewTraceID(tt.now)
			if !traceIDPattern.MatchString(got) {
				t.Fatalf("NewTraceID() = %q, want 1-<8 hex>-<24 hex>", got)
			}
			if got[2:10] != tt.wantTime {
				t.Errorf("NewTraceID() time part = %q, want %q", got[2:10], tt.wantTime)
			}
			if _, err := trace.ParseHeader("Root=" + got); err != nil {
				t.Errorf("ParseHeader(Root=%s) error: %v", got, err)
			}
		})
	}
}

func TestNewIDsAreUnique(t *testing.T) {
	now := time.Unix(0x5759e988, 0)
	traceIDs := make(map[string]bool)
	spanIDs := make(map[string]bool)
	for range 10000 {
		tid := trace.NewTraceID(now)
		if traceIDs[tid] {
			t.Fatalf("NewTraceID() repeated %q", tid)
		}
		traceIDs[tid] = true

		sid := trace.NewSpanID()
		if !spanIDPattern.MatchString(sid) {
			t.Fatalf("NewSpanID() = %q, want 16 lowercase hex digits", sid)
		}
		if sid == "0000000000000000" {
			t.Fatalf("NewSpanID() = %q, want not all zeros", sid)
		}
		if spanIDs[sid] {
			t.Fatalf("NewSpanID() repeated %q", sid)
		}
		spanIDs[sid] = true
	}
}

func TestNewIDsConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if id := trace.NewSpanID(); !spanIDPattern.MatchString(id) {
					t.Errorf("NewSpanID() = %q", id)
				}
				if id := trace.NewTraceID(time.Now()); !traceIDPattern.MatchString(id) {
					t.Errorf("NewTraceID() = %q", id)
				}
			}
		})
	}
	wg.Wait()
}

func TestIDAllocs(t *testing.T) {
	now := time.Now()
	if got := testing.AllocsPerRun(100, func() { _ = trace.NewSpanID() }); got != 1 {
		t.Errorf("NewSpanID allocs = %v, want 1 (the result)", got)
	}
	if got := testing.AllocsPerRun(100, func() { _ = trace.NewTraceID(now) }); got != 1 {
		t.Errorf("NewTraceID allocs = %v, want 1 (the result)", got)
	}
}

// lambdaContext returns ctx carrying the trace header as aws-lambda-go puts
// it there.
func lambdaContext(ctx context.Context, header string) context.Context {
	//nolint:staticcheck // SA1029: aws-lambda-go uses this plain string key.
	return context.WithValue(ctx, "x-amzn-trace-id", header)
}

func TestStart(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const (
		lambdaRoot   = "1-69a4297a-0123456789abcdef01234567"
		lambdaParent = "1111111111111111"
		httpRoot     = "1-69a4297a-fedcba9876543210fedcba98"
		httpParent   = "2222222222222222"
	)
	lambdaHeader := "Root=" + lambdaRoot + ";Parent=" + lambdaParent + ";Sampled=1;Lineage=abc:1"
	httpHeader := "Root=" + httpRoot + ";Parent=" + httpParent + ";Sampled=0"

	tests := []struct {
		name        string
		ctx         context.Context
		header      string
		wantTraceID string // empty: a new trace id
		wantParent  string
		wantSampled trace.Sampling
	}{
		{"lambda ctx wins", lambdaContext(context.Background(), lambdaHeader), httpHeader,
			lambdaRoot, lambdaParent, trace.SampledYes},
		{"lambda ctx without http header", lambdaContext(context.Background(), lambdaHeader), "",
			lambdaRoot, lambdaParent, trace.SampledYes},
		{"http header", context.Background(), httpHeader, httpRoot, httpParent, trace.SampledNo},
		{"empty lambda value falls back", lambdaContext(context.Background(), ""), httpHeader,
			httpRoot, httpParent, trace.SampledNo},
		{"malformed lambda value falls back", lambdaContext(context.Background(), "Root=junk"), httpHeader,
			httpRoot, httpParent, trace.SampledNo},
		{"non-string lambda value ignored", context.WithValue(context.Background(), struct{}{}, lambdaHeader), httpHeader,
			httpRoot, httpParent, trace.SampledNo},
		{"root without parent", context.Background(), "Root=" + httpRoot + ";Sampled=?",
			httpRoot, "", trace.SampledRequested},
		{"new root", context.Background(), "", "", "", trace.SampledUnknown},
		{"malformed http header gives new root", context.Background(), "Root=1-2-3", "", "", trace.SampledUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := trace.Start(tt.ctx, tt.header, now)
			wantTraceID := tt.wantTraceID
			if wantTraceID == "" {
				if !traceIDPattern.MatchString(got.TraceID) || got.TraceID[2:10] != fmt.Sprintf("%08x", now.Unix()) {
					t.Errorf("TraceID = %q, want a new trace id at %v", got.TraceID, now)
				}
				wantTraceID = got.TraceID
			}
			want := trace.Span{TraceID: wantTraceID, SpanID: got.SpanID, ParentID: tt.wantParent, Sampled: tt.wantSampled}
			if got != want {
				t.Errorf("Start() = %+v, want %+v", got, want)
			}
			if !spanIDPattern.MatchString(got.SpanID) || got.SpanID == tt.wantParent {
				t.Errorf("SpanID = %q, want a new span id", got.SpanID)
			}
		})
	}
}

func TestSpanHeader(t *testing.T) {
	s := trace.Span{TraceID: root, SpanID: parent, ParentID: "1111111111111111", Sampled: trace.SampledYes}
	got := s.Header()
	want := trace.Header{Root: root, Parent: parent, Sampled: trace.SampledYes}
	if got.Root != want.Root || got.Parent != want.Parent || got.Sampled != want.Sampled || got.Extra != nil {
		t.Errorf("Header() = %+v, want %+v", got, want)
	}
	if got, want := got.String(), "Root="+root+";Parent="+parent+";Sampled=1"; got != want {
		t.Errorf("Header().String() = %q, want %q", got, want)
	}

	// A downstream Start continues the trace with this span as the parent.
	child := trace.Start(context.Background(), s.Header().String(), time.Now())
	if child.TraceID != s.TraceID || child.ParentID != s.SpanID || child.Sampled != s.Sampled {
		t.Errorf("child of %+v = %+v", s, child)
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if got, ok := trace.FromContext(ctx); ok {
		t.Errorf("FromContext(empty) = %+v, true, want false", got)
	}
	s := trace.Span{TraceID: root, SpanID: parent, Sampled: trace.SampledNo}
	ctx = trace.NewContext(ctx, s)
	got, ok := trace.FromContext(ctx)
	if !ok || got != s {
		t.Errorf("FromContext() = %+v, %v, want %+v, true", got, ok, s)
	}
	// The Lambda header under its string key is not a Span.
	if got, ok := trace.FromContext(lambdaContext(context.Background(), "Root="+root)); ok {
		t.Errorf("FromContext(lambda ctx) = %+v, true, want false", got)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	in := "Root=" + root + ";Parent=" + parent + ";Sampled=1"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trace.ParseHeader(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseHeaderLineage(b *testing.B) {
	in := "Root=" + root + ";Parent=" + parent + ";Sampled=0;Lineage=a87bd80c:1|68fd508a:5"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trace.ParseHeader(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeaderString(b *testing.B) {
	h := trace.Header{Root: root, Parent: parent, Sampled: trace.SampledYes}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.String()
	}
}

func BenchmarkNewSpanID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = trace.NewSpanID()
	}
}

func BenchmarkNewTraceID(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_ = trace.NewTraceID(now)
	}
}

func BenchmarkStart(b *testing.B) {
	now := time.Now()
	b.Run("lambda", func(b *testing.B) {
		ctx := lambdaContext(context.Background(), "Root="+root+";Parent="+parent+";Sampled=1")
		b.ReportAllocs()
		for b.Loop() {
			_ = trace.Start(ctx, "", now)
		}
	})
	b.Run("new root", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			_ = trace.Start(ctx, "", now)
		}
	})
}
