//go:build !funcify.otel

package main

import (
	"log/slog"

	"github.com/funcify/funcify/app"
)

// tracing returns no option: spans are built in with -tags funcify.otel
// (see otel.go), so that a function without them links no OpenTelemetry.
func tracing(*slog.Logger) []app.Option { return nil }
