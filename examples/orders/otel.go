//go:build funcify.otel

package main

import (
	"context"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/otelspan"
)

// tracing returns the option that gives every invocation an OpenTelemetry
// span (package otelspan), exported over OTLP/HTTP to the collector that
// OTEL_EXPORTER_OTLP_ENDPOINT names (http://localhost:4318 without it: the
// AWS Distro for OpenTelemetry's Lambda layer listens there), and flushed
// before each answer leaves. Every invocation is recorded, whether or not
// X-Ray active tracing sampled it (Lambda sends Sampled=0 without it).
//
// OpenTelemetry reports the errors of an export (a collector down, or too
// slow for the flush's bound) to its global error handler, which would
// print them as plain text among the function's JSON lines: tracing sends
// them to log instead, at Warn.
//
// Built only with -tags funcify.otel: without the tag, notrace.go's
// tracing adds nothing and the binary links no OpenTelemetry.
func tracing(log *slog.Logger) []app.Option {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("spans not exported", slog.String("error", err.Error()))
	}))
	var opts []otlptracehttp.Option
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		// The exporter's own default is https://localhost:4318, which the
		// collector layer, listening in plain HTTP, would refuse.
		opts = append(opts, otlptracehttp.WithEndpointURL("http://localhost:4318/v1/traces"))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...) // connects on the first export, not here
	if err != nil {
		app.FailInit(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample(),
			sdktrace.WithRemoteParentNotSampled(sdktrace.AlwaysSample()))),
	)
	return []app.Option{app.WithObserver(otelspan.New(tp))}
}
