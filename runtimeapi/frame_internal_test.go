package runtimeapi

import (
	"runtime"
	"testing"
)

// TestFramePath: a frame's path keeps as many trailing elements as its
// function's import path has, plus the file name, as aws-lambda-go's
// formatFrame does; a path with exactly as many slashes loses only its
// leading one (a checkout at /check/work/main once kept it whole), and a
// shorter path is kept whole.
func TestFramePath(t *testing.T) {
	const fn = "github.com/funcify/funcify/runtimeapi.panicWith"
	tests := []struct{ file, want string }{
		{"/home/u/go/src/github.com/funcify/funcify/runtimeapi/x.go", "github.com/funcify/funcify/runtimeapi/x.go"},
		{"/check/work/main/runtimeapi/x.go", "check/work/main/runtimeapi/x.go"},
		{"work/main/runtimeapi/x.go", "work/main/runtimeapi/x.go"},
		{"x.go", "x.go"},
	}
	for _, tt := range tests {
		got := frame(runtime.Frame{File: tt.file, Function: fn, Line: 7})
		if got.Path != tt.want || got.Label != "panicWith" || got.Line != 7 {
			t.Errorf("frame(%s) = %+v, want path %s, label panicWith, line 7", tt.file, got, tt.want)
		}
	}
}

type namedError struct{ name string }

func (e *namedError) Error() string     { return "named: " + e.name }
func (e *namedError) ErrorType() string { return e.name }

// TestFunctionErrorNamedType: an error with an ErrorType method is
// reported under the name it gives, or its Go type's when that is empty.
func TestFunctionErrorNamedType(t *testing.T) {
	if b := functionError(&namedError{"OutOfStock"}); b.Type != "OutOfStock" || b.Message != "named: OutOfStock" {
		t.Errorf("got %+v, want type OutOfStock", b)
	}
	if b := functionError(&namedError{""}); b.Type != "namedError" {
		t.Errorf("an empty ErrorType: got type %q, want namedError", b.Type)
	}
}
